/** topK() against sort() (itself checked against DuckDB) on generated data; limit() stops its source. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pipeline, fromIterable, collect, sort, topK, limit, ErrorCodes, type SortKey } from '../../index.ts';

const rowArb = fc.record({
  a: fc.option(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(Number.NaN, 0.5, Number.NEGATIVE_INFINITY)), {
    freq: 4,
    nil: null,
  }),
  s: fc.option(fc.constantFrom('', 'x', 'X', 'é', '\u{1F600}', '\uFFFD', 'xx'), { freq: 4, nil: null }),
});

test('topK(n) equals the first n rows of sort(), ties in input order', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(rowArb, { maxLength: 300, size: 'max' }),
      fc.integer({ min: 0, max: 80 }),
      fc.constantFrom<SortKey[]>(
        [{ column: 'a' }],
        [{ column: 'a', order: 'desc', nulls: 'first' }, { column: 's' }],
        [{ column: 's', order: 'desc' }],
      ),
      fc.integer({ min: 1, max: 50 }),
      async (rows, n, keys, batchSize) => {
        const all = [{ i: 0, a: 1, s: 'y' }, ...rows.map((r, i) => ({ i: i + 1, ...r }))];
        const sorted = (await pipeline(fromIterable(all, { batchSize }), sort(keys), collect(), { governor: false }))
          .output;
        const { output, stats } = await pipeline(
          fromIterable(all, { batchSize }),
          topK(n, keys, { batchSize: 7 }),
          collect(),
          { governor: false },
        );
        assert.deepEqual(output, sorted.slice(0, n));
        assert.equal(stats.stages.find((s) => s.name === 'topK')!.rowsIn, all.length);
      },
    ),
    { numRuns: 60 },
  );
});

test('topK keeps memory bounded: held input batches are compacted', async () => {
  const rows = Array.from({ length: 10007 }, (_, i) => ({ i, v: (i * 7919) % 10007 }));
  const { output, stats } = await pipeline(
    fromIterable(rows, { batchSize: 10 }),
    topK(500, { column: 'v', order: 'desc' }),
    collect(),
    { governor: false },
  );
  assert.deepEqual(
    output.map((r) => (r as { v: number }).v),
    Array.from({ length: 500 }, (_, k) => 10006 - k),
  );
  // the 500 kept rows are spread over many 10-row batches: they were gathered into one
  assert.ok((stats.stages.find((s) => s.name === 'topK')!.details.compactions as number) > 0);
});

test('topK and limit validate their arguments', () => {
  assert.throws(() => topK(-1, 'a'), { code: ErrorCodes.INVALID_OPTION });
  assert.throws(() => topK(3, []), { code: ErrorCodes.INVALID_OPTION });
  assert.throws(() => topK(3, 'a', { budget: 1 } as never), { code: ErrorCodes.INVALID_OPTION });
  assert.throws(() => limit(1.5), { code: ErrorCodes.INVALID_OPTION });
  assert.throws(() => limit(1, { rows: 2 } as never), { code: ErrorCodes.INVALID_OPTION });
});

test('limit passes the first n rows and stops the source early, cleanly', async () => {
  let produced = 0;
  let closed = false;
  function* rows(): Generator<{ i: number }> {
    try {
      for (let i = 0; i < 1_000_000; i++) {
        produced++;
        yield { i };
      }
    } finally {
      closed = true;
    }
  }
  const { output } = await pipeline(fromIterable(rows(), { batchSize: 100 }), limit(250), collect(), {
    governor: false,
  });
  assert.deepEqual(
    output.map((r) => (r as { i: number }).i),
    Array.from({ length: 250 }, (_, i) => i),
  );
  assert.ok(produced < 2000, `the source stopped early (${produced} rows produced)`);
  assert.ok(closed, 'the source iterator was closed');
});

test('limit(0) and limit over Arrow batches', async () => {
  assert.deepEqual(
    (await pipeline(fromIterable([{ a: 1 }, { a: 2 }]), limit(0), collect(), { governor: false })).output,
    [],
  );
  const rows = Array.from({ length: 100 }, (_, i) => ({ i }));
  const { output } = await pipeline(fromIterable(rows, { batchSize: 30 }), sort('i'), limit(45), collect(), {
    governor: false,
  });
  assert.deepEqual(output, rows.slice(0, 45));
});

test('topK by a missing column fails with a code', async () => {
  await assert.rejects(pipeline(fromIterable([{ a: 1 }, { a: 2 }]), topK(1, 'nope'), collect(), { governor: false }), {
    code: ErrorCodes.SCHEMA_MISMATCH,
  });
});
