/** `map`: one output row per input row, from a sync or async function. */
import type { Row } from '../lib/batch.ts';
import type { BatchTransform } from '../lib/transform.ts';
import type { RowFunction } from '../lib/row-function.ts';
import { rowStage, type RowOptions } from '../lib/row-stage.ts';

/**
 * Maps each row through `fn` (sync or async). Returning `undefined` (or stream-chain's `none`)
 * drops the row; `many([...])` emits several; `stop` ends the input early. With an async `fn`,
 * `options.concurrency` calls may run at once and the output keeps the input order.
 *
 * @example
 * ```ts
 * map((row) => ({ ...row, notional: row.price * row.qty }))
 * ```
 */
export function map<I = Record<string, unknown>, O = Row>(fn: (row: I, index: number) => O | Promise<O>, options?: RowOptions): BatchTransform {
  return rowStage('map', fn as RowFunction, options, 'map');
}
