/**
 * The read side of page pushdown (read/page-selection.ts) on a file another writer made
 * (hyparquet-writer, ColumnIndex on `id` only): a nested list column and a string column without
 * a ColumnIndex stay aligned with the pages `id` selects, on the rows and the Arrow outputs; and a
 * read resumed at `rowStart + rows` of any batch (what a checkpoint stores) yields exactly the
 * rows of the pages kept after that batch.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { pipeline, collect, fromParquet } from '../../../../../index.ts';
import { openParquet } from '../../../../../lib/formats/parquet/reader.ts';
import { pagePruner } from '../../../../../lib/dataset/page-pushdown.ts';
import { TRUE, compilePredicate, type Predicate } from '../../../../../lib/dataset/predicate.ts';
import type { StageStats } from '../../../../../lib/core/stage.ts';
import { tempDir } from '../../../../helpers.ts';

const dir = tempDir('spillway-page-selection-');
const file = join(dir, 'other-writer.parquet');
const ROWS = 30_000;

function list(i: number): number[] | null {
  return i % 9 === 0 ? null : Array.from({ length: i % 4 }, (_, j) => i * 10 + j);
}
const label = (i: number): string => `label-${i}-${'#'.repeat(i % 13)}`;

before(() => {
  parquetWriteFile({
    filename: file,
    rowGroupSize: 12_000,
    pageSize: 4096,
    schema: [
      { name: 'root', num_children: 3 },
      { name: 'id', repetition_type: 'REQUIRED', type: 'INT32' },
      { name: 'label', repetition_type: 'REQUIRED', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
      { name: 'l', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'REQUIRED', type: 'INT32' },
    ],
    columnData: [
      { name: 'id', data: Int32Array.from({ length: ROWS }, (_, i) => i), columnIndex: true },
      { name: 'label', data: Array.from({ length: ROWS }, (_, i) => label(i)) },
      { name: 'l', data: Array.from({ length: ROWS }, (_, i) => list(i)) },
    ],
  });
});

const WHERE: Predicate = {
  or: [
    {
      and: [
        { col: 'id', op: '>=', value: 5_123 },
        { col: 'id', op: '<', value: 5_900 },
      ],
    },
    { col: 'id', op: '>', value: 28_765 },
  ],
};
const expectedIds = Array.from({ length: ROWS }, (_, i) => i).filter(
  (i) => compilePredicate(WHERE)((c) => (c === 'id' ? i : null)) === TRUE,
);

test("a nested column and a column without ColumnIndex stay aligned with another writer's page index", async () => {
  for (const output of ['rows', 'arrow'] as const) {
    const result = await pipeline(fromParquet(file, { where: WHERE, output }), collect());
    const rows = result.output as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => Number(r.id)),
      expectedIds,
      output,
    );
    for (const r of rows) {
      const i = Number(r.id);
      assert.equal(r.label, label(i), `${output} row ${i}`);
      const l = r.l === null ? null : Array.from(r.l as ArrayLike<number>, Number);
      assert.deepEqual(l, list(i), `${output} row ${i}`);
    }
    const d = result.stats.stages[0]!.details;
    assert.ok((d.pagesSkipped as number) > 0, `${output}: ${String(d.pagesSkipped)} pages skipped`);
  }
});

test('resuming at rowStart + rows of any batch yields the rows kept after it', async () => {
  const stats = { details: {} } as StageStats;
  const open = () => openParquet(file, { batchSize: 250, pageFilter: pagePruner(WHERE, stats) });
  const reader = await open();
  const batches: { end: number; ids: number[] }[] = [];
  for await (const b of reader.batches())
    batches.push({ end: b.rowStart + b.rows.length, ids: b.rows.map((r) => r.id as number) });
  await reader.close();
  // the reader keeps whole pages (the exact filter runs after it): a superset, in order, of far fewer rows
  const read = batches.flatMap((b) => b.ids);
  const kept = new Set(read);
  assert.ok(expectedIds.every((i) => kept.has(i)));
  assert.ok(read.every((id, k) => k === 0 || id > read[k - 1]!));
  assert.ok(read.length < ROWS / 4, `${read.length} rows read`);
  for (const k of [0, 1, 2, batches.length - 2]) {
    const resumed = await open();
    const rest: number[] = [];
    for await (const b of resumed.batches(batches[k]!.end)) rest.push(...b.rows.map((r) => r.id as number));
    await resumed.close();
    assert.deepEqual(
      rest,
      batches.slice(k + 1).flatMap((b) => b.ids),
      `after batch ${k}`,
    );
  }
});
