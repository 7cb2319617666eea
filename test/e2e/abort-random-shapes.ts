/**
 * The pipeline shapes the abort-at-random-points suite (abort-random.test.ts) cancels: small
 * generated inputs, and per shape the stages, the final output path and how to tell a complete
 * output from a partial one (an abort that lands after the run finished must leave the whole
 * output, never a part of it).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineStage } from '../../lib/core/pipeline.ts';
import type { Row } from '../../lib/core/batch.ts';
import type { Spilled } from '../../lib/formats/spill/spilled.ts';
import { count, sum } from '../../lib/operators/aggregates.ts';
import { fromCsv } from '../../sources/fromCsv.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { distinct } from '../../transforms/distinct.ts';
import { filter } from '../../transforms/filter.ts';
import { groupBy } from '../../transforms/groupBy.ts';
import { join as joinStage } from '../../transforms/join.ts';
import { map } from '../../transforms/map.ts';
import { parallel } from '../../transforms/parallel.ts';
import { sort } from '../../transforms/sort.ts';
import { collect } from '../../sinks/collect.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { toCsv } from '../../sinks/toCsv.ts';
import { toJsonl } from '../../sinks/toJsonl.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { toSpill } from '../../sinks/toSpill.ts';
import { runnableUrl } from '../helpers.ts';

/** Rows of the generated input, and rows a batch. */
export const ROWS = 12_000;
export const BATCH = 500;
/** Batches every source yields. */
export const BATCHES = ROWS / BATCH;
const KEYS = 3000;

const MODULE = runnableUrl('test/fixtures/parallel/worker.ts');
/** The same module as `spillway worker --module` takes it, relative to the project root. */
export const DISTRIBUTED_MODULE = 'test/fixtures/parallel/worker.ts';

/** The generated input files (written once per test file). */
export interface Inputs {
  csv: string;
  parquet: string;
  right: string;
}

/** One shape, built for one case: its stages (without the probe), where its output goes, how it is checked. */
export interface BuiltShape {
  /** The source, then the stages after the probe, sink last. */
  source: PipelineStage;
  rest: PipelineStage[];
  /** The output's final path, when the sink writes a file. */
  finalPath: string | undefined;
  /** Rows a complete output holds, and the rows this output holds. */
  expected: number;
  rowsOf(output: unknown): number;
  /** Releases a complete output (a spill directory). */
  release?(output: unknown): Promise<void>;
}

/** A pipeline shape: a name and a builder writing into `out`. */
export interface Shape {
  name: string;
  build(inputs: Inputs, out: string): BuiltShape;
}

interface InputRow extends Row {
  n: number;
  key: string;
  v: number;
  s: string;
}

function row(n: number): InputRow {
  return { n, key: `k${n % KEYS}`, v: (n * 7919) % 10_007, s: `text-${'x'.repeat(16)}-${n}` };
}

/** Writes in.csv (`rows` rows), right.csv (one label a key); in.parquet is written by the caller through toParquet. */
export function writeCsvInputs(dir: string, rows = ROWS): Inputs {
  const csv = join(dir, 'in.csv');
  const lines = ['n,key,v,s'];
  for (let n = 0; n < rows; n++) {
    const r = row(n);
    lines.push(`${r.n},${r.key},${r.v},${r.s}`);
  }
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const right = join(dir, 'right.csv');
  const labels = ['key,label'];
  for (let k = 0; k < KEYS; k++) labels.push(`k${k},label-${k}`);
  writeFileSync(right, `${labels.join('\n')}\n`);
  return { csv, parquet: join(dir, 'in.parquet'), right };
}

const csvSource = (inputs: Inputs): PipelineStage => fromCsv(inputs.csv, { cast: true, batchSize: BATCH });
const fileRows = (output: unknown): number => (output as { rows: number }).rows;
const arrayRows = (output: unknown): number => (output as unknown[]).length;
const evenRows = Array.from({ length: ROWS }, (_, n) => row(n)).filter((r) => r.v % 2 === 0).length;

/**
 * The same over BullMQ: a `spillway worker` started by the test takes the batches from queue
 * `queue` on the Redis at `port()` (known once the test's before() started it).
 */
export function distributedShape(port: () => number, queue: string): Shape {
  return {
    name: 'fromCsv -> parallel(bullmq) -> toCsv',
    build: (inputs, out) => {
      const finalPath = join(out, 'out.csv');
      const backend = { type: 'bullmq' as const, connection: { host: '127.0.0.1', port: port() }, queue };
      return {
        source: csvSource(inputs),
        // named as the worker was started (test/lib/workers/distributed/bullmq.test.ts does the same)
        rest: [parallel(DISTRIBUTED_MODULE, { backend }), toCsv(finalPath)],
        finalPath,
        expected: ROWS,
        rowsOf: fileRows,
      };
    },
  };
}

function parallelShape(isolation: 'thread' | 'process'): Shape {
  return {
    name: `fromCsv -> parallel(${isolation}) -> toCsv`,
    build: (inputs, out) => {
      const finalPath = join(out, 'out.csv');
      return {
        source: csvSource(inputs),
        rest: [parallel(MODULE, { workers: 2, isolation }), toCsv(finalPath)],
        finalPath,
        expected: ROWS,
        rowsOf: fileRows,
      };
    },
  };
}

/** Every shape the suite cancels. */
export const SHAPES: readonly Shape[] = [
  {
    name: 'fromCsv -> map -> toParquet',
    build: (inputs, out) => {
      const finalPath = join(out, 'out.parquet');
      const double = map((r: { v: number }) => ({ ...r, w: r.v * 2 }));
      const rest = [double, toParquet(finalPath, { rowGroupSize: 2000 })];
      return { source: csvSource(inputs), rest, finalPath, expected: ROWS, rowsOf: fileRows };
    },
  },
  {
    name: 'fromParquet -> filter -> toCsv',
    build: (inputs, out) => {
      const finalPath = join(out, 'out.csv');
      const even = filter((r: { v: number }) => r.v % 2 === 0);
      const source = fromParquet(inputs.parquet, { batchSize: BATCH });
      return { source, rest: [even, toCsv(finalPath)], finalPath, expected: evenRows, rowsOf: fileRows };
    },
  },
  {
    // a write opens up to 16 partition files one after another: an abort lands inside it
    name: 'fromCsv -> map -> toParquet partitioned',
    build: (inputs, out) => {
      const finalPath = join(out, 'tree');
      const bucket = map((r: { v: number }) => ({ ...r, b: r.v % 16 }));
      const rest = [bucket, toParquet(finalPath, { partitionBy: ['b'] })];
      return { source: csvSource(inputs), rest, finalPath, expected: ROWS, rowsOf: fileRows };
    },
  },
  {
    name: 'fromCsv -> toArrow',
    build: (inputs, out) => {
      const finalPath = join(out, 'out.arrow');
      return { source: csvSource(inputs), rest: [toArrow(finalPath)], finalPath, expected: ROWS, rowsOf: fileRows };
    },
  },
  {
    name: 'fromIterable -> toSpill (spilling)',
    build: () => ({
      source: fromIterable(
        (function* () {
          for (let n = 0; n < ROWS; n++) yield row(n);
        })(),
        { batchSize: BATCH },
      ),
      rest: [toSpill({ budget: 64_000 })],
      finalPath: undefined,
      expected: ROWS,
      rowsOf: (output) => (output as Spilled).numRows,
      release: (output) => (output as Spilled).dispose(),
    }),
  },
  {
    name: 'fromCsv -> sort (spilling runs) -> toParquet',
    build: (inputs, out) => {
      const finalPath = join(out, 'sorted.parquet');
      const rest = [sort('v', { budget: 60_000 }), toParquet(finalPath, { rowGroupSize: 2000 })];
      return { source: csvSource(inputs), rest, finalPath, expected: ROWS, rowsOf: fileRows };
    },
  },
  {
    name: 'fromCsv -> groupBy (spilling) -> collect',
    build: (inputs) => ({
      source: csvSource(inputs),
      rest: [groupBy('key', { n: count(), t: sum('v') }, { budget: 40_000 }), collect()],
      finalPath: undefined,
      expected: KEYS,
      rowsOf: arrayRows,
    }),
  },
  {
    name: 'fromParquet -> distinct (spilling) -> toJsonl',
    build: (inputs, out) => {
      const finalPath = join(out, 'keys.jsonl');
      const rest = [distinct(['key'], { budget: 40_000 }), toJsonl(finalPath)];
      const source = fromParquet(inputs.parquet, { batchSize: BATCH });
      return { source, rest, finalPath, expected: KEYS, rowsOf: fileRows };
    },
  },
  parallelShape('thread'),
  parallelShape('process'),
  {
    name: 'fromCsv -> join (spilling build side) -> collect',
    build: (inputs) => ({
      source: csvSource(inputs),
      rest: [joinStage(fromCsv(inputs.right, { batchSize: BATCH }), { on: 'key', budget: 300_000 }), collect()],
      finalPath: undefined,
      expected: ROWS,
      rowsOf: arrayRows,
    }),
  },
];
