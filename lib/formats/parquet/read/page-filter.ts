/**
 * The contract between the reader and a page-level filter (pushdown through the Parquet page
 * index): the reader reads the ColumnIndex of the filter's columns in a row group and hands over
 * each column's pages as plain data ({@link ColumnPages}); the filter answers which rows may
 * match, as sorted row ranges ({@link RowRanges}); the reader then reads only the pages of those
 * rows (read/page-selection.ts) and reports what it read and skipped.
 */
import type { FileMetaData, RowGroup } from 'hyparquet';

/**
 * Rows of a row group as sorted, disjoint, non-empty half-open ranges, flattened:
 * `[start0, end0, start1, end1, ...]`.
 */
export type RowRanges = readonly number[];

/** What a ColumnIndex says about the data pages of one column chunk, page by page. */
export interface ColumnPages {
  /** First row of each page in the row group; page i ends where page i + 1 starts (the last at the group's end). */
  readonly firstRows: readonly number[];
  readonly nullPages: readonly boolean[];
  /** Nulls per page, when the writer stored them. */
  readonly nullCounts: readonly number[] | undefined;
  /** Lower and upper bounds per page, typed as footer statistics are (undefined: unknown; may be truncated). */
  readonly mins: readonly unknown[];
  readonly maxs: readonly unknown[];
}

/** A page-level filter handed to `openParquet` (see lib/dataset/page-pushdown.ts). */
export interface PageFilter {
  /** Top-level columns whose ColumnIndex the filter uses. */
  readonly columns: readonly string[];
  /**
   * The rows of row group `group` that may match, from the pages of the filter's columns that have
   * a ColumnIndex (`pages`); undefined when every row may.
   */
  select(group: RowGroup, metadata: FileMetaData, pages: ReadonlyMap<string, ColumnPages>): RowRanges | undefined;
  /** Data pages of the projected columns read and skipped in a row group, and the skipped pages' compressed bytes. */
  count(read: number, skipped: number, bytesSkipped: number): void;
}

/** Rows in `ranges`. */
export function rangeRows(ranges: RowRanges): number {
  let total = 0;
  for (let i = 0; i < ranges.length; i += 2) total += ranges[i + 1]! - ranges[i]!;
  return total;
}

/** `ranges` cut to rows `[from, to)`. */
export function clipRanges(ranges: RowRanges, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    const s = Math.max(from, ranges[i]!);
    const e = Math.min(to, ranges[i + 1]!);
    if (s < e) out.push(s, e);
  }
  return out;
}

/** The row just past the `count`-th row of `ranges` (count >= 1, at most their rows). */
export function rowAfter(ranges: RowRanges, count: number): number {
  let left = count;
  for (let i = 0; i < ranges.length; i += 2) {
    const len = ranges[i + 1]! - ranges[i]!;
    if (left <= len) return ranges[i]! + left;
    left -= len;
  }
  return ranges[ranges.length - 1] ?? 0;
}
