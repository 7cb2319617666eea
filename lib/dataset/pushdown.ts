/**
 * Row-group pushdown for Parquet: a `rowGroupFilter` for `openParquet` that skips the row groups
 * whose statistics prove that `where` cannot be true for any of their rows, and counts what it
 * skipped in the stage's stats. The rows of the groups it keeps are still filtered exactly by the
 * dataset source: statistics only ever rule groups out.
 */
import type { FileMetaData, RowGroup, SchemaElement } from 'hyparquet';
import type { StageStats } from '../core/stage.ts';
import { TRUE, possibleOutcomes, rangeLeaf, type Predicate } from './predicate.ts';
import { rowGroupBytes, rowGroupRanges, topLevelElements } from './row-group-stats.ts';

/**
 * The hidden option key through which a dataset source hands its `where` to the single-file
 * `fromParquet` of each file (a symbol, so it is not a public option).
 */
export const PRUNE_WHERE: unique symbol = Symbol.for('spillway.dataset.pruneWhere');

/**
 * What a dataset hands each file's `fromParquet` to prune with: its `where`, and the columns whose
 * statistics must not be used because the dataset replaces the file's own column of that name
 * (hive partition keys, `fileColumn`): pruning by the file's column lost the rows whose partition
 * value matched. The dataset already pruned whole files by those columns' values.
 */
export interface PruneRequest {
  readonly where: Predicate;
  readonly ignore: readonly string[];
}

/**
 * A row-group filter for `where` that counts `rowGroupsSkipped`, `rowGroupsRead` and
 * `bytesSkipped` (compressed bytes of the projected column chunks not read) in `stats.details`.
 */
export function rowGroupPruner(
  { where, ignore }: PruneRequest,
  columns: readonly string[] | undefined,
  stats: StageStats,
): (index: number, group: RowGroup, metadata: FileMetaData) => boolean {
  const ignored = new Set(ignore);
  const projected = columns === undefined ? undefined : new Set(columns);
  let elements: { metadata: FileMetaData; map: Map<string, SchemaElement> } | undefined;
  stats.details.rowGroupsSkipped ??= 0;
  stats.details.rowGroupsRead ??= 0;
  stats.details.bytesSkipped ??= 0;
  return (_index, group, metadata) => {
    if (elements?.metadata !== metadata) elements = { metadata, map: topLevelElements(metadata) };
    const ranges = rowGroupRanges(metadata, group, elements.map);
    const leaf = rangeLeaf((col) => (ignored.has(col) ? undefined : ranges(col)));
    const may = (possibleOutcomes(where, leaf) & TRUE) !== 0;
    if (may) {
      stats.details.rowGroupsRead = (stats.details.rowGroupsRead as number) + 1;
    } else {
      stats.details.rowGroupsSkipped = (stats.details.rowGroupsSkipped as number) + 1;
      stats.details.bytesSkipped = (stats.details.bytesSkipped as number) + rowGroupBytes(group, projected);
    }
    return may;
  };
}
