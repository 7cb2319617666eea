/** Misspelled options fail with the closest known name instead of running with the defaults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  collect,
  fromCsv,
  fromIterable,
  fromParquet,
  map,
  pipeline,
  toParquet,
  toSpill,
  parallel,
  MemoryGovernor,
} from '../../../index.ts';

const cases: [string, () => unknown, string][] = [
  ['fromIterable batchsize', () => fromIterable([], { batchsize: 10 } as never), 'batchSize'],
  ['fromCsv batchsize', () => fromCsv('x.csv', { batchsize: 10 } as never), 'batchSize'],
  ['fromCsv batch_size', () => fromCsv('x.csv', { batch_size: 10 } as never), 'batchSize'],
  ['fromParquet batchsize', () => fromParquet('x.parquet', { batchsize: 10 } as never), 'batchSize'],
  ['toParquet rowGroupsize', () => toParquet('x.parquet', { rowGroupsize: 10 } as never), 'rowGroupSize'],
  ['map concurency', () => map((r: object) => r, { concurency: 4 } as never), 'concurrency'],
  ['toSpill budjet', () => toSpill({ budjet: '1MB' } as never), 'budget'],
  ['parallel worker', () => parallel(new URL('file:///nonexistent.mjs'), { worker: 2 } as never), 'workers'],
  ['MemoryGovernor limt', () => new MemoryGovernor({ limt: '1GB' } as never), 'limit'],
];

for (const [name, make, suggestion] of cases) {
  test(`unknown option: ${name} names the closest known one`, () => {
    assert.throws(make, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_SPILLWAY_INVALID_OPTION');
      assert.match(error.message, new RegExp(`did you mean \`${suggestion}\``));
      return true;
    });
  });
}

test('pipeline() rejects an unknown option before any stage runs', async () => {
  await assert.rejects(
    pipeline(fromIterable([{ a: 1 }]), collect(), { progres: true } as never),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_SPILLWAY_INVALID_OPTION');
      assert.match(error.message, /did you mean `progress`/);
      return true;
    },
  );
});

test('a key far from every known option is still refused, without a guess', () => {
  assert.throws(
    () => fromIterable([], { zzzzzzzz: 1 } as never),
    (error: Error) => !/did you mean/.test(error.message) && /Unknown option `options.zzzzzzzz`/.test(error.message),
  );
});
