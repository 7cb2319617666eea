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
import { pipeline, collect, fromIterable, fromParquet, toParquet } from '../../../../../index.ts';
import { commonCover } from '../../../../../lib/formats/parquet/read/page-selection.ts';
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
  const open = () => openParquet(file, { batchSize: 250, pageFilter: pagePruner({ where: WHERE, ignore: [] }, stats) });
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

test('the pages of a nested column are skipped too: its leaves read one common set of whole pages (spillway-written file)', async () => {
  const nested = join(dir, 'nested-indexed.parquet');
  const n = 20_000;
  // leaves of different widths break their pages at different rows
  const tags = (i: number): string[] | null =>
    i % 17 === 0 ? null : Array.from({ length: i % 5 }, (_, j) => `t${i}-${j}`);
  const s = (i: number) => ({ v: i % 3 === 0 ? [] : [i / 4, -i], w: `w${i % 11}`.repeat(1 + (i % 4)) });
  await pipeline(
    fromIterable(Array.from({ length: n }, (_, i) => ({ id: i, tags: tags(i), s: s(i) }))),
    toParquet(nested, { pageBytes: '2KB', rowGroupSize: n }),
    { governor: false },
  );
  const where: Predicate = {
    or: [
      {
        and: [
          { col: 'id', op: '>=', value: 3_333 },
          { col: 'id', op: '<', value: 3_500 },
        ],
      },
      { col: 'id', op: '=', value: 11_111 },
      { col: 'id', op: '>=', value: 19_990 },
    ],
  };
  const want = Array.from({ length: n }, (_, i) => i).filter(
    (i) => (i >= 3_333 && i < 3_500) || i === 11_111 || i >= 19_990,
  );
  const skipped: Record<string, number> = {};
  for (const output of ['rows', 'arrow'] as const) {
    for (const columns of [['id'], ['id', 'tags', 's']]) {
      const result = await pipeline(fromParquet(nested, { where, output, columns }), collect());
      const rows = result.output as Record<string, unknown>[];
      assert.deepEqual(
        rows.map((r) => Number(r.id)),
        want,
        `${output} ${columns}`,
      );
      if (columns.length > 1)
        for (const r of rows) {
          const i = Number(r.id);
          assert.deepEqual(
            r.tags === null ? null : Array.from(r.tags as ArrayLike<string>),
            tags(i),
            `${output} row ${i}`,
          );
          const got = r.s as { v: ArrayLike<number>; w: string };
          assert.deepEqual({ v: Array.from(got.v, Number), w: got.w }, s(i), `${output} row ${i}`);
        }
      skipped[`${output} ${columns.length}`] = result.stats.stages[0]!.details.pagesSkipped as number;
    }
  }
  // the nested leaves add their own skipped pages to those of `id`
  assert.ok(skipped['rows 3']! > skipped['rows 1']! + 10, JSON.stringify(skipped));
  assert.equal(skipped['arrow 3'], skipped['rows 3']);
});

test('commonCover grows the selected rows to whole pages of every leaf', () => {
  const pages = (...rows: number[]) => rows.map((firstRow, k) => ({ offset: k * 100, size: 100, firstRow }));
  const a = pages(0, 10, 20, 30);
  // one leaf: the pages overlapping the rows
  assert.deepEqual(commonCover([a], 40, [12, 13, 33, 34]), [10, 20, 30, 40]);
  // a leaf breaking at 0 and 20 only: rows 10-20 of `a` need 0-20 of it, and 0-10 of `a` then too
  assert.deepEqual(commonCover([a, pages(0, 20)], 40, [12, 13]), [0, 20]);
  // leaves breaking in between each other (0/15/25 against 0/10/20/30) grow to the whole group:
  // correct, only not cheaper (documented)
  assert.deepEqual(commonCover([a, pages(0, 15, 25)], 40, [12, 13]), [0, 40]);
});
