/**
 * Page-level pushdown for Parquet: within a row group that row-group pruning kept, the rows whose
 * pages (from the page index's ColumnIndex) cannot make `where` true are not read. The page
 * boundaries of the filter's columns cut the row group into segments; each segment gets, per
 * column, the statistics of the page holding it (a column without a ColumnIndex: its chunk
 * statistics), and the same evaluator as row groups (`rangeLeaf`, three-valued) decides whether
 * the segment may hold a matching row. Page bounds are treated as inexact (writers may truncate
 * strings), floats as possibly NaN, missing null counts as possibly null: a page is skipped only
 * when it provably holds no match. The rows kept are still filtered exactly by the dataset source.
 */
import type { FileMetaData, RowGroup, SchemaElement } from 'hyparquet';
import type { StageStats } from '../core/stage.ts';
import type { ColumnPages, PageFilter, RowRanges } from '../formats/parquet/read/page-filter.ts';
import { TRUE, possibleOutcomes, predicateColumns, rangeLeaf, type ColumnRange } from './predicate.ts';
import type { PruneRequest } from './pushdown.ts';
import { fits, kindOf, rowGroupRanges, topLevelElements } from './row-group-stats.ts';

/** The range of page `p` of `pages` for a column of `kind`, covering `rows` rows. */
function pageRange(pages: ColumnPages, p: number, rows: number, element: SchemaElement): ColumnRange | undefined {
  const kind = kindOf(element);
  if (kind === undefined) return undefined;
  if (pages.nullPages[p] === true) return { rows, nullCount: rows, exact: false, nanPossible: kind === 'float' };
  const count = pages.nullCounts?.[p];
  const min = pages.mins[p];
  const max = pages.maxs[p];
  return {
    rows,
    ...(count === undefined || !Number.isSafeInteger(count) ? {} : { nullCount: count }),
    ...(min !== undefined && fits(kind, min) ? { min } : {}),
    ...(max !== undefined && fits(kind, max) ? { max } : {}),
    exact: false,
    nanPossible: kind === 'float',
  };
}

/** The sorted segment starts: every page start of every column, and the group's end. */
function boundaries(pages: ReadonlyMap<string, ColumnPages>, groupRows: number): number[] {
  const starts = new Set<number>([0, groupRows]);
  for (const p of pages.values()) for (const r of p.firstRows) if (r > 0 && r < groupRows) starts.add(r);
  return [...starts].sort((a, b) => a - b);
}

/**
 * Whether a column's page index is usable: first rows starting at 0, increasing, within the group;
 * and a ColumnIndex that does not contradict itself. A corpus file (datapage_v1-snappy-compressed-
 * checksum.parquet) marks every page of a REQUIRED column a null page with null counts of -1:
 * trusted, every page was skipped and a filter matching all 2,560 rows returned none.
 */
function wellFormed(p: ColumnPages, groupRows: number, element: SchemaElement): boolean {
  const n = p.firstRows.length;
  if (n === 0 || p.firstRows[0] !== 0 || p.nullPages.length !== n || p.mins.length !== n || p.maxs.length !== n)
    return false;
  if (element.repetition_type === 'REQUIRED' && p.nullPages.some((x) => x === true)) return false;
  if (p.nullCounts?.some((c) => c !== undefined && !(Number(c) >= 0 && Number(c) <= groupRows))) return false;
  for (let i = 1; i < n; i++) if (!(p.firstRows[i]! > p.firstRows[i - 1]!)) return false;
  return p.firstRows[n - 1]! < groupRows;
}

/**
 * A page filter for `where` that counts `pagesRead`, `pagesSkipped` in `stats.details` and adds
 * the skipped pages' compressed bytes to `bytesSkipped`.
 */
export function pagePruner({ where, ignore }: PruneRequest, stats: StageStats): PageFilter {
  const ignored = new Set(ignore);
  let elements: { metadata: FileMetaData; map: Map<string, SchemaElement> } | undefined;
  stats.details.pagesSkipped ??= 0;
  stats.details.pagesRead ??= 0;
  stats.details.bytesSkipped ??= 0;
  return {
    columns: [...predicateColumns(where)].filter((c) => !ignored.has(c)),
    select(group: RowGroup, metadata: FileMetaData, pages: ReadonlyMap<string, ColumnPages>): RowRanges | undefined {
      if (elements?.metadata !== metadata) elements = { metadata, map: topLevelElements(metadata) };
      const groupRows = Number(group.num_rows);
      const usable = new Map(
        [...pages].filter(
          ([col, p]) =>
            !ignored.has(col) && elements!.map.has(col) && wellFormed(p, groupRows, elements!.map.get(col)!),
        ),
      );
      if (usable.size === 0) return undefined;
      const chunk = rowGroupRanges(metadata, group, elements.map);
      const cuts = boundaries(usable, groupRows);
      const at = new Map([...usable.keys()].map((c) => [c, 0]));
      const kept: number[] = [];
      for (let s = 0; s + 1 < cuts.length; s++) {
        const start = cuts[s]!;
        const ranges = new Map<string, ColumnRange | undefined>();
        for (const [col, p] of usable) {
          let i = at.get(col)!;
          while (i + 1 < p.firstRows.length && p.firstRows[i + 1]! <= start) i++;
          at.set(col, i);
          const end = i + 1 < p.firstRows.length ? p.firstRows[i + 1]! : groupRows;
          ranges.set(col, pageRange(p, i, end - p.firstRows[i]!, elements.map.get(col)!));
        }
        const leaf = rangeLeaf((col) =>
          ignored.has(col) ? undefined : ranges.has(col) ? ranges.get(col) : chunk(col),
        );
        if ((possibleOutcomes(where, leaf) & TRUE) === 0) continue;
        // adjacent segments merge into one range
        if (kept.length > 0 && kept[kept.length - 1] === start) kept[kept.length - 1] = cuts[s + 1]!;
        else kept.push(start, cuts[s + 1]!);
      }
      return kept.length === 2 && kept[0] === 0 && kept[1] === groupRows ? undefined : kept;
    },
    count(read: number, skipped: number, bytesSkipped: number): void {
      stats.details.pagesRead = (stats.details.pagesRead as number) + read;
      stats.details.pagesSkipped = (stats.details.pagesSkipped as number) + skipped;
      stats.details.bytesSkipped = (stats.details.bytesSkipped as number) + bytesSkipped;
    },
  };
}
