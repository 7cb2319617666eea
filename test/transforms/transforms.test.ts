import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pipeline,
  fromIterable,
  map,
  filter,
  flatMap,
  mapBatch,
  batch,
  collect,
  type StageError,
  ErrorCodes,
} from '../../index.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));
type R = { i: number };

test('map with async concurrency keeps input order and bounds calls in flight', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const { output } = await pipeline(
    fromIterable(range(200), { batchSize: 50 }),
    map(
      async (r: R) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // later rows finish first: order must still be kept
        await new Promise((res) => setTimeout(res, (200 - r.i) % 7));
        inFlight--;
        return { i: r.i, sq: r.i * r.i };
      },
      { concurrency: 8 },
    ),
    collect(),
  );
  assert.deepEqual(
    output.map((r) => (r as R).i),
    range(200).map((r) => r.i),
  );
  assert.equal(maxInFlight, 8);
});

test('map without concurrency runs async calls one at a time', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  await pipeline(
    fromIterable(range(20)),
    map(async (r: R) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await null;
      inFlight--;
      return r;
    }),
    collect(),
  );
  assert.equal(maxInFlight, 1);
});

test('an async map failure names the row and keeps the cause', async () => {
  await assert.rejects(
    pipeline(
      fromIterable(range(30), { batchSize: 10 }),
      map(
        async (r: R) => {
          if (r.i === 23) throw new RangeError('nope');
          return r;
        },
        { concurrency: 4 },
      ),
      collect(),
    ),
    (e: StageError) =>
      e.code === ErrorCodes.STAGE &&
      e.context.batch === 2 &&
      e.context.rowInBatch === 3 &&
      e.cause instanceof RangeError,
  );
});

test('filter keeps rows with truthy predicates, sync or async', async () => {
  const sync = await pipeline(
    fromIterable(range(10)),
    filter((r: R) => r.i > 6),
    collect(),
  );
  assert.deepEqual(sync.output, [{ i: 7 }, { i: 8 }, { i: 9 }]);
  const asyncOut = await pipeline(
    fromIterable(range(10)),
    filter(async (r: R) => r.i < 2, { concurrency: 3 }),
    collect(),
  );
  assert.deepEqual(asyncOut.output, [{ i: 0 }, { i: 1 }]);
});

test('flatMap accepts arrays, generators, async generators and promises', async () => {
  const arrays = await pipeline(
    fromIterable(range(3)),
    flatMap((r: R) => Array.from({ length: r.i }, () => r)),
    collect(),
  );
  assert.equal(arrays.output.length, 3);
  const gens = await pipeline(
    fromIterable(range(3)),
    flatMap(function* (r: R) {
      yield r;
      yield r;
    }),
    collect(),
  );
  assert.equal(gens.output.length, 6);
  const asyncGens = await pipeline(
    fromIterable(range(3)),
    flatMap(async function* (r: R) {
      yield { v: r.i };
    }),
    collect(),
  );
  assert.deepEqual(asyncGens.output, [{ v: 0 }, { v: 1 }, { v: 2 }]);
  const promises = await pipeline(
    fromIterable(range(2)),
    flatMap(async (r: R) => [r, r]),
    collect(),
  );
  assert.equal(promises.output.length, 4);
});

test('mapBatch sees whole batches and must return arrays', async () => {
  const sizes: number[] = [];
  const { output } = await pipeline(
    fromIterable(range(25), { batchSize: 10 }),
    mapBatch((rows: R[]) => {
      sizes.push(rows.length);
      return rows.map((r) => ({ x: r.i }));
    }),
    collect(),
  );
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.equal(output.length, 25);
  await assert.rejects(
    pipeline(
      fromIterable(range(2)),
      mapBatch(() => 5 as unknown as R[]),
      collect(),
    ),
    (e: StageError) => e.code === ErrorCodes.STAGE && /array/.test(e.message),
  );
});

test('batch() regroups rows into batches of the asked size without losing or reordering rows', async () => {
  const sizes: number[] = [];
  const { output } = await pipeline(
    fromIterable(range(1000), { batchSize: 37 }),
    batch({ rows: 100 }),
    mapBatch((rows: R[]) => {
      sizes.push(rows.length);
      return rows;
    }),
    collect(),
  );
  assert.deepEqual(sizes, [...Array(10).fill(100)]);
  assert.deepEqual(output, range(1000));
  assert.throws(() => batch({ rows: -1 }), /options\.rows/);
});
