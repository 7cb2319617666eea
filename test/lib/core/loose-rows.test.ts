import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { pipeline, map, collect } from '../../../index.ts';
import { Batch } from '../../../lib/entry/extend.ts';
import { LOOSE_BATCH_ROWS } from '../../../lib/core/loose-rows.ts';

function* rows(n: number, from = 0) {
  for (let i = from; i < from + n; i++) yield { i };
}

test('a foreign stream of single rows (Readable.from) reaches the next stage in batches, all rows in order', async () => {
  const n = 5 * LOOSE_BATCH_ROWS + 7;
  const seen: number[] = [];
  const { output, stats } = await pipeline(
    Readable.from(rows(n)),
    map((row: { i: number }) => {
      seen.push(row.i);
      return row;
    }),
    collect(),
  );
  assert.deepEqual(
    output.map((r) => (r as { i: number }).i),
    [...Array(n).keys()],
  );
  assert.deepEqual(seen, [...Array(n).keys()]);
  const foreign = stats.stages[0]!;
  assert.equal(foreign.rowsOut, n);
  // one batch a row before: 5,127 batches
  assert.equal(foreign.batchesOut, 6);
});

test('rows, arrays and batches a foreign stream mixes keep their order', async () => {
  const chunks: unknown[] = [
    ...rows(3, 0),
    [{ i: 3 }, { i: 4 }],
    { i: 5 },
    new Batch([{ i: 6 }, { i: 7 }], { source: 'test', index: 0, rowStart: 0 }),
    ...rows(2, 8),
  ];
  const { output } = await pipeline(Readable.from(chunks), collect());
  assert.deepEqual(
    output.map((r) => (r as { i: number }).i),
    [...Array(10).keys()],
  );
});

test('a row a slow stream emits is passed on at once, not held for a full batch', async () => {
  // the source emits its next row only once the previous one reached the sink's side: a row held
  // for a batch would never arrive, and the wait below fails the test
  const arrived = new EventTarget();
  let last = -1;
  const source = new Readable({
    objectMode: true,
    read() {
      const next = last + 1;
      if (next === 5) {
        this.push(null);
        return;
      }
      const wait =
        next === 0 ? Promise.resolve() : once(arrived, `row${next - 1}`, { signal: AbortSignal.timeout(5000) });
      wait.then(
        () => this.push({ i: next }),
        () => this.destroy(new Error(`row ${next - 1} was held back`)),
      );
      last = next;
    },
  });
  const { output } = await pipeline(
    source,
    map((row: { i: number }) => {
      arrived.dispatchEvent(new Event(`row${row.i}`));
      return row;
    }),
    collect(),
  );
  assert.equal(output.length, 5);
});
