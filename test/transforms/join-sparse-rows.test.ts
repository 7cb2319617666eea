/**
 * A join of rows whose columns vary (sparse JSON: `{"id":1}` first, `{"id":2,"name":...}` later)
 * with a right side that has a column of the same name. The output name of the right column was
 * chosen from the left's first row, and the left value of a later row that had that column was
 * overwritten by the right value, silently (DuckDB keeps both). The left input's whole first batch
 * now names its columns, and a later left row that would still lose a value is a coded error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline, fromIterable, join, collect, ErrorCodes } from 'spillway';

const left = () => [{ id: 1 }, { id: 2, name: 'left-two' }, { id: 3, name: 'left-three' }];
const right = () => [
  { id: 2, name: 'right-two' },
  { id: 3, name: 'right-three' },
];

test('a column the left first row lacks but its first batch has: the right column is renamed, no left value lost', async () => {
  for (const how of ['inner', 'left', 'full'] as const) {
    const { output } = await pipeline(fromIterable(left()), join(right(), { on: 'id', how }), collect());
    const byId = new Map(output.map((r) => [(r as { id: number }).id, r]));
    assert.deepEqual(byId.get(2), { id: 2, name: 'left-two', name_right: 'right-two' }, how);
    assert.deepEqual(byId.get(3), { id: 3, name: 'left-three', name_right: 'right-three' }, how);
  }
});

test('a later left batch with the clashing column is a coded error, not a lost value', async () => {
  for (const how of ['inner', 'left'] as const)
    await assert.rejects(
      pipeline(fromIterable(left(), { batchSize: 1 }), join(right(), { on: 'id', how }), collect()),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, ErrorCodes.SCHEMA_MISMATCH, how);
        assert.match(error.message, /a left row has a column `name` that the left input's first batch did not have/);
        return true;
      },
    );
});
