import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Transform } from 'node:stream';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { RecordBatch } from 'apache-arrow';
import { many } from 'stream-chain/defs.js';
import { pipeline, fromCsv, filter, map, flatMap, collect, drain, ErrorCodes } from '../../index.ts';
import type { Batch } from '../../lib/entry/extend.ts';
import { recordBatchToRows, rowsToRecordBatch } from '../../lib/formats/arrow/convert.ts';
import { tempDir } from '../helpers.ts';

type R = { i: number; s: string | null; x: number | null };

const makeRows = (n: number): R[] =>
  Array.from({ length: n }, (_, i) => ({ i, s: i % 4 === 0 ? null : `s${i}é`, x: i % 3 === 0 ? null : i / 4 }));

/** A stage that records each batch it passes (to look at its form afterwards). */
function tap(seen: Batch[]): Transform {
  return new Transform({
    objectMode: true,
    transform(batch: Batch, _e, cb) {
      seen.push(batch);
      cb(null, batch);
    },
  });
}

/** A source of Arrow batches (no rows), as a foreign stream would emit them. */
const arrowSource = (rows: object[], size: number): Readable => {
  const batches: RecordBatch[] = [];
  for (let at = 0; at < rows.length; at += size) batches.push(rowsToRecordBatch(rows.slice(at, at + size)));
  return Readable.from(batches);
};

test('filter over Arrow batches gives views and outputs Arrow equal to the object path (fast-check)', async () => {
  const row = fc.record({
    n: fc.integer({ min: -100, max: 100 }),
    s: fc.option(fc.string({ maxLength: 8 })),
    f: fc.option(fc.double({ noNaN: true })),
    b: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(row, { maxLength: 300 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: -100, max: 100 }),
      async (rows, size, cut) => {
        const predicate = (r: { n: number; b: boolean }) => r.n > cut || r.b;
        const seen: Batch[] = [];
        const viaView = await pipeline(arrowSource(rows, size), filter(predicate), tap(seen), collect());
        const viaObjects = await pipeline(arrowSource(rows, size), filter(predicate, { input: 'object' }), collect());
        assert.deepEqual(viaView.output, viaObjects.output);
        assert.deepEqual(
          viaView.output,
          recordBatchToRows(rowsToRecordBatch(rows)).filter((r) => predicate(r as never)),
        );
        for (const batch of seen) assert.ok(batch.hasArrow, 'the view path outputs Arrow');
      },
    ),
    { numRuns: 60 },
  );
});

test('filter keeps the position, passes a fully kept batch on as it is and drops an empty one', async () => {
  const seen: Batch[] = [];
  const before: Batch[] = [];
  await pipeline(
    arrowSource(makeRows(30), 10),
    tap(before),
    filter((r: R) => r.i < 10 || r.i >= 25),
    tap(seen),
    drain(),
  );
  assert.equal(seen.length, 2);
  assert.equal(seen[0], before[0], 'all kept: the same batch');
  assert.equal(seen[1]!.position, before[2]!.position);
  assert.equal(seen[1]!.numRows, 5);
  for (const batch of [...before, ...seen]) assert.ok(!batch.hasRows);
});

test('async filter with concurrency gives each call in flight its own view', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const seen: Batch[] = [];
  const { output } = await pipeline(
    arrowSource(makeRows(200), 50),
    filter(
      async (r: R, index: number) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const before = r.i;
        // later rows finish first; the row must still read the same after the wait
        await new Promise((res) => setTimeout(res, (200 - before) % 5));
        inFlight--;
        assert.equal(r.i, before);
        assert.equal(r.i % 50, index);
        return r.i % 3 === 0;
      },
      { concurrency: 6 },
    ),
    tap(seen),
    collect(),
  );
  assert.equal(maxInFlight, 6);
  assert.deepEqual(
    output.map((r) => (r as R).i),
    makeRows(200)
      .filter((r) => r.i % 3 === 0)
      .map((r) => r.i),
  );
  assert.ok(seen.every((b) => b.hasArrow));
});

test('filter with input: object gives plain, mutable objects', async () => {
  const { output } = await pipeline(
    arrowSource(makeRows(10), 4),
    filter(
      (r: R & { tag?: string }) => {
        r.tag = 'seen';
        return r.i > 6;
      },
      { input: 'object' },
    ),
    collect(),
  );
  assert.deepEqual(
    output.map((r) => (r as { tag: string }).tag),
    ['seen', 'seen', 'seen'],
  );
  // the default view refuses a write, naming the stage and row
  await assert.rejects(
    pipeline(
      arrowSource(makeRows(10), 4),
      filter((r: R) => {
        (r as { i: number }).i = 1;
        return true;
      }),
      collect(),
    ),
    (e: { code: string; cause: unknown }) => e.code === ErrorCodes.STAGE && e.cause instanceof TypeError,
  );
});

test('map with input: view keeps rows returned as the view as Arrow, and copies them when it makes other rows', async () => {
  const seen: Batch[] = [];
  const kept = await pipeline(
    arrowSource(makeRows(40), 16),
    map((r: R) => (r.i % 2 ? r : undefined), { input: 'view' }),
    tap(seen),
    collect(),
  );
  assert.deepEqual(
    kept.output,
    makeRows(40)
      .filter((r) => r.i % 2)
      .map((r) => ({ ...r })),
  );
  assert.ok(seen.every((b) => b.hasArrow));

  const mixed = await pipeline(
    arrowSource(makeRows(20), 8),
    map((r: R) => (r.i % 2 ? r : { i: -r.i, s: 'new', x: null }), { input: 'view' }),
    collect(),
  );
  assert.deepEqual(
    mixed.output,
    makeRows(20).map((r) => (r.i % 2 ? r : { i: -r.i, s: 'new', x: null })),
  );
  assert.equal(new Set(mixed.output).size, 20, 'no two output rows are one object');

  const twice = await pipeline(
    arrowSource(makeRows(6), 6),
    map((r: R) => many([r, r]), { input: 'view' }),
    collect(),
  );
  assert.deepEqual(
    twice.output.map((r) => (r as R).i),
    [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
  );
  assert.equal(new Set(twice.output).size, 12);

  const asyncMap = await pipeline(
    arrowSource(makeRows(30), 10),
    map(
      async (r: R) => {
        await null;
        return r.i % 5 === 0 ? { ...r, tag: 1 } : r;
      },
      { input: 'view', concurrency: 4 },
    ),
    collect(),
  );
  assert.deepEqual(
    asyncMap.output,
    makeRows(30).map((r) => (r.i % 5 === 0 ? { ...r, tag: 1 } : r)),
  );
  assert.equal(new Set(asyncMap.output).size, 30);
});

test('map stays on objects by default; flatMap only takes objects; options.input is checked', async () => {
  const { output } = await pipeline(
    arrowSource(makeRows(4), 4),
    map((r: R & { y?: number }) => {
      r.y = 1;
      return r;
    }),
    collect(),
  );
  assert.deepEqual(
    output.map((r) => (r as { y: number }).y),
    [1, 1, 1, 1],
  );
  assert.throws(
    () => filter(() => true, { input: 'rows' as never }),
    (e: { code: string; message: string }) => e.code === ErrorCodes.INVALID_OPTION && /options\.input/.test(e.message),
  );
  assert.throws(() => flatMap(() => [], { input: 'view' } as never), /options\.input/);
});

test('fromCsv (Arrow) -> filter -> sink builds no row object', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'trades.csv');
  const lines = ['id,sym,qty,price'];
  for (let k = 0; k < 20000; k++)
    lines.push(`${k},${['AAA', 'BBB', 'CCC'][k % 3]},${(k * 7919) % 1000},${(k % 977) / 4}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const source: Batch[] = [];
  const out: Batch[] = [];
  const { stats } = await pipeline(
    fromCsv(file, { cast: true, output: 'arrow', batchSize: 2048 }),
    tap(source),
    filter((r: { qty: number }) => r.qty > 500),
    tap(out),
    drain(),
  );
  assert.ok(source.length > 5 && out.length > 5);
  for (const batch of [...source, ...out]) {
    assert.ok(batch.hasArrow, 'Arrow all the way');
    assert.ok(!batch.hasRows, 'no row objects were built');
  }
  let kept = 0;
  let sum = 0;
  for (const batch of out) {
    const qty = batch.arrow.getChild('qty')!;
    for (let i = 0; i < batch.numRows; i++) {
      const q = qty.get(i) as number;
      assert.ok(q > 500);
      sum += q;
      kept++;
    }
  }
  const expected = Array.from({ length: 20000 }, (_, k) => (k * 7919) % 1000).filter((q) => q > 500);
  assert.equal(kept, expected.length);
  assert.equal(
    sum,
    expected.reduce((a, b) => a + b, 0),
  );
  assert.equal(stats.rowsOut, expected.length);
});
