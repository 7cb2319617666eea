/**
 * The parallel stage: throughput of a CPU-bound row function serially, in 1 and 2 worker threads,
 * and in 2 bare `worker_threads` running the same loop with no library (this machine's ceiling),
 * measured side by side in one run, each case checked against the serial result (goal: 2 workers
 * at >= 0.9 of the bare threads' speed-up, i.e. bare time / parallel time >= 0.9); then the per-task cost with trivial work, WorkerPool against
 * piscina, same thread count and same number of tasks in flight. Times include starting the
 * workers (a pipeline pays it). Prints nothing; returns rows for bench/run.ts.
 *
 * PARALLEL_ROWS (default 48,000 rows of ~4,000 iterations each) and PARALLEL_TASKS (default
 * 5,000 trivial tasks) override the sizes.
 */
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { interleaved, timed, type BenchRow } from './common.ts';
import { pipeline } from '../lib/core/pipeline.ts';
import { fromIterable } from '../sources/fromIterable.ts';
import { map } from '../transforms/map.ts';
import { parallel } from '../transforms/parallel.ts';
import { collect } from '../sinks/collect.ts';
import { WorkerPool } from '../lib/workers/pool/worker-pool.ts';
import score, { type CpuRow } from './workloads/parallel-cpu.ts';

// plain JavaScript like the bare threads (and like a user of the built package); the TypeScript
// copy measures what tsx in each worker adds
const CPU_MODULE = new URL('./workloads/parallel-cpu.mjs', import.meta.url);
const CPU_MODULE_TS = new URL('./workloads/parallel-cpu.ts', import.meta.url);
const NOOP_MODULE = new URL('./workloads/noop.mjs', import.meta.url);
const ROWS = Number(process.env.PARALLEL_ROWS ?? 48_000);
const TASKS = Number(process.env.PARALLEL_TASKS ?? 5_000);
const ITERATIONS = 4_000;
const BATCH_SIZE = 250;

function checksum(rows: { n: number; score: number }[]): number {
  let sum = 0;
  for (const r of rows) sum = (sum + r.score * 31 + r.n) % 1_000_000_007;
  return sum;
}

/** Keeps `inFlight` tasks running until `tasks` have run. */
async function drive(tasks: number, inFlight: number, runOne: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks) await runOne(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

// The bare ceiling: the same loop, plain JavaScript, one message in and one out per thread.
const BARE_THREAD = `
const { parentPort } = require('node:worker_threads');
const score = ${score.toString()};
parentPort.once('message', (rows) => parentPort.postMessage(rows.map(score)));
`;

/** `threads` bare worker threads, each scoring a contiguous share of the rows; start-up included. */
async function bareThreads(rows: CpuRow[], threads: number): Promise<{ n: number; score: number }[]> {
  const share = Math.ceil(rows.length / threads);
  const parts = await Promise.all(
    Array.from(
      { length: threads },
      (_, t) =>
        new Promise<{ n: number; score: number }[]>((resolve, reject) => {
          const worker = new Worker(BARE_THREAD, { eval: true });
          worker.once('message', (out: { n: number; score: number }[]) => {
            resolve(out);
            void worker.terminate();
          });
          worker.once('error', reject);
          worker.postMessage(rows.slice(t * share, (t + 1) * share));
        }),
    ),
  );
  return parts.flat();
}

export async function run(): Promise<BenchRow[]> {
  const input = (): CpuRow[] => Array.from({ length: ROWS }, (_, n) => ({ n, iterations: ITERATIONS }));
  const expected = checksum(input().map(score));
  const results: Record<string, number> = {};
  const check = (name: string, rows: { n: number; score: number }[]): void => {
    const sum = checksum(rows);
    if (rows.length !== ROWS || sum !== expected)
      throw new Error(
        `bench parallel: ${name} gave a different result (${rows.length} rows, checksum ${sum} != ${expected})`,
      );
    results[name] = sum;
  };
  const cpu = await interleaved({
    serial: async () =>
      check(
        'serial',
        (
          await pipeline(
            fromIterable(input(), { batchSize: BATCH_SIZE }),
            map(score),
            collect<{ n: number; score: number }>(),
            { governor: false },
          )
        ).output,
      ),
    '1 worker': async () =>
      check(
        '1 worker',
        (
          await pipeline(
            fromIterable(input(), { batchSize: BATCH_SIZE }),
            parallel(CPU_MODULE, { workers: 1 }),
            collect<{ n: number; score: number }>(),
            { governor: false },
          )
        ).output,
      ),
    '2 workers': async () =>
      check(
        '2 workers',
        (
          await pipeline(
            fromIterable(input(), { batchSize: BATCH_SIZE }),
            parallel(CPU_MODULE, { workers: 2 }),
            collect<{ n: number; score: number }>(),
            { governor: false },
          )
        ).output,
      ),
    '2 workers, TS module': async () =>
      check(
        '2 workers, TS module',
        (
          await pipeline(
            fromIterable(input(), { batchSize: BATCH_SIZE }),
            parallel(CPU_MODULE_TS, { workers: 2 }),
            collect<{ n: number; score: number }>(),
            { governor: false },
          )
        ).output,
      ),
    'bare 2 threads': async () => check('bare 2 threads', await bareThreads(input(), 2)),
  });

  // per-task overhead: trivial work, 2 threads, 4 tasks in flight, start-up excluded (warm pools)
  const pool = new WorkerPool(NOOP_MODULE, { workers: 2 });
  const piscina = new Piscina({ filename: NOOP_MODULE.href, minThreads: 2, maxThreads: 2 });
  let poolMs: number;
  let piscinaMs: number;
  try {
    await pool.start();
    await drive(200, 4, (i) => pool.run(i, [{ i }])); // warm-up
    await drive(200, 4, (i) => piscina.run({ i }));
    const overhead = await interleaved({
      WorkerPool: () => drive(TASKS, 4, (i) => pool.run(i, [{ i }])),
      piscina: () => drive(TASKS, 4, (i) => piscina.run({ i })),
    });
    poolMs = overhead.WorkerPool ?? NaN;
    piscinaMs = overhead.piscina ?? NaN;
  } finally {
    await pool.close();
    await piscina.destroy();
  }
  // the stage end to end with one row per batch: what a pipeline adds to the pool's cost
  const stage = await timed(() =>
    pipeline(
      fromIterable(
        Array.from({ length: TASKS }, (_, i) => ({ i })),
        { batchSize: 1 },
      ),
      parallel(NOOP_MODULE, { workers: 2 }),
      collect(),
      { governor: false },
    ),
  );
  if (stage.result.output.length !== TASKS) throw new Error('bench parallel: the stage lost tasks');

  const serialMs = cpu.serial ?? NaN;
  // a shared machine caps the speed-up: say how busy it was
  const load = `load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores`;
  const perSec = (ms: number | undefined): number => (ms === undefined ? NaN : ROWS / (ms / 1000));
  const us = (ms: number): string => `${((ms * 1000) / TASKS).toFixed(1)} µs/task`;
  return [
    {
      group: 'parallel',
      case: `CPU-bound rows, serial pipeline (${ITERATIONS} iterations/row)`,
      rowsPerSec: perSec(cpu.serial),
      ratio: 1,
      note: 'baseline',
    },
    {
      group: 'parallel',
      case: 'CPU-bound rows, parallel 1 worker',
      rowsPerSec: perSec(cpu['1 worker']),
      ratio: serialMs / (cpu['1 worker'] ?? NaN),
      note: 'ratio vs serial; includes worker start',
    },
    {
      group: 'parallel',
      case: 'CPU-bound rows, parallel 2 workers',
      rowsPerSec: perSec(cpu['2 workers']),
      ratio: serialMs / (cpu['2 workers'] ?? NaN),
      note: `ratio vs serial; goal >= 1.8 on 2 idle cores; ${load}`,
    },
    {
      group: 'parallel',
      case: 'CPU-bound rows, parallel 2 workers, TypeScript module',
      rowsPerSec: perSec(cpu['2 workers, TS module']),
      ratio: serialMs / (cpu['2 workers, TS module'] ?? NaN),
      note: 'ratio vs serial; tsx loaded in each worker',
    },
    {
      group: 'parallel',
      case: 'CPU-bound rows, 2 bare worker_threads (no library)',
      rowsPerSec: perSec(cpu['bare 2 threads']),
      ratio: serialMs / (cpu['bare 2 threads'] ?? NaN),
      note: "ratio vs serial: the machine's ceiling",
    },
    {
      group: 'parallel',
      case: 'parallel 2 workers vs bare threads',
      ratio: (cpu['bare 2 threads'] ?? NaN) / (cpu['2 workers'] ?? NaN),
      note: 'bare time / parallel time = parallel speed-up / bare speed-up; goal >= 0.9',
    },
    {
      group: 'parallel',
      case: 'trivial task, WorkerPool (2 threads, 4 in flight)',
      rowsPerSec: TASKS / (poolMs / 1000),
      ratio: piscinaMs / poolMs,
      note: `${us(poolMs)}; ratio = piscina time / ours`,
    },
    {
      group: 'parallel',
      case: 'trivial task, piscina (2 threads, 4 in flight)',
      rowsPerSec: TASKS / (piscinaMs / 1000),
      ratio: 1,
      note: us(piscinaMs),
    },
    {
      group: 'parallel',
      case: 'trivial task, parallel stage, 1 row per batch',
      rowsPerSec: TASKS / (stage.ms / 1000),
      note: `${us(stage.ms)} incl. worker start and pipeline`,
    },
  ];
}
