/**
 * The row types a pipeline author writes flow through `fromCsv<T>`, `map`, `filter` and
 * `collect<T>` to `output`. The `Equal` asserts below are checked by `tsc` (`npm run typecheck`):
 * a change to these signatures that loses or widens a row type fails the type check. The same
 * pipelines also run, so the types describe what really arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, fromCsv, fromIterable, map, filter, collect, type PipelineResult, type Row } from 'spillway';
import type { BatchSource, BatchSink } from 'spillway/extend';
import { tempDir } from '../helpers.ts';

/** True when A and B are the same type (each assignable to the other, `any` not equal to anything else). */
type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
/** Compiles only for `true`. */
function expectType<T extends true>(): T | void {}

interface Trade {
  sym: string;
  price: number;
  qty: number;
}
interface Notional {
  sym: string;
  notional: number;
}

// fromCsv<T> carries T; without it a row is the untyped Row
expectType<Equal<ReturnType<typeof fromCsv<Trade>>, BatchSource<Trade>>>();
expectType<Equal<ReturnType<typeof fromCsv>, BatchSource<Row>>>();
expectType<Equal<Row, object>>();
// fromIterable infers the row type from its input
expectType<Equal<ReturnType<typeof fromIterable<Trade>>, BatchSource<Trade>>>();
// collect<T> gives T[]; collect() gives Row[]
expectType<Equal<ReturnType<typeof collect<Trade>>, BatchSink<Trade[]>>>();
expectType<Equal<ReturnType<typeof collect>, BatchSink<Row[]>>>();
// map's and filter's functions see the declared row; map's result type is its function's
type MapFn<I, O> = Parameters<typeof map<I, O>>[0];
expectType<Equal<Parameters<MapFn<Trade, Notional>>[0], Trade>>();
expectType<Equal<ReturnType<MapFn<Trade, Notional>>, Notional | Promise<Notional>>>();
expectType<Equal<Parameters<Parameters<typeof filter<Trade>>[0]>[0], Trade>>();
// undeclared, a row function sees a record of unknown values (not `any`)
map((row) => {
  expectType<Equal<typeof row, Record<string, unknown>>>();
  return row;
});
filter((row) => {
  expectType<Equal<typeof row, Record<string, unknown>>>();
  return true;
});

test('a typed pipeline: fromCsv<Trade> -> filter -> map -> collect<Notional>', async () => {
  const file = join(tempDir('spillway-types-'), 'trades.csv');
  writeFileSync(file, 'sym,price,qty\nA,10,2\nB,20,0\nC,5,4\n');
  const result = await pipeline(
    fromCsv<Trade>(file, { cast: true }),
    filter((row: Trade) => row.qty > 0),
    map((row: Trade): Notional => ({ sym: row.sym, notional: row.price * row.qty })),
    collect<Notional>(),
  );
  expectType<Equal<typeof result, PipelineResult<Notional[]>>>();
  expectType<Equal<typeof result.output, Notional[]>>();
  // the values are what the types say
  assert.deepEqual(result.output, [
    { sym: 'A', notional: 20 },
    { sym: 'C', notional: 20 },
  ]);
  for (const row of result.output) assert.equal(typeof row.notional, 'number');
});

test('an untyped pipeline: collect() yields Row[]', async () => {
  const { output } = await pipeline(
    fromIterable([{ a: 1 }, { a: 2 }]),
    map((row) => ({ b: (row.a as number) * 2 })),
    collect(),
  );
  expectType<Equal<typeof output, Row[]>>();
  assert.deepEqual(output, [{ b: 2 }, { b: 4 }]);
});
