/**
 * Two-phase groupBy: `partialGroups` on 2 parallel() worker threads then `mergeGroups`, against
 * one `groupBy` on the main thread, over the bench CSV (`fromCsv({ cast: true })`, 500 symbols),
 * each run in a fresh process from the compiled package (bench/workload.ts), cases interleaved;
 * each checks its groups (symbol, count, volume, digest) and row count against the one groupBy's.
 * With built-in aggregates only, and with a user-defined aggregate that works per row (what two
 * phases are for). TWO_PHASE_ROWS (default 1,000,000) sets the size.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { BENCH_RUNS, benchCsv, median, type BenchRow } from './common.ts';
import { workloadArgs, workloadRuntime } from './workload.ts';

const ROWS = Number(process.env.TWO_PHASE_ROWS ?? 1_000_000);
const CASES = [
  ['light', 'one'],
  ['light', 'two'],
  ['heavy', 'one'],
  ['heavy', 'two'],
] as const;

async function runCase(
  which: string,
  mode: string,
  csv: string,
): Promise<{ ms: number; rows: number; summary: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    workloadArgs('two-phase-case.ts', [which, mode, csv]),
    { maxBuffer: 1 << 22 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

export async function run(): Promise<BenchRow[]> {
  const { path } = await benchCsv(ROWS);
  const times: Record<string, number[]> = {};
  const expected: Record<string, string> = {};
  for (let r = 0; r < BENCH_RUNS; r++) {
    const order = [...CASES.slice(r % CASES.length), ...CASES.slice(0, r % CASES.length)];
    for (const [which, mode] of order) {
      const result = await runCase(which, mode, path);
      if (result.rows !== ROWS)
        throw new Error(`bench two-phase: ${which} ${mode} counted ${result.rows} rows of ${ROWS}`);
      expected[which] ??= result.summary;
      if (result.summary !== expected[which]) throw new Error(`bench two-phase: ${which} ${mode} differs`);
      (times[`${which} ${mode}`] ??= []).push(result.ms);
    }
  }
  const ms = (key: string): number => median(times[key] ?? [NaN]);
  const load = `load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores`;
  const row = (name: string, key: string, base: string, note: string): BenchRow => ({
    group: 'two-phase',
    case: name,
    rowsPerSec: ROWS / (ms(key) / 1000),
    ratio: ms(base) / ms(key),
    note,
  });
  return [
    row('groupBy(symbol; count, sum, mean), one stage', 'light one', 'light one', `baseline; ${workloadRuntime()}`),
    row(
      'partialGroups on 2 workers + mergeGroups, same aggregates',
      'light two',
      'light one',
      `ratio vs one groupBy; ${load}`,
    ),
    row('groupBy with a user-defined aggregate (200 hash rounds a row)', 'heavy one', 'heavy one', 'baseline'),
    row(
      'partialGroups on 2 workers + mergeGroups, same aggregates',
      'heavy two',
      'heavy one',
      'ratio vs one groupBy; the main thread parses the CSV on one of the cores',
    ),
  ];
}
