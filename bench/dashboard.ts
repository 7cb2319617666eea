/**
 * The cost of the live dashboard: the CSV bench pipeline with the dashboard off, on with no page
 * open, and on with a page's event stream connected (curl in another process, as a browser
 * would be), measured interleaved in one run. Goal: under 2% of throughput. Beside wall time
 * (noisy on a shared machine) it reports this process's CPU time per case, which other
 * processes' load disturbs much less.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { pipeline, fromCsv, map, drain, MemoryGovernor } from 'spillway';
import { BENCH_RUNS, benchCsv, median, type BenchRow } from './common.ts';
import { dashboardBusyMs } from '../lib/observe/dashboard/dashboard.ts';

const hasCurl = spawnSync('curl', ['--version']).status === 0;

async function runOnce(path: string, governor: MemoryGovernor, dashboard: 'off' | 'on' | 'watched'): Promise<number> {
  let watcher: ChildProcess | undefined;
  const stream = {
    write(line: string): boolean {
      const url = /dashboard: (http\S+)/.exec(line)?.[1];
      // a page watching: the event stream read by another process, figures and charts drawn
      if (url && dashboard === 'watched')
        watcher = spawn('curl', ['-sN', url.replace('/?token=', '/events?token=')], { stdio: 'ignore' });
      return true;
    },
  };
  try {
    const { stats } = await pipeline(
      fromCsv(path),
      map((row) => row),
      drain(),
      dashboard === 'off' ? { governor } : { governor, dashboard: { stream } },
    );
    return stats.rowsOut;
  } finally {
    watcher?.kill();
  }
}

/** The bench rows: dashboard off, on, and on with a page connected. */
export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv();
  const governor = new MemoryGovernor();
  const cases: Record<string, () => Promise<unknown>> = {
    off: () => runOnce(data.path, governor, 'off'),
    on: () => runOnce(data.path, governor, 'on'),
  };
  if (hasCurl) cases.watched = () => runOnce(data.path, governor, 'watched');
  // interleaved as common.ts does, timing CPU as well as wall
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const busy: Record<string, number[]> = {};
  for (let i = 0; i < BENCH_RUNS; i++) {
    for (const [name, fn] of Object.entries(cases)) {
      (globalThis as { gc?: () => void }).gc?.();
      const cpuStart = process.cpuUsage();
      const started = performance.now();
      const busyBefore = dashboardBusyMs();
      await fn();
      (busy[name] ??= []).push(dashboardBusyMs() - busyBefore);
      (wall[name] ??= []).push(performance.now() - started);
      const used = process.cpuUsage(cpuStart);
      (cpu[name] ??= []).push((used.user + used.system) / 1000);
    }
  }
  governor.close();
  const ms = Object.fromEntries(Object.entries(wall).map(([name, values]) => [name, median(values)]));
  const cpuMs = Object.fromEntries(Object.entries(cpu).map(([name, values]) => [name, median(values)]));
  const rate = (name: string): number => data.rows / ((ms[name] as number) / 1000);
  const row = (label: string, name: string, note: string): BenchRow => ({
    group: 'dashboard',
    case: label,
    rowsPerSec: rate(name),
    mbPerSec: data.bytes / 1e6 / ((ms[name] as number) / 1000),
    ratio: rate(name) / rate('off'),
    note: `${note}; CPU ${Math.round(cpuMs[name] as number)} ms (${(((cpuMs[name] as number) / (cpuMs.off as number) - 1) * 100).toFixed(1)}% vs off); dashboard's own work ${median(busy[name] ?? [0]).toFixed(1)} ms = ${((median(busy[name] ?? [0]) / (ms[name] as number)) * 100).toFixed(2)}% of the run`,
  });
  const rows = [
    row('pipeline(fromCsv, map, drain), dashboard off', 'off', 'baseline'),
    row('same, dashboard on, no page open', 'on', 'goal: ratio >= 0.98'),
  ];
  if (hasCurl)
    rows.push(row('same, dashboard on, a page connected', 'watched', 'event stream read by curl; goal >= 0.98'));
  return rows;
}
