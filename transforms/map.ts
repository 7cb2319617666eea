/** `map`: one output row per input row, from a sync or async function. */
import type { Row } from '../lib/core/batch.ts';
import type { BatchTransform } from '../lib/core/transform.ts';
import type { RowFunction } from '../lib/core/row-function.ts';
import { rowStage, type ViewRowOptions } from '../lib/core/row-stage.ts';

/**
 * Maps each row through `fn` (sync or async). Returning `undefined` (or stream-chain's `none`)
 * drops the row; `many([...])` emits several; `stop` ends the input early. With an async `fn`,
 * `options.concurrency` calls may run at once and the output keeps the input order.
 *
 * `index` is the row's position in its batch: it starts at 0 in every batch, and batch sizes vary
 * (`batchSize: 'auto'`), so it is not the row's position in the input (count rows in the function
 * for that).
 *
 * With `{ input: 'view' }`, over Arrow batches `fn` gets a read-only row view instead of an
 * object; returning the view itself keeps the row as it is (the batch stays Arrow while every
 * row is kept or dropped), returning anything else makes a row of it.
 *
 * @example
 * ```ts
 * map((row) => ({ ...row, notional: row.price * row.qty }))
 * map((row) => (row.qty > 0 ? row : undefined), { input: 'view' })   // stays Arrow
 * ```
 */
export function map<I = Record<string, unknown>, O = Row>(
  fn: (row: I, index: number) => O | Promise<O>,
  options?: ViewRowOptions,
): BatchTransform {
  return rowStage('map', fn as RowFunction, options, 'map');
}
