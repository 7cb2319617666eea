/**
 * The Parquet page index (parquet-format PageIndex.md) of the column chunks spillway writes: per
 * data page, where it is and its first row (OffsetIndex), its null count and min/max
 * (ColumnIndex), so that a reader can skip the pages a filter rules out. The encoder computes the
 * per-page statistics ({@link pageStatistics}), the row group layout adds offsets and sizes
 * (write/row-group.ts), and the writer serialises every index after the last row group, before
 * the footer ({@link pageIndexBlock}). Memory: a few numbers and a min/max per page.
 */
import type { ColumnBuffer } from './column-buffer.ts';
import { type ChunkStatistics, compareBytes, fixedStatistics } from './statistics.ts';
import { ThriftWriter, T } from './thrift.ts';

/** Statistics of one data page, in page order. */
export interface PageStats {
  /** Rows (records) before the page in its row group. */
  firstRow: number;
  nullCount: number;
  /** True when every value of the page is null. */
  nullPage: boolean;
  /** PLAIN bytes, as the chunk statistics (absent: not known, e.g. a value too long to keep). */
  min?: Uint8Array;
  max?: Uint8Array;
}

/** A chunk's page index as the footer metadata keeps it (JSON-able: min/max as base64). */
export interface ChunkPageIndex {
  offsets: number[];
  /** Compressed page sizes, header included. */
  sizes: number[];
  firstRows: number[];
  nullCounts: number[];
  nullPages: boolean[];
  /** Absent when a page that holds values has no min/max: then no ColumnIndex is written. */
  mins?: string[];
  maxs?: string[];
}

/** Where a chunk's indexes were written: [offset, length] each. */
export interface PageIndexLocation {
  columnIndex?: [number, number];
  offsetIndex: [number, number];
}

/**
 * Per-page statistics of a flat column whose data pages hold, in order, `entries` buffered slots
 * each, starting at row `firstRow` of the chunk; min/max and nulls are over the slots.
 */
export function pageStatistics(
  col: ColumnBuffer,
  pages: readonly { readonly entries: number; readonly firstRow: number }[],
): PageStats[] {
  const out: PageStats[] = [];
  let start = 0;
  for (const { entries, firstRow } of pages) {
    const end = start + entries;
    const s = fixedStatistics(col, start, end);
    out.push({
      firstRow,
      nullCount: s.nullCount,
      nullPage: s.nullCount === entries,
      ...(s.min !== undefined && s.max !== undefined ? { min: s.min, max: s.max } : {}),
    });
    start = end;
  }
  return out;
}

/**
 * A flat or nested byte-array chunk's statistics from its pages' (which cover every slot), as
 * {@link fixedStatistics} computes them over the whole chunk: the least page min and the greatest
 * page max. Undefined when some page holding values has no min/max (a value past the length
 * kept): the caller then computes them over the chunk.
 */
export function chunkStatisticsFromPages(col: ColumnBuffer, pages: readonly PageStats[]): ChunkStatistics | undefined {
  if (col.storage !== 'bytes' || col.kind === 'decimal') return undefined;
  const nullCount = col.nulls;
  if (nullCount === col.n) return { nullCount };
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  for (const page of pages) {
    if (page.nullPage) continue;
    if (page.min === undefined || page.max === undefined) return undefined;
    if (min === undefined || compareBytes(page.min, 0, page.min.length, min, 0, min.length) < 0) min = page.min;
    if (max === undefined || compareBytes(page.max, 0, page.max.length, max, 0, max.length) > 0) max = page.max;
  }
  return min === undefined || max === undefined ? { nullCount } : { nullCount, min, max };
}

const base64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** The footer form of a chunk's page index, from its page statistics and the pages' places in the file. */
export function chunkPageIndex(stats: readonly PageStats[], offsets: number[], sizes: number[]): ChunkPageIndex {
  const complete = stats.every((s) => s.nullPage || (s.min !== undefined && s.max !== undefined));
  return {
    offsets,
    sizes,
    firstRows: stats.map((s) => s.firstRow),
    nullCounts: stats.map((s) => s.nullCount),
    nullPages: stats.map((s) => s.nullPage),
    ...(complete
      ? {
          mins: stats.map((s) => (s.nullPage || !s.min ? '' : base64(s.min))),
          maxs: stats.map((s) => (s.nullPage || !s.max ? '' : base64(s.max))),
        }
      : {}),
  };
}

function columnIndex(w: ThriftWriter, p: ChunkPageIndex & { mins: string[]; maxs: string[] }): void {
  const n = p.offsets.length;
  w.begin();
  w.list(1, T.TRUE, n);
  // compact protocol list<bool> elements: 1 true, 2 false
  for (const isNull of p.nullPages) w.byte(isNull ? 1 : 2);
  w.list(2, T.BINARY, n);
  for (const m of p.mins) w.rawBinary(Buffer.from(m, 'base64'));
  w.list(3, T.BINARY, n);
  for (const m of p.maxs) w.rawBinary(Buffer.from(m, 'base64'));
  w.i32(4, 0); // boundary_order: UNORDERED
  w.list(5, T.I64, n);
  for (const c of p.nullCounts) w.rawI64(c);
  w.end();
}

function offsetIndex(w: ThriftWriter, p: ChunkPageIndex): void {
  w.begin();
  w.list(1, T.STRUCT, p.offsets.length);
  for (let i = 0; i < p.offsets.length; i++) {
    w.begin();
    w.i64(1, p.offsets[i]!);
    w.i32(2, p.sizes[i]!);
    w.i64(3, p.firstRows[i]!);
    w.end();
  }
  w.end();
}

/**
 * Serialises the ColumnIndex of every chunk that has one, then every OffsetIndex (the layout
 * parquet-mr and arrow-rs use), starting at file offset `start`; returns the bytes and the row
 * groups with each chunk's index locations set (copies: the writer's own metadata is unchanged).
 */
export function pageIndexBlock<G extends { columns: C[] }, C extends { pageIndex?: ChunkPageIndex }>(
  groups: readonly G[],
  start: number,
): { bytes: Uint8Array; groups: G[] } {
  const w = new ThriftWriter(4096);
  const locations = groups.map((g) => g.columns.map((): Partial<PageIndexLocation> => ({})));
  groups.forEach((g, i) =>
    g.columns.forEach((c, k) => {
      const p = c.pageIndex;
      if (p?.mins === undefined || p.maxs === undefined) return;
      const at = w.length;
      columnIndex(w, p as ChunkPageIndex & { mins: string[]; maxs: string[] });
      locations[i]![k]!.columnIndex = [start + at, w.length - at];
    }),
  );
  groups.forEach((g, i) =>
    g.columns.forEach((c, k) => {
      if (c.pageIndex === undefined) return;
      const at = w.length;
      offsetIndex(w, c.pageIndex);
      locations[i]![k]!.offsetIndex = [start + at, w.length - at];
    }),
  );
  return {
    bytes: w.result().slice(),
    groups: groups.map((g, i) => ({
      ...g,
      columns: g.columns.map((c, k) => {
        const at = locations[i]![k]!;
        return at.offsetIndex === undefined ? c : { ...c, indexLocation: at as PageIndexLocation };
      }),
    })),
  };
}
