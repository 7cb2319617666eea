/**
 * Parquet column statistics as {@link ColumnRange}s for pruning, with the traps spelled out:
 * only flat top-level columns; byte-array min/max only from the new `min_value`/`max_value`
 * fields (the deprecated `min`/`max` of old writers used signed byte order) and only for string
 * columns; truncated bounds (`is_*_value_exact: false`) still bound but never prove equality;
 * decimals, INT96, float16, unsigned, binary, JSON and nested columns are never used (a wrong skip
 * would lose rows, a missed skip only costs a read); float columns may hold NaN, which statistics
 * leave out. Values must have the type the row values have (Date for dates and timestamps).
 */
import type { ColumnChunk, FileMetaData, RowGroup, SchemaElement } from 'hyparquet';
import type { ColumnRange } from './predicate.ts';

/** How a top-level flat column's statistics may be used, or undefined when they must not be. */
export type StatKind = 'number' | 'float' | 'string' | 'date' | 'boolean';

/** The {@link StatKind} of a schema element, or undefined when its statistics must not be used. */
export function kindOf(e: SchemaElement): StatKind | undefined {
  if ((e.num_children ?? 0) > 0 || e.repetition_type === 'REPEATED') return undefined;
  const logical = e.logical_type?.type;
  const converted = e.converted_type;
  if (converted === 'DECIMAL' || logical === 'DECIMAL') return undefined;
  if (
    converted?.startsWith('UINT_') ||
    (logical === 'INTEGER' && e.logical_type?.type === 'INTEGER' && !e.logical_type.isSigned)
  )
    return undefined;
  if (logical === 'TIME' || converted === 'TIME_MILLIS' || converted === 'TIME_MICROS' || converted === 'INTERVAL')
    return undefined;
  switch (e.type) {
    case 'INT32':
    case 'INT64':
      if (
        logical === 'DATE' ||
        converted === 'DATE' ||
        logical === 'TIMESTAMP' ||
        converted === 'TIMESTAMP_MILLIS' ||
        converted === 'TIMESTAMP_MICROS'
      )
        return 'date';
      return 'number';
    case 'FLOAT':
    case 'DOUBLE':
      return 'float';
    case 'BOOLEAN':
      return 'boolean';
    case 'BYTE_ARRAY':
      return converted === 'UTF8' || logical === 'STRING' || converted === 'ENUM' || logical === 'ENUM'
        ? 'string'
        : undefined;
    default:
      return undefined;
  }
}

/** The top-level schema elements by name (children of the root, nested subtrees skipped). */
export function topLevelElements(metadata: FileMetaData): Map<string, SchemaElement> {
  const out = new Map<string, SchemaElement>();
  const schema = metadata.schema;
  let i = 1;
  const skip = (): void => {
    const e = schema[i++]!;
    for (let c = 0; c < (e.num_children ?? 0); c++) skip();
  };
  const roots = schema[0]?.num_children ?? 0;
  for (let c = 0; c < roots && i < schema.length; c++) {
    const e = schema[i]!;
    out.set(e.name, e);
    skip();
  }
  return out;
}

/** True when a decoded statistic `v` has the type the rows of a `kind` column hold (else it is ignored). */
export function fits(kind: StatKind, v: unknown): boolean {
  switch (kind) {
    case 'number':
      return typeof v === 'number' || typeof v === 'bigint';
    case 'float':
      return typeof v === 'number' && !Number.isNaN(v);
    case 'string':
      return typeof v === 'string' && !v.includes('\uFFFD');
    case 'date':
      return v instanceof Date && !Number.isNaN(v.getTime());
    case 'boolean':
      return typeof v === 'boolean';
  }
}

/** The statistics of column `col` in `group` as a range, or undefined when they cannot be trusted. */
export function chunkRange(
  chunk: ColumnChunk | undefined,
  element: SchemaElement | undefined,
  rows: number,
): ColumnRange | undefined {
  const meta = chunk?.meta_data;
  if (!meta || !element || meta.path_in_schema.length !== 1) return undefined;
  const kind = kindOf(element);
  const stats = meta.statistics;
  if (kind === undefined || !stats) return undefined;
  const nullCount = stats.null_count === undefined ? undefined : Number(stats.null_count);
  const useNew = stats.min_value !== undefined || stats.max_value !== undefined;
  // the deprecated fields: signed order, wrong for strings; fine for numbers, dates, booleans
  let min: unknown = useNew ? stats.min_value : kind === 'string' ? undefined : stats.min;
  let max: unknown = useNew ? stats.max_value : kind === 'string' ? undefined : stats.max;
  if (min !== undefined && !fits(kind, min)) min = undefined;
  if (max !== undefined && !fits(kind, max)) max = undefined;
  const exact = useNew && stats.is_min_value_exact !== false && stats.is_max_value_exact !== false;
  return { rows, nullCount, min, max, exact, nanPossible: kind === 'float' };
}

/** A function from column name to its range in `group` (for `rangeLeaf`). */
export function rowGroupRanges(
  metadata: FileMetaData,
  group: RowGroup,
  elements = topLevelElements(metadata),
): (col: string) => ColumnRange | undefined {
  const rows = Number(group.num_rows);
  return (col) => {
    const chunk = group.columns.find(
      (c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === col,
    );
    return chunkRange(chunk, elements.get(col), rows);
  };
}

/** Compressed bytes of the column chunks of `columns` (all when undefined) in `group`. */
export function rowGroupBytes(group: RowGroup, columns?: ReadonlySet<string>): number {
  let total = 0;
  for (const chunk of group.columns) {
    const meta = chunk.meta_data;
    if (!meta) continue;
    if (columns && !columns.has(meta.path_in_schema[0] ?? '')) continue;
    total += Number(meta.total_compressed_size);
  }
  return total;
}
