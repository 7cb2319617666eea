/**
 * The cost of `import('spillway')` before any work, and of `spillway --version`, each in a fresh
 * process: time of the import itself and the process's peak RSS, against bare node doing nothing.
 * Goal (issue 17 item 8): the import at most 100 ms and 15 MB over bare node; `--version` under
 * 150 ms.
 *
 * `npm run bench` runs the TypeScript sources through tsx, with no build step. So the figures are
 * taken both ways: through tsx (the `spillway-source` condition), against node with tsx loaded
 * and nothing imported; and, when `dist/` exists (`npm run build`), from the built JavaScript as
 * users get it, against bare node. The built figures are the ones the goal is about. Each figure
 * is the median of BENCH_IMPORT_RUNS (default 5) runs, cases interleaved.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { median, type BenchRow } from './common.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 5);
const exec = promisify(execFile);

/** The child: imports `target` (or nothing) and prints how long that took and its peak RSS. */
const PROBE = `const target = process.argv[2];
const started = performance.now();
const cpu = process.cpuUsage();
if (target) await import(target);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, maxRss: process.resourceUsage().maxRSS * 1024 }));
`;

interface Probe {
  /** Wall time of the import (or of the process, spawn to exit). */
  ms: number;
  /** CPU time of the import: less sensitive than wall time to other work on the machine. */
  cpuMs: number;
  maxRss: number;
}

interface Case {
  name: string;
  /** Measures one fresh process. */
  once: () => Promise<Probe>;
}

function probeCase(name: string, probe: string, nodeArgs: string[], target?: string): Case {
  return {
    name,
    once: async () => {
      const { stdout } = await exec(process.execPath, [...nodeArgs, probe, ...(target ? [target] : [])], {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as Probe;
    },
  };
}

/** `spillway --version` (or, without `bin`, node doing nothing) timed from spawn to exit: what a user waits for. */
function versionCase(name: string, nodeArgs: string[], bin?: string): Case {
  return {
    name,
    once: async () => {
      const started = performance.now();
      const { stdout } = await exec(
        process.execPath,
        bin ? [...nodeArgs, bin, '--version'] : [...nodeArgs, '-e', 'console.log("0.0.0")'],
        { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } },
      );
      const ms = performance.now() - started;
      if (!/^\d+\.\d+\.\d+/.test(stdout.trim()))
        throw new Error(`bench/import: --version printed ${JSON.stringify(stdout)}`);
      return { ms, cpuMs: 0, maxRss: 0 };
    },
  };
}

/** Each case's medians, the cases interleaved run by run. */
async function measure(cases: Case[]): Promise<Map<string, Probe>> {
  const seen = new Map<string, Probe[]>();
  for (let i = 0; i < RUNS; i++) {
    for (const c of [...cases.slice(i % cases.length), ...cases.slice(0, i % cases.length)]) {
      const list = seen.get(c.name) ?? [];
      list.push(await c.once());
      seen.set(c.name, list);
    }
  }
  return new Map(
    [...seen].map(([name, list]) => [
      name,
      {
        ms: median(list.map((p) => p.ms)),
        cpuMs: median(list.map((p) => p.cpuMs)),
        maxRss: median(list.map((p) => p.maxRss)),
      },
    ]),
  );
}

/** Runs the import benchmark. */
export async function run(): Promise<BenchRow[]> {
  const probe = join(tmpdir(), `spillway-import-probe-${process.pid}.mjs`);
  writeFileSync(probe, PROBE);
  const tsx = ['--conditions=spillway-source', '--import', 'tsx'];
  const built = join(ROOT, 'dist/index.js');
  const hasDist = existsSync(built) && existsSync(join(ROOT, 'dist/lib/cli/main.js'));
  const cases: Case[] = [
    probeCase('bare node', probe, []),
    versionCase('bare node, spawn to exit', []),
    probeCase('node + tsx, nothing imported', probe, tsx),
    probeCase('import spillway (tsx)', probe, tsx, pathToFileURL(join(ROOT, 'index.ts')).href),
    versionCase('spillway --version (tsx)', tsx, join(ROOT, 'lib/cli/main.ts')),
  ];
  if (hasDist) {
    cases.push(probeCase('import spillway (dist)', probe, [], pathToFileURL(built).href));
    cases.push(versionCase('spillway --version (dist)', [], join(ROOT, 'dist/lib/cli/main.js')));
  }
  let m: Map<string, Probe>;
  try {
    m = await measure(cases);
  } finally {
    rmSync(probe, { force: true });
  }
  const get = (name: string): Probe => m.get(name)!;
  const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
  const over = (name: string, base: string): string =>
    `import ${get(name).ms.toFixed(0)} ms (${get(name).cpuMs.toFixed(0)} ms CPU); peak RSS ${mb(get(name).maxRss)}, ${mb(get(name).maxRss - get(base).maxRss)} over ${base}`;
  const spawn = `bare node ${get('bare node, spawn to exit').ms.toFixed(0)} ms spawn to exit`;
  const rows: BenchRow[] = [
    { case: 'bare node', peakRss: get('bare node').maxRss, note: `peak RSS of a process that imports nothing` },
    {
      case: 'import spillway (tsx)',
      peakRss: get('import spillway (tsx)').maxRss,
      note: `${over('import spillway (tsx)', 'node + tsx, nothing imported')}; through tsx, so compile time included`,
    },
    {
      case: 'spillway --version (tsx)',
      note: `${get('spillway --version (tsx)').ms.toFixed(0)} ms spawn to exit, through tsx (${spawn})`,
    },
  ];
  if (hasDist) {
    const age = new Date(statSync(built).mtimeMs).toISOString().slice(0, 16);
    rows.push({
      case: 'import spillway (dist)',
      peakRss: get('import spillway (dist)').maxRss,
      note: `${over('import spillway (dist)', 'bare node')}; goal <= 100 ms and 15 MB over bare node (dist built ${age})`,
    });
    rows.push({
      case: 'spillway --version (dist)',
      note: `${get('spillway --version (dist)').ms.toFixed(0)} ms spawn to exit (${spawn}); goal < 150 ms`,
    });
  } else {
    rows.push({ case: 'import spillway (dist)', note: 'not measured: run `npm run build` first' });
  }
  return rows;
}
