/**
 * The page index read defensively (read/page-index.ts, read/page-selection.ts): an OffsetIndex
 * whose first rows or offsets do not hold together is not used, a ColumnIndex or OffsetIndex
 * overwritten with garbage on disk leaves the read correct (as if the file had no index), and the
 * kept pages' byte runs and renumbered rows are what the selection needs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { ThriftWriter, T } from '../../../../../lib/formats/parquet/encode/thrift.ts';
import { parseOffsetIndex } from '../../../../../lib/formats/parquet/read/page-index.ts';
import { keptPages } from '../../../../../lib/formats/parquet/read/page-selection.ts';
import { pipeline, collect, fromIterable, fromParquet, toParquet } from '../../../../../index.ts';
import type { Predicate } from '../../../../../lib/dataset/predicate.ts';
import { tempDir } from '../../../../helpers.ts';

const dir = tempDir('spillway-page-index-read-');
const good = join(dir, 'good.parquet');

function offsetIndex(pages: [number, number, number][]): Uint8Array {
  const w = new ThriftWriter();
  w.begin();
  w.list(1, T.STRUCT, pages.length);
  for (const [offset, size, first] of pages) {
    w.begin();
    w.i64(1, offset);
    w.i32(2, size);
    w.i64(3, first);
    w.end();
  }
  w.end();
  return w.result().slice();
}

test('an OffsetIndex that does not hold together is not used', () => {
  const ok: [number, number, number][] = [
    [100, 50, 0],
    [150, 50, 10],
    [200, 50, 25],
  ];
  assert.deepEqual(parseOffsetIndex(offsetIndex(ok), 40, 100, 250)?.length, 3);
  const bad: [string, [number, number, number][]][] = [
    ['first row not 0', [[100, 50, 3]]],
    [
      'rows not increasing',
      [
        [100, 50, 0],
        [150, 50, 0],
      ],
    ],
    [
      'a page past the chunk',
      [
        [100, 50, 0],
        [150, 200, 10],
      ],
    ],
    [
      'overlapping pages',
      [
        [100, 60, 0],
        [150, 50, 10],
      ],
    ],
    [
      'a first row past the group',
      [
        [100, 50, 0],
        [150, 50, 40],
      ],
    ],
  ];
  for (const [name, pages] of bad) assert.equal(parseOffsetIndex(offsetIndex(pages), 40, 100, 250), undefined, name);
  assert.equal(parseOffsetIndex(new Uint8Array([0xff, 0xff, 0xff]), 40, 100, 250), undefined, 'garbage');
});

test('kept pages: byte runs merge neighbours, rows are renumbered past the skipped pages', () => {
  const pages = [
    { offset: 100, size: 10, firstRow: 0 },
    { offset: 110, size: 10, firstRow: 10 },
    { offset: 120, size: 10, firstRow: 20 },
    { offset: 130, size: 10, firstRow: 30 },
    { offset: 140, size: 10, firstRow: 40 },
  ];
  const kept = keptPages(pages, 50, [12, 15, 18, 25, 45, 47]);
  assert.deepEqual(kept.runs, [
    [110, 130],
    [140, 150],
  ]);
  assert.equal(kept.rows, 30);
  assert.deepEqual(kept.ranges, [2, 5, 8, 15, 25, 27]);
});

const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i, s: `v-${String(i).padStart(6, '0')}` }));
const where: Predicate = {
  or: [
    { col: 'id', op: '<', value: 150 },
    { col: 's', op: '>=', value: 'v-019900' },
  ],
};
const want = rows.filter((r) => r.id < 150 || r.s >= 'v-019900').map((r) => r.id);

before(async () => {
  await pipeline(fromIterable(rows), toParquet(good, { pageBytes: 1024, rowGroupSize: 10_000 }));
});

async function ids(path: string): Promise<{ ids: number[]; skipped: number }> {
  const result = await pipeline(fromParquet(path, { where }), collect());
  return {
    ids: (result.output as { id: number }[]).map((r) => r.id),
    skipped: result.stats.stages[0]!.details.pagesSkipped as number,
  };
}

test('a page index overwritten with garbage reads as if there were none', async () => {
  assert.ok((await ids(good)).skipped > 0);
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(good));
  for (const kind of ['column', 'offset'] as const) {
    const path = join(dir, `bad-${kind}.parquet`);
    copyFileSync(good, path);
    const fd = openSync(path, 'r+');
    for (const group of meta.row_groups)
      for (const chunk of group.columns) {
        const offset = Number(kind === 'column' ? chunk.column_index_offset : chunk.offset_index_offset);
        const length = kind === 'column' ? chunk.column_index_length! : chunk.offset_index_length!;
        writeSync(fd, Buffer.alloc(length, 0x35), 0, length, offset);
      }
    closeSync(fd);
    const got = await ids(path);
    assert.deepEqual(got.ids, want, kind);
    assert.equal(got.skipped, 0, kind);
  }
});
