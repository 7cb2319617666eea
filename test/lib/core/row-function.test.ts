/**
 * What the row stages make of generator functions, found by helper-73 (2026-12-07): a
 * `function*` given to map() sent its generator objects out as rows with no error, and a flatMap
 * sync generator that threw surfaced a bare Error without a code, stage or row, where a plain
 * function and an async generator gave a StageError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, collect, flatMap, fromIterable, map, pipeline, type SpillwayError } from '../../../index.ts';

const rows = Array.from({ length: 3 }, (_, id) => ({ id }));

test('map() refuses a generator function, saying to use flatMap()', async () => {
  for (const fn of [
    function* (row: { id: number }) {
      yield row;
    },
    async function* (row: { id: number }) {
      yield row;
    },
  ]) {
    await assert.rejects(
      pipeline(fromIterable(rows), map(fn as never), collect()),
      (e: SpillwayError) => e.code === ErrorCodes.STAGE && /returned a generator.*use flatMap\(\)/.test(e.message),
    );
  }
});

test('a flatMap generator that throws, sync or async, is a StageError naming the row', async () => {
  for (const fn of [
    function* (row: { id: number }) {
      yield row;
      if (row.id === 1) throw new Error('boom');
    },
    async function* (row: { id: number }) {
      yield row;
      if (row.id === 1) throw new Error('boom');
    },
  ]) {
    await assert.rejects(
      pipeline(fromIterable(rows), flatMap(fn as never), collect()),
      (e: SpillwayError) =>
        e.code === ErrorCodes.STAGE && e.context.rowInBatch === 1 && /flatMap threw: boom/.test(e.message),
    );
  }
  // and one that does not throw still gives its rows
  const twice = function* (row: { id: number }) {
    yield row;
    yield { id: row.id + 10 };
  };
  const { output } = await pipeline(fromIterable(rows), flatMap(twice as never), collect());
  assert.deepEqual(output, [{ id: 0 }, { id: 10 }, { id: 1 }, { id: 11 }, { id: 2 }, { id: 12 }]);
});
