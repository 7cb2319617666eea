/**
 * `npm run fuzz`: mutates every corpus file and small generated files, and reads each mutated
 * file with every matching reader in child processes with time and memory limits (see
 * `runner.ts`). Exits 1 when any read hangs, crashes, passes the memory limit, throws an error
 * that is not a coded SpillwayError naming the file, or gives wrong rows from a checksummed spill.
 *
 *   npm run fuzz -- --seed 42 --cases 5000 [--jobs 2] [--per-child 40] [--timeout-ms 15000]
 *                   [--rss-mb 512] [--heap-mb 256] [--corpus DIR] [--only 12,99 --keep DIR] [--no-generated]
 *
 * The corpus is ../shared/corpus beside the project (or `--corpus`, or SPILLWAY_CORPUS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS } from '../helpers.ts';
import { runFuzz } from './runner.ts';
import { corpusTargets, generatedTargets } from './targets.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    cases: { type: 'string', default: '2000' },
    jobs: { type: 'string', default: '2' },
    'per-child': { type: 'string', default: '40' },
    'timeout-ms': { type: 'string', default: '15000' },
    'rss-mb': { type: 'string', default: '512' },
    'heap-mb': { type: 'string', default: '256' },
    corpus: { type: 'string', default: process.env.SPILLWAY_CORPUS ?? CORPUS },
    only: { type: 'string' },
    keep: { type: 'string' },
    'no-generated': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const number = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} expects a non-negative integer, got ${String(values[name])}`);
  return n;
};

const work = mkdtempSync(join(tmpdir(), 'spillway-fuzz-'));
try {
  const targets = [...corpusTargets(values.corpus!), ...(values['no-generated'] ? [] : await generatedTargets(work))];
  const seed = number('seed');
  console.log(
    `spillway fuzz: seed ${seed}, ${number('cases')} cases over ${targets.length} targets (corpus: ${values.corpus})`,
  );
  const started = performance.now();
  const report = await runFuzz({
    targets,
    seed,
    cases: number('cases'),
    scratch: values.keep ?? join(work, 'cases'),
    keep: values.keep !== undefined,
    jobs: number('jobs'),
    perChild: number('per-child'),
    timeoutMs: number('timeout-ms'),
    rssLimitMb: number('rss-mb'),
    heapMb: number('heap-mb'),
    only: values.only?.split(',').map(Number),
    log: (line) => {
      if (values.verbose || line.startsWith('FAIL')) console.log(line);
    },
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${report.runs.length} reads in ${seconds} s: ${Object.entries(report.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (report.failures.length > 0) {
    console.log(
      `${report.failures.length} failures; replay one with --seed ${seed} --cases ${number('cases')} --only <case>`,
    );
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
