/**
 * Rows whose 64-bit column holds bigints (read with `int64: 'bigint'`, or made so by the user) keep
 * bigints through every stage that goes through Arrow: sort and topK (in memory and spilled), a
 * spill file replayed, and a row view. Columns mixing numbers and bigints keep `auto`'s rule
 * (numbers when safe), so the rows/Arrow parity holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline, fromIterable, collect, sort, topK, map, toSpill } from '../../../../index.ts';
import { recordBatchToRows, rowsToRecordBatch } from '../../../../lib/formats/arrow/convert.ts';
import { unifySchemas } from '../../../../lib/formats/arrow/widen.ts';
type Row = Record<string, unknown>;

const BIG = 9007199254740993n;
const bigRows = (): Row[] => [3n, 1n, BIG, null, 2n, -5n].map((k, i) => ({ k, v: `r${i}` }));

const kinds = (rows: readonly Row[]): string[] => rows.map((r) => `${typeof r.k}:${String(r.k)}`);

test('an all-bigint column reads back as bigints under the default int64 mode', () => {
  const batch = rowsToRecordBatch(bigRows());
  assert.deepStrictEqual(kinds(recordBatchToRows(batch) as Row[]), kinds(bigRows()));
  // an explicit mode still wins
  assert.equal(typeof (recordBatchToRows(batch, { int64: 'auto' }) as Row[])[0]!.k, 'number');
  assert.equal((recordBatchToRows(batch, { int64: 'number', selection: [0] }) as Row[])[0]!.k, 3);
});

test('a column mixing numbers and bigints keeps auto (numbers when safe)', () => {
  const rows: Row[] = [{ k: 1 }, { k: BIG }, { k: 2n }];
  assert.deepStrictEqual(kinds(recordBatchToRows(rowsToRecordBatch(rows)) as Row[]), [
    'number:1',
    `bigint:${BIG}`,
    'number:2',
  ]);
});

test('a marked and an unmarked Int64 column unify without the mark', () => {
  const marked = rowsToRecordBatch([{ k: 1n }]).schema;
  const mixed = rowsToRecordBatch([{ k: 1 }, { k: BIG }]).schema;
  const unified = unifySchemas(marked, mixed);
  assert.equal(unified.fields[0]!.metadata.size, 0);
  assert.equal(unifySchemas(marked, marked), marked);
});

for (const budget of [undefined, 1]) {
  const label = budget === undefined ? 'in memory' : 'spilled';
  test(`sort and topK over bigint rows hand on bigints (${label})`, async () => {
    const options = { batchSize: 2, ...(budget === undefined ? {} : { budget }) };
    const sorted = (
      await pipeline(fromIterable(bigRows(), { batchSize: 2 }), sort(['k'], options), collect(), { governor: false })
    ).output as Row[];
    assert.deepStrictEqual(kinds(sorted), [
      'bigint:-5',
      'bigint:1',
      'bigint:2',
      'bigint:3',
      `bigint:${BIG}`,
      'object:null',
    ]);
    const top = (
      await pipeline(fromIterable(bigRows(), { batchSize: 2 }), topK(2, { column: 'k', order: 'desc' }), collect(), {
        governor: false,
      })
    ).output as Row[];
    assert.deepStrictEqual(kinds(top), [`bigint:${BIG}`, 'bigint:3']);
  });
}

test('a spill replayed and a row view see bigints', async () => {
  const { output } = await pipeline(fromIterable(bigRows(), { batchSize: 2 }), toSpill({ budget: 0 }), {
    governor: false,
  });
  try {
    const replayed: Row[] = [];
    for await (const row of output.rows()) replayed.push(row as Row);
    assert.deepStrictEqual(kinds(replayed), kinds(bigRows()));
    const batches: Row[] = [];
    for await (const batch of output.batches()) batches.push(...(recordBatchToRows(batch) as Row[]));
    assert.deepStrictEqual(kinds(batches), kinds(bigRows()));
  } finally {
    await output.dispose();
  }
  const seen: string[] = [];
  await pipeline(
    fromIterable(bigRows(), { batchSize: 2 }),
    sort(['v']),
    map((row: Row) => {
      seen.push(typeof row.k);
      return row;
    }),
    collect(),
    { governor: false },
  );
  assert.deepStrictEqual(seen, ['bigint', 'bigint', 'bigint', 'object', 'bigint', 'bigint']);
});
