/**
 * Page-level pushdown on the read side: for a row group the row-group filter kept, reads the page
 * index of the page filter's columns and of the projected columns (read/page-index.ts), asks the
 * filter which rows may match, and counts the data pages read and skipped. Its cursors then hand
 * out only those rows, aligned across columns: a flat column with an OffsetIndex reads just the
 * pages overlapping the rows (its dictionary page too) and drops the other rows of those pages. A
 * nested column whose leaves all have an OffsetIndex reads, in every leaf, the pages of one row
 * set that is a union of whole pages of each leaf (leaves break pages at different rows; pages of
 * a repeated column start at a row's start, which the index requires); any other column (no
 * index) is read as before and its other rows dropped.
 */
import { isFlatColumn } from 'hyparquet/src/schema.js';
import type { ColumnChunk, DecodedArray, FileMetaData, SchemaTree } from 'hyparquet';
import { FormatError } from '../../../core/errors.ts';
import { topLevelElements } from '../../../dataset/row-group-stats.ts';
import { parsers } from '../types.ts';
import type { FileBuffer } from '../fileBuffer.ts';
import { concatValues, openColumn, type ColumnCursor, type DecodeSettings, type NarrowChunk } from './column.ts';
import { chunksNamed, treePath } from './column-index.ts';
import { clipRanges, rangeRows, type ColumnPages, type PageFilter, type RowRanges } from './page-filter.ts';
import {
  indexRange,
  parseColumnIndex,
  parseOffsetIndex,
  readRanges,
  type IndexRange,
  type PageLocation,
} from './page-index.ts';
import type { PageStream } from './pages.ts';

/** The rows of a row group to read, and the page locations of the projected flat columns. */
export interface GroupSelection {
  readonly ranges: RowRanges;
  /** Rows in `ranges`. */
  readonly rows: number;
  readonly locations: ReadonlyMap<string, readonly PageLocation[]>;
  /**
   * The projected nested columns whose leaves all have an OffsetIndex: each leaf's page locations,
   * and the rows they all read (`ranges` grown to whole pages of every leaf, {@link commonCover}).
   */
  readonly nested: ReadonlyMap<string, NestedSelection>;
}

/** A nested column's part of a {@link GroupSelection}. */
export interface NestedSelection {
  readonly leaves: readonly (readonly PageLocation[])[];
  readonly cover: RowRanges;
}

/** What the selection needs of an open file. */
export interface SelectionFile {
  readonly footer: FileMetaData;
  readonly tree: SchemaTree;
  readonly names: readonly string[];
  readonly file: FileBuffer;
  readonly pageFilter: PageFilter;
}

/** The chunk of a flat top-level column, or undefined (nested or missing). */
function flatChunk(tree: SchemaTree, chunks: readonly ColumnChunk[], name: string): ColumnChunk | undefined {
  const leaves = chunksNamed(chunks, name);
  const meta = leaves[0]?.meta_data;
  if (leaves.length !== 1 || !meta || meta.path_in_schema.length !== 1) return undefined;
  return isFlatColumn(treePath(tree, meta.path_in_schema)) ? leaves[0] : undefined;
}

function chunkBytes(chunk: ColumnChunk): [number, number] {
  const meta = chunk.meta_data!;
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  return [start, start + Number(meta.total_compressed_size)];
}

/** For each page (rows up to the next page's first row), whether it overlaps `ranges` (one walk over both). */
function overlapping(pages: readonly PageLocation[], groupRows: number, ranges: RowRanges): boolean[] {
  const out = new Array<boolean>(pages.length);
  let r = 0;
  for (let p = 0; p < pages.length; p++) {
    const start = pages[p]!.firstRow;
    const end = p + 1 < pages.length ? pages[p + 1]!.firstRow : groupRows;
    while (r < ranges.length && ranges[r + 1]! <= start) r += 2;
    out[p] = r < ranges.length && ranges[r]! < end;
  }
  return out;
}

/**
 * Reads the page index of row group `g` and returns the rows to read from row `skip` on, or
 * undefined when the filter's columns have no ColumnIndex or every row from `skip` may match.
 */
export async function selectGroupRows(f: SelectionFile, g: number, skip: number): Promise<GroupSelection | undefined> {
  const group = f.footer.row_groups[g]!;
  const groupRows = Number(group.num_rows);
  const fileBytes = f.file.byteLength;
  const filter = f.pageFilter;
  const chunkOf = new Map<string, ColumnChunk>();
  for (const name of new Set([...filter.columns, ...f.names])) {
    const chunk = flatChunk(f.tree, group.columns, name);
    if (chunk !== undefined && indexRange(chunk, 'offset', fileBytes) !== undefined) chunkOf.set(name, chunk);
  }
  const indexed = filter.columns.filter((c) => chunkOf.has(c) && indexRange(chunkOf.get(c)!, 'column', fileBytes));
  if (indexed.length === 0) return undefined;
  const offsetNames = [...chunkOf.keys()];
  const nestedLeaves = [...nestedChunks(f, group.columns)];
  const wanted: IndexRange[] = [
    ...offsetNames.map((n) => indexRange(chunkOf.get(n)!, 'offset', fileBytes)!),
    ...indexed.map((n) => indexRange(chunkOf.get(n)!, 'column', fileBytes)!),
    ...nestedLeaves.flatMap(([, leaves]) => leaves.map((c) => indexRange(c, 'offset', fileBytes)!)),
  ];
  const bytes = await readRanges(f.file, wanted);
  const nestedPages = new Map<string, PageLocation[][]>();
  let at = offsetNames.length + indexed.length;
  for (const [name, leaves] of nestedLeaves) {
    const pages = leaves.map((c) => parseOffsetIndex(bytes[at++]!, groupRows, ...chunkBytes(c)));
    if (pages.every((p) => p !== undefined)) nestedPages.set(name, pages as PageLocation[][]);
  }
  const locations = new Map<string, PageLocation[]>();
  offsetNames.forEach((n, i) => {
    const [start, end] = chunkBytes(chunkOf.get(n)!);
    const pages = parseOffsetIndex(bytes[i]!, groupRows, start, end);
    if (pages !== undefined) locations.set(n, pages);
  });
  const elements = topLevelElements(f.footer);
  const columnPages = new Map<string, ColumnPages>();
  indexed.forEach((n, i) => {
    const pages = locations.get(n);
    const element = elements.get(n);
    if (pages === undefined || element === undefined) return;
    const parsed = parseColumnIndex(bytes[offsetNames.length + i]!, element, parsers, pages);
    if (parsed !== undefined) columnPages.set(n, parsed);
  });
  if (columnPages.size === 0) return undefined;
  const ranges = clipRanges(filter.select(group, f.footer, columnPages) ?? [0, groupRows], skip, groupRows);
  const nested = new Map<string, NestedSelection>();
  for (const [name, leaves] of nestedPages) nested.set(name, { leaves, cover: commonCover(leaves, groupRows, ranges) });
  countPages(filter, f.names, locations, nested, groupRows, ranges);
  if (skip === 0 && ranges.length === 2 && ranges[0] === 0 && ranges[1] === groupRows) return undefined;
  const projected = new Map([...locations].filter(([n]) => f.names.includes(n)));
  return { ranges, rows: rangeRows(ranges), locations: projected, nested };
}

/** The leaf chunks of each projected nested column whose leaves all have an OffsetIndex. */
function* nestedChunks(f: SelectionFile, chunks: readonly ColumnChunk[]): Generator<[string, readonly ColumnChunk[]]> {
  for (const name of f.names) {
    const leaves = chunksNamed(chunks, name);
    if (leaves.length === 0 || flatChunk(f.tree, chunks, name) !== undefined) continue;
    if (leaves.every((c) => indexRange(c, 'offset', f.file.byteLength) !== undefined)) yield [name, leaves];
  }
}

/** The rows of the pages of `pages` overlapping `ranges`, as ranges (a superset of `ranges`). */
function pageSpans(pages: readonly PageLocation[], groupRows: number, ranges: RowRanges): number[] {
  const kept = overlapping(pages, groupRows, ranges);
  const out: number[] = [];
  for (let p = 0; p < pages.length; p++) {
    if (!kept[p]) continue;
    const start = pages[p]!.firstRow;
    const end = p + 1 < pages.length ? pages[p + 1]!.firstRow : groupRows;
    if (out.length > 0 && out[out.length - 1] === start) out[out.length - 1] = end;
    else out.push(start, end);
  }
  return out;
}

/**
 * The smallest row set holding `ranges` that is a union of whole pages of every leaf: grown leaf
 * by leaf until no leaf's pages reach past it (it only grows, so this ends).
 */
export function commonCover(
  leaves: readonly (readonly PageLocation[])[],
  groupRows: number,
  ranges: RowRanges,
): number[] {
  let cover = [...ranges];
  for (;;) {
    let next = cover;
    for (const pages of leaves) next = pageSpans(pages, groupRows, next);
    if (next.length === cover.length && next.every((v, i) => v === cover[i])) return cover;
    cover = next;
  }
}

/** `ranges` (inside `cover`) numbered as rows of `cover` only. */
function within(cover: RowRanges, ranges: RowRanges): number[] {
  const out: number[] = [];
  let c = 0;
  let before = 0; // rows of cover's earlier ranges
  for (let i = 0; i < ranges.length; i += 2) {
    while (cover[c + 1]! <= ranges[i]!) {
      before += cover[c + 1]! - cover[c]!;
      c += 2;
    }
    const shift = cover[c]! - before;
    out.push(ranges[i]! - shift, ranges[i + 1]! - shift);
  }
  return out;
}

function countPages(
  filter: PageFilter,
  names: readonly string[],
  locations: ReadonlyMap<string, readonly PageLocation[]>,
  nested: ReadonlyMap<string, NestedSelection>,
  groupRows: number,
  ranges: RowRanges,
): void {
  let read = 0;
  let skipped = 0;
  let bytes = 0;
  const count = (pages: readonly PageLocation[], rows: RowRanges): void => {
    const kept = overlapping(pages, groupRows, rows);
    for (let p = 0; p < pages.length; p++) {
      if (kept[p]) read++;
      else {
        skipped++;
        bytes += pages[p]!.size;
      }
    }
  };
  // a nested column reads the pages of its leaves' common row set (see openSelectedCursors)
  for (const { leaves, cover } of nested.values()) for (const pages of leaves) count(pages, cover);
  for (const name of names) {
    const pages = locations.get(name);
    if (pages !== undefined) count(pages, ranges);
  }
  filter.count(read, skipped, bytes);
}

/** Rows of a cursor thrown away at once at most (the rows between two selected ranges). */
const DISCARD_ROWS = 8192;

/** A cursor over `inner`'s rows in `ranges` only (rows counted from `inner`'s first). */
export function selectingCursor(inner: ColumnCursor, ranges: RowRanges): ColumnCursor {
  let at = 0;
  let r = 0;
  return {
    async take(n: number): Promise<DecodedArray> {
      const parts: DecodedArray[] = [];
      let need = n;
      while (need > 0) {
        if (r >= ranges.length)
          throw new FormatError(
            `Parquet page selection was asked for more rows than its ${rangeRows(ranges)} selected rows`,
            {},
          );
        const start = ranges[r]!;
        const end = ranges[r + 1]!;
        while (at < start) {
          const k = Math.min(start - at, DISCARD_ROWS);
          await inner.take(k);
          at += k;
        }
        const k = Math.min(need, end - at);
        parts.push(await inner.take(k));
        at += k;
        need -= k;
        if (at >= end) r += 2;
      }
      return concatValues(parts, n);
    },
  };
}

/** Pages of several byte runs of a chunk, one after the other. */
function concatPages(streams: readonly PageStream[]): PageStream {
  let i = 0;
  return {
    async next() {
      for (; i < streams.length; i++) {
        const page = await streams[i]!.next();
        if (page) return page;
      }
      return undefined;
    },
  };
}

/** Byte runs and rows of the pages of `pages` overlapping `ranges`, and `ranges` in the kept pages' row numbering. */
export function keptPages(
  pages: readonly PageLocation[],
  groupRows: number,
  ranges: RowRanges,
): { runs: [number, number][]; rows: number; ranges: number[] } {
  const runs: [number, number][] = [];
  let rows = 0;
  // rows of the skipped pages before each kept page, to renumber the ranges
  const gaps: [number, number][] = [];
  let dropped = 0;
  const kept = overlapping(pages, groupRows, ranges);
  for (let p = 0; p < pages.length; p++) {
    const page = pages[p]!;
    const end = p + 1 < pages.length ? pages[p + 1]!.firstRow : groupRows;
    if (!kept[p]) {
      dropped += end - page.firstRow;
      continue;
    }
    gaps.push([page.firstRow, dropped]);
    rows += end - page.firstRow;
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === page.offset) last[1] = page.offset + page.size;
    else runs.push([page.offset, page.offset + page.size]);
  }
  const renumbered: number[] = [];
  let g = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    while (g + 1 < gaps.length && gaps[g + 1]![0] <= ranges[i]!) g++;
    const shift = gaps[g]?.[1] ?? 0;
    renumbered.push(ranges[i]! - shift, ranges[i + 1]! - shift);
  }
  return { runs, rows, ranges: renumbered };
}

/** Opens the cursors of the projected columns of row group `g` over the selected rows only. */
export function openSelectedCursors(
  tree: SchemaTree,
  chunks: readonly ColumnChunk[],
  g: number,
  groupRows: number,
  selection: GroupSelection,
  columns: readonly { name: string; settings: DecodeSettings }[],
): ColumnCursor[] {
  return columns.map(({ name, settings }) => {
    const nested = selection.nested.get(name);
    if (nested !== undefined) {
      // every leaf reads the pages of one common row set, and the selected rows are cut from it
      const { leaves, cover } = nested;
      const rows = rangeRows(cover);
      const narrow: NarrowChunk = (chunk, leaf) =>
        keptStream(chunk, leaves[leaf]!, keptPages(leaves[leaf]!, groupRows, cover).runs, rows);
      const cursor = openColumn(tree, chunks, name, g, groupRows, 0, settings, narrow);
      return selectingCursor(cursor, within(cover, selection.ranges));
    }
    const pages = selection.locations.get(name);
    if (pages === undefined)
      return selectingCursor(openColumn(tree, chunks, name, g, groupRows, 0, settings), selection.ranges);
    const kept = keptPages(pages, groupRows, selection.ranges);
    const narrow: NarrowChunk = (chunk) => keptStream(chunk, pages, kept.runs, kept.rows);
    return selectingCursor(openColumn(tree, chunks, name, g, groupRows, 0, settings, narrow), kept.ranges);
  });
}

/** The page stream of a chunk's kept runs, after what precedes its first data page (the dictionary page, always read). */
function keptStream(
  chunk: Parameters<NarrowChunk>[0],
  pages: readonly PageLocation[],
  runs: readonly [number, number][],
  rows: number,
): ReturnType<NarrowChunk> {
  const first = pages[0]!.offset;
  const all = chunk.start < first ? [[chunk.start, first] as [number, number], ...runs] : runs;
  return { pages: concatPages(all.map(([a, b]) => chunk.open(a, b))), rows };
}
