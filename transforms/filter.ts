/** `filter`: keeps the rows for which a sync or async predicate is truthy. */
import type { BatchTransform } from '../lib/core/transform.ts';
import type { RowFunction } from '../lib/core/row-function.ts';
import { rowStage, type ViewRowOptions } from '../lib/core/row-stage.ts';

/**
 * Keeps each row for which `predicate` returns a truthy value (or a promise of one).
 *
 * Over Arrow batches (no rows built yet) the predicate gets a read-only row view by default: it
 * reads the columns in place, no object is made per row, and the kept rows leave as an Arrow
 * batch. The view is valid during the call only; pass `{ input: 'object' }` for plain objects.
 *
 * `index` is the row's position in its batch: it starts at 0 in every batch, and batch sizes vary
 * (`batchSize: 'auto'`), so it is not the row's position in the input (count rows in the function
 * for that).
 *
 * @example
 * ```ts
 * filter((row) => row.qty > 0)
 * ```
 */
export function filter<I = Record<string, unknown>>(
  predicate: (row: I, index: number) => unknown,
  options?: ViewRowOptions,
): BatchTransform {
  return rowStage('filter', predicate as RowFunction, options, 'filter');
}
