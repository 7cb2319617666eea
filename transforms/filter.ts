/** `filter`: keeps the rows for which a sync or async predicate is truthy. */
import type { Row } from '../lib/batch.ts';
import type { BatchTransform } from '../lib/transform.ts';
import type { RowFunction } from '../lib/row-function.ts';
import { rowStage, type RowOptions } from '../lib/row-stage.ts';

/**
 * Keeps each row for which `predicate` returns a truthy value (or a promise of one).
 *
 * @example
 * ```ts
 * filter((row) => row.qty > 0)
 * ```
 */
export function filter<I = Record<string, unknown>>(predicate: (row: I, index: number) => unknown, options?: RowOptions): BatchTransform {
  return rowStage('filter', predicate as RowFunction, options, 'filter');
}
