/**
 * An operator's key or aggregated column that the input does not have is a SchemaMismatchError
 * naming it, as `sort` gave and SQL gives; it read as null in every row (groupBy made one group of
 * nulls, distinct one row, a join no rows), silently. Rows may leave a column out (sparse JSON):
 * only a column no row has is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { pipeline, fromCsv, fromIterable, groupBy, distinct, join, agg, collect, ErrorCodes } from '../../index.ts';
import type { OperatorTransform } from '../../lib/operators/operator-transform.ts';
import { tempDir } from '../helpers.ts';

const rows = [
  { id: 1, price: 5 },
  { id: 2, price: 6 },
  { id: 3, price: 7 },
];
const dir = tempDir();
const csv = joinPath(dir, 'k.csv');
writeFileSync(csv, 'id,price\n1,5\n2,6\n3,7\n');

const cases: [string, () => OperatorTransform, RegExp][] = [
  ['distinct key', () => distinct(['nope']), /distinct key .*"nope".* not a column of its input \(it has id, price\)/],
  ['groupBy key', () => groupBy('nope', { n: agg.count() }), /groupBy key .*"nope"/],
  ['groupBy aggregated column', () => groupBy('id', { s: agg.sum('nope') }), /groupBy aggregated column .*"nope"/],
  ['join left key', () => join([{ nope: 1, x: 1 }], { on: 'nope' }), /join key .*"nope".* its input/],
  [
    'join right key',
    () => join([{ other: 1, x: 1 }], { on: 'id' }),
    /join key .*"id".* its right input \(it has other, x\)/,
  ],
];

for (const [what, stage, message] of cases) {
  test(`a ${what} the input lacks is a SchemaMismatchError naming it, for rows and for Arrow input`, async () => {
    for (const source of [() => fromIterable(rows), () => fromCsv(csv, { cast: true })]) {
      await assert.rejects(
        pipeline(source(), stage(), collect()),
        (e: Error & { code?: string }) => e.code === ErrorCodes.SCHEMA_MISMATCH && message.test(e.message),
      );
    }
  });
}

test('rows that leave a column out are not refused while some row has it; no input row, no error', async () => {
  const sparse = [{ id: 1 }, { id: 2, tag: 'x' }, { id: 3 }];
  const grouped = await pipeline(fromIterable(sparse, { batchSize: 1 }), groupBy('tag', { n: agg.count() }), collect());
  assert.deepEqual(
    (grouped.output as { tag: string | null; n: number }[]).sort((a, b) => a.n - b.n),
    [
      { tag: 'x', n: 1 },
      { tag: null, n: 2 },
    ],
  );
  const none = await pipeline(fromIterable([] as { id: number }[]), distinct(['nope']), collect());
  assert.deepEqual(none.output, []);
});
