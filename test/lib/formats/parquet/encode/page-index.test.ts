/**
 * The page index spillway's writer stores (encode/page-index.ts), checked by independent readers:
 * DuckDB reads the file unchanged, and hyparquet's own ColumnIndex/OffsetIndex parsers find, for
 * every chunk, pages where the OffsetIndex says (each page header there, sizes adding up to the
 * chunk), first rows that add up the pages' row counts, and per-page null flags, null counts and
 * min/max equal to those recomputed from the rows written. Chunks holding a value longer than the
 * statistics keep (or a page of only NaN) get an OffsetIndex and no ColumnIndex.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import type { AsyncBuffer, ColumnChunk, FileMetaData } from 'hyparquet';
import { readColumnIndex, readOffsetIndex } from 'hyparquet/src/indexes.js';
import { parquetHeader } from 'hyparquet/src/column.js';
import { pipeline, fromIterable, toParquet, ErrorCodes, SpillwayError } from '../../../../../index.ts';
import { tempDir } from '../../../../helpers.ts';
import { duckRows, fromDuck, fromSpillway } from '../duckdb.ts';

const dir = tempDir('spillway-page-index-');
const file = join(dir, 'indexed.parquet');
const N = 12_000;
const GROUP = 5_000;

function row(i: number): Record<string, unknown> {
  return {
    id: i,
    big: BigInt(i) * 1_000_000_007n - 5_000_000_000n,
    // f holds a NaN in every page: no min/max, so no ColumnIndex (DuckDB's rule); d none
    f: i % 11 === 0 ? null : i % 13 === 0 ? Number.NaN : ((i * 7919) % 1000) / 8 - 60,
    d: i % 11 === 0 ? null : ((i * 7919) % 1000) / 8 - 60,
    // rows 2000-4999: all null (whole pages of nulls)
    s: i >= 2000 && i < 5000 ? null : `s-${String((i * 37) % 9973).padStart(5, '0')}`,
    // a value longer than statistics keep in the second row group only
    long: i === 7_000 ? 'L'.repeat(1100) : `short-${i % 97}`,
    b: i % 3 === 0,
    ts: new Date(Date.UTC(2026, 0, 1) + i * 61_000),
  };
}
const rows = Array.from({ length: N }, (_, i) => row(i));
let buffer: AsyncBuffer;
let meta: FileMetaData;

before(async () => {
  await pipeline(
    fromIterable(rows),
    toParquet(file, {
      schema: {
        id: 'int32',
        big: 'int64',
        f: 'double',
        d: 'double',
        s: 'string',
        long: 'string',
        b: 'boolean',
        ts: 'timestamp',
      },
      rowGroupSize: GROUP,
      pageBytes: 2048,
    }),
  );
  buffer = await asyncBufferFromFile(file);
  meta = await parquetMetadataAsync(buffer);
});

async function bytesAt(offset: bigint | number | undefined, length: number | undefined): Promise<DataView> {
  const start = Number(offset);
  return new DataView(await buffer.slice(start, start + length!));
}

function comparable(v: unknown): unknown {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** min/max/nulls of rows [from, to) of column `col`, NaN left out as the writer does. */
function expected(col: string, from: number, to: number): { nulls: number; min: unknown; max: unknown } {
  let nulls = 0;
  let min: unknown;
  let max: unknown;
  for (let i = from; i < to; i++) {
    const v = rows[i]![col];
    if (v === null) {
      nulls++;
      continue;
    }
    if (typeof v === 'number' && Number.isNaN(v)) continue;
    const c = comparable(v) as number | string | boolean;
    const key = typeof v === 'bigint' ? v : c;
    if (min === undefined || key < (min as typeof key)) min = key;
    if (max === undefined || key > (max as typeof key)) max = key;
  }
  const out = (x: unknown): unknown => (typeof x === 'bigint' ? x.toString() : x);
  return { nulls, min: out(min), max: out(max) };
}

test('DuckDB reads the indexed file unchanged', async () => {
  const { rows: got } = await duckRows(`SELECT * FROM '${file}' ORDER BY id`);
  assert.equal(got.length, N);
  for (let i = 0; i < N; i += 1) {
    const want = rows[i]!;
    for (const col of Object.keys(want)) {
      const w = want[col];
      const g = got[i]![col];
      if (typeof w === 'number' && Number.isNaN(w)) assert.equal(g, 'NaN', `row ${i} ${col}`);
      else assert.deepEqual(fromDuck(g), fromSpillway(w), `row ${i} ${col}`);
    }
  }
});

test('every chunk has an OffsetIndex that hyparquet reads: offsets, sizes and first rows match the pages', async () => {
  for (const [g, group] of meta.row_groups.entries()) {
    for (const chunk of group.columns) {
      const md = chunk.meta_data!;
      const col = md.path_in_schema.join('.');
      assert.ok(chunk.offset_index_offset !== undefined, `group ${g} ${col}: offset index`);
      const index = readOffsetIndex({
        view: await bytesAt(chunk.offset_index_offset, chunk.offset_index_length),
        offset: 0,
      });
      const pages = index.page_locations;
      assert.ok(pages.length >= 1, `group ${g} ${col}: pages`);
      if (col !== 'long' && col !== 'b') assert.ok(pages.length > 1, `group ${g} ${col}: several pages`);
      assert.equal(pages[0]!.offset, md.data_page_offset);
      let rowsSoFar = 0;
      for (const [p, loc] of pages.entries()) {
        assert.equal(Number(loc.first_row_index), rowsSoFar, `group ${g} ${col} page ${p}: first row`);
        const view = await bytesAt(loc.offset, Math.min(loc.compressed_page_size, 256));
        const reader = { view, offset: 0 };
        const header = parquetHeader(reader);
        assert.equal(header.type, 'DATA_PAGE');
        assert.equal(reader.offset + header.compressed_page_size, loc.compressed_page_size);
        rowsSoFar += header.data_page_header!.num_values;
        if (p + 1 < pages.length)
          assert.equal(Number(loc.offset) + loc.compressed_page_size, Number(pages[p + 1]!.offset));
        else {
          const start = Number(md.dictionary_page_offset ?? md.data_page_offset);
          assert.equal(Number(loc.offset) + loc.compressed_page_size, start + Number(md.total_compressed_size));
        }
      }
      assert.equal(rowsSoFar, Number(group.num_rows));
    }
  }
});

function chunkOf(g: number, col: string): ColumnChunk {
  return meta.row_groups[g]!.columns.find((c) => c.meta_data!.path_in_schema[0] === col)!;
}

test('per-page min/max, null flags and null counts equal those of the rows written (hyparquet readColumnIndex)', async () => {
  let allNullPages = 0;
  for (const col of ['id', 'big', 'f', 'd', 's', 'b', 'ts', 'long']) {
    const element = meta.schema.find((e) => e.name === col)!;
    for (let g = 0; g < meta.row_groups.length; g++) {
      const chunk = chunkOf(g, col);
      if (col === 'long' && g === 1) continue; // checked below: no ColumnIndex
      if (col === 'f') {
        // NaN in its pages: no min/max (DuckDB prunes by a max without NaN and lost rows), no ColumnIndex
        assert.equal(chunk.column_index_offset, undefined, `group ${g} f: no column index`);
        assert.equal(chunk.meta_data!.statistics?.max_value, undefined, `group ${g} f: no max`);
        continue;
      }
      assert.ok(chunk.column_index_offset !== undefined, `group ${g} ${col}: column index`);
      const ci = readColumnIndex(
        { view: await bytesAt(chunk.column_index_offset, chunk.column_index_length), offset: 0 },
        element,
      );
      const oi = readOffsetIndex({
        view: await bytesAt(chunk.offset_index_offset, chunk.offset_index_length),
        offset: 0,
      });
      const groupStart = g * GROUP;
      const groupRows = Number(meta.row_groups[g]!.num_rows);
      assert.equal(ci.null_pages.length, oi.page_locations.length);
      for (const [p, loc] of oi.page_locations.entries()) {
        const from = groupStart + Number(loc.first_row_index);
        const next = oi.page_locations[p + 1];
        const to = groupStart + (next ? Number(next.first_row_index) : groupRows);
        const want = expected(col, from, to);
        const where = `group ${g} ${col} page ${p}`;
        assert.equal(Number(ci.null_counts![p]), want.nulls, `${where}: nulls`);
        assert.equal(ci.null_pages[p], want.nulls === to - from, `${where}: null page`);
        if (ci.null_pages[p]) {
          allNullPages++;
          continue;
        }
        assert.deepEqual(comparable(ci.min_values[p]), want.min, `${where}: min`);
        assert.deepEqual(comparable(ci.max_values[p]), want.max, `${where}: max`);
      }
    }
  }
  assert.ok(allNullPages > 0, 'the all-null rows make all-null pages');
});

test('a chunk with a value longer than statistics keep has an OffsetIndex but no ColumnIndex', () => {
  const chunk = chunkOf(1, 'long');
  assert.ok(chunk.offset_index_offset !== undefined);
  assert.equal(chunk.column_index_offset, undefined);
  assert.equal(chunk.meta_data!.statistics?.max_value, undefined);
  assert.ok(chunkOf(0, 'long').column_index_offset !== undefined);
});

test('the indexes lie after the last row group and before the footer', () => {
  const groups = meta.row_groups;
  const last = groups[groups.length - 1]!;
  const dataEnd = Math.max(
    ...last.columns.map(
      (c) =>
        Number(c.meta_data!.dictionary_page_offset ?? c.meta_data!.data_page_offset) +
        Number(c.meta_data!.total_compressed_size),
    ),
  );
  for (const group of groups)
    for (const c of group.columns) {
      assert.ok(Number(c.offset_index_offset) >= dataEnd);
      assert.ok(Number(c.offset_index_offset) + c.offset_index_length! <= buffer.byteLength - 8 - meta.metadata_length);
    }
});

test('a nested leaf gets a page index too: first rows and per-page min/max of its values, checked on lists of exactly three', async () => {
  // row i holds [3i, 3i+1, 3i+2] (or null every 50th row: one slot, no value), so a page's values
  // and its first row are known without decoding its levels
  const n = 9_000;
  const nested = join(dir, 'nested.parquet');
  const rowsOf = Array.from({ length: n }, (_, i) => ({
    id: i,
    l: i % 50 === 49 ? null : [3 * i, 3 * i + 1, 3 * i + 2],
  }));
  await pipeline(fromIterable(rowsOf), toParquet(nested, { pageBytes: 2048, encoderThread: false }), {
    governor: false,
  });
  const buf = await asyncBufferFromFile(nested);
  const md = await parquetMetadataAsync(buf);
  const at = async (offset: bigint | number | undefined, length: number | undefined): Promise<DataView> =>
    new DataView(await buf.slice(Number(offset), Number(offset) + length!));
  const chunk = md.row_groups[0]!.columns.find((c) => c.meta_data!.path_in_schema[0] === 'l')!;
  const element = md.schema.find((e) => e.name === 'element')!;
  const oi = readOffsetIndex({ view: await at(chunk.offset_index_offset, chunk.offset_index_length), offset: 0 });
  const ci = readColumnIndex(
    { view: await at(chunk.column_index_offset, chunk.column_index_length), offset: 0 },
    element,
  );
  const pages = oi.page_locations;
  assert.ok(pages.length > 5, `${pages.length} pages`);
  assert.equal(pages[0]!.offset, chunk.meta_data!.data_page_offset);
  let slotsBefore = 0;
  for (const [p, loc] of pages.entries()) {
    const first = Number(loc.first_row_index);
    const next = p + 1 < pages.length ? Number(pages[p + 1]!.first_row_index) : n;
    assert.ok(next > first, `page ${p}: rows ${first}..${next}`);
    // the page header's value count is the slots of exactly those rows
    const reader = { view: await at(loc.offset, Math.min(loc.compressed_page_size, 256)), offset: 0 };
    const slots = parquetHeader(reader).data_page_header!.num_values;
    let expectSlots = 0;
    let nulls = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = first; i < next; i++) {
      const l = rowsOf[i]!.l;
      if (l === null) {
        expectSlots++;
        nulls++;
      } else {
        expectSlots += 3;
        min = Math.min(min, l[0]!);
        max = Math.max(max, l[2]!);
      }
    }
    assert.equal(slots, expectSlots, `page ${p}: slots`);
    slotsBefore += slots;
    assert.equal(Number(ci.null_counts![p]), nulls, `page ${p}: nulls`);
    assert.equal(ci.null_pages[p], false);
    // === : a DOUBLE min of +0 is written as -0 (the Parquet spec's rule for float statistics)
    const [lo, hi] = [ci.min_values[p] as unknown as number, ci.max_values[p] as unknown as number];
    assert.ok(
      lo === min && hi === max,
      `page ${p}: min/max ${ci.min_values[p]}..${ci.max_values[p]}, want ${min}..${max}`,
    );
  }
  assert.equal(slotsBefore, Number(chunk.meta_data!.num_values));
  // and the file still reads back whole, in DuckDB too
  const { rows: duck } = await duckRows(`SELECT count(*)::INT AS n, sum(list_sum(l))::DOUBLE AS s FROM '${nested}'`);
  assert.deepEqual(duck, [{ n, s: rowsOf.reduce((t, r) => t + (r.l ? r.l[0]! + r.l[1]! + r.l[2]! : 0), 0) }]);
});

test('pageBytes is validated at once', () => {
  for (const pageBytes of [0, -1, 'lots']) {
    assert.throws(
      () => toParquet(join(dir, 'never.parquet'), { pageBytes: pageBytes as number }),
      (e: unknown) =>
        e instanceof SpillwayError && e.code === ErrorCodes.INVALID_OPTION && /options\.pageBytes/.test(e.message),
      String(pageBytes),
    );
  }
});
