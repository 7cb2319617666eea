/**
 * The parallel stage across processes on BullMQ/Redis against the local thread backend, in one
 * run on one machine: rows/s through 1 and 2 `spillway worker` processes (concurrency 1 each) and
 * through 1 and 2 worker threads, for a CPU-bound row function and for a trivial one (what the
 * network path costs per batch: payload keys, job, events, result key). Every case is checked
 * against the serial result. Needs redis-server on PATH (skipped otherwise); starts its own on a
 * free loopback port. Worker processes are warmed with one run first (a real deployment keeps
 * them running), the thread cases include starting their threads (a pipeline pays it).
 *
 * DIST_ROWS (default 12,000 CPU-bound rows, 250 a batch) and DIST_BATCHES (default 300 trivial
 * batches of 10 rows) override the sizes.
 */
import { availableParallelism, loadavg } from 'node:os';
import { median, timed, type BenchRow } from './common.ts';
import { pipeline } from '../lib/core/pipeline.ts';
import { fromIterable } from '../sources/fromIterable.ts';
import { parallel } from '../transforms/parallel.ts';
import type { ParallelStageOptions } from '../transforms/parallel.ts';
import { collect } from '../sinks/collect.ts';
import score, { type CpuRow } from './workloads/parallel-cpu.ts';
import { skipReason, startRedis, startWorker } from '../test/lib/workers/distributed/helpers.ts';
import type { WorkerProcess } from '../test/lib/workers/distributed/helpers.ts';

const MODULE = 'bench/workloads/parallel-cpu.ts';
const ROWS = Number(process.env.DIST_ROWS ?? 12_000);
const BATCHES = Number(process.env.DIST_BATCHES ?? 300);
const ITERATIONS = 4_000;
const RUNS = Math.min(Number(process.env.BENCH_RUNS ?? 3), 3);

function checksum(rows: { n: number; score: number }[]): number {
  let sum = 0;
  for (const r of rows) sum = (sum + r.score * 31 + r.n) % 1_000_000_007;
  return sum;
}

export async function run(): Promise<BenchRow[]> {
  if (skipReason) return [{ group: 'distributed', case: 'skipped', note: skipReason }];
  const cpuInput = (): CpuRow[] => Array.from({ length: ROWS }, (_, n) => ({ n, iterations: ITERATIONS }));
  const trivialInput = (): { n: number }[] => Array.from({ length: BATCHES * 10 }, (_, n) => ({ n }));
  const expected = checksum(cpuInput().map(score));
  const cpu = async (name: string, options: ParallelStageOptions): Promise<number> => {
    const { ms, result } = await timed(() =>
      pipeline(
        fromIterable(cpuInput(), { batchSize: 250 }),
        parallel(MODULE, options),
        collect<{ n: number; score: number }>(),
        { governor: false },
      ),
    );
    if (result.output.length !== ROWS || checksum(result.output) !== expected)
      throw new Error(`bench distributed: ${name} gave a different result`);
    return ms;
  };
  const trivial = async (name: string, options: ParallelStageOptions): Promise<number> => {
    const input = trivialInput();
    const { ms, result } = await timed(() =>
      pipeline(
        fromIterable(input, { batchSize: 10 }),
        parallel(MODULE, { ...options, export: 'noop' }),
        collect<{ n: number }>(),
        { governor: false },
      ),
    );
    if (result.output.length !== input.length || result.output.some((r, i) => r.n !== i))
      throw new Error(`bench distributed: ${name} gave a different result`);
    return ms;
  };
  const times: Record<string, number[]> = {};
  const measure = async (name: string, fn: () => Promise<number>): Promise<void> => {
    for (let i = 0; i < RUNS; i++) (times[name] ??= []).push(await fn());
  };

  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  try {
    const bullmq: ParallelStageOptions = {
      backend: { type: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue: 'bench' },
      window: 8,
    };
    for (const count of [1, 2]) {
      const worker = startWorker(['--redis', redis.url, '--queue', 'bench', '--module', MODULE, '--concurrency', '1']);
      workers.push(worker);
      await worker.ready;
      // warm: every worker process starts its thread for both exports
      await cpu('warm-up', bullmq);
      await trivial('warm-up', bullmq);
      await measure(`cpu redis ${count}`, () => cpu(`${count} worker process(es)`, bullmq));
      await measure(`trivial redis ${count}`, () => trivial(`${count} worker process(es)`, bullmq));
      await measure(`cpu threads ${count}`, () => cpu(`${count} thread(s)`, { workers: count }));
      await measure(`trivial threads ${count}`, () => trivial(`${count} thread(s)`, { workers: count }));
    }
  } finally {
    for (const w of workers) w.process.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await redis.stop();
  }
  const m = (name: string): number => median(times[name] ?? [NaN]);
  const load = `load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores`;
  const rows: BenchRow[] = [];
  for (const count of [1, 2]) {
    const threadsCpu = m(`cpu threads ${count}`);
    const threadsTrivial = m(`trivial threads ${count}`);
    rows.push(
      {
        group: 'distributed',
        case: `CPU-bound rows, ${count} worker thread(s)`,
        rowsPerSec: ROWS / (threadsCpu / 1000),
        ratio: 1,
        note: 'baseline; includes thread start',
      },
      {
        group: 'distributed',
        case: `CPU-bound rows, ${count} spillway worker process(es) on Redis`,
        rowsPerSec: ROWS / (m(`cpu redis ${count}`) / 1000),
        ratio: threadsCpu / m(`cpu redis ${count}`),
        note: `ratio vs threads; ${ROWS / 250} batches of 250; ${load}`,
      },
      {
        group: 'distributed',
        case: `trivial rows, ${count} worker thread(s)`,
        rowsPerSec: (BATCHES * 10) / (threadsTrivial / 1000),
        ratio: 1,
        note: `${((threadsTrivial * 1000) / BATCHES).toFixed(0)} µs/batch`,
      },
      {
        group: 'distributed',
        case: `trivial rows, ${count} spillway worker process(es) on Redis`,
        rowsPerSec: (BATCHES * 10) / (m(`trivial redis ${count}`) / 1000),
        ratio: threadsTrivial / m(`trivial redis ${count}`),
        note: `${((m(`trivial redis ${count}`) * 1000) / BATCHES).toFixed(0)} µs/batch (window 8); ratio vs threads`,
      },
    );
  }
  return rows;
}

// `node --import tsx bench/distributed.ts` prints the rows
if (process.argv[1]?.endsWith('distributed.ts')) {
  for (const row of await run()) console.log(JSON.stringify(row));
}
