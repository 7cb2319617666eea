/** `flatMap`: zero or more output rows per input row. */
import type { Row } from '../lib/core/batch.ts';
import type { BatchTransform } from '../lib/core/transform.ts';
import type { RowFunction } from '../lib/core/row-function.ts';
import { rowStage, type RowOptions } from '../lib/core/row-stage.ts';

/**
 * Maps each row to an iterable of rows (an array, a generator, an async generator, or a promise
 * of an array) and emits them all, in order.
 *
 * `index` is the row's position in its batch: it starts at 0 in every batch, and batch sizes vary
 * (`batchSize: 'auto'`), so it is not the row's position in the input (count rows in the function
 * for that).
 *
 * @example
 * ```ts
 * flatMap((order) => order.fills)          // one row per fill
 * ```
 */
export function flatMap<I = Record<string, unknown>, O = Row>(
  fn: (row: I, index: number) => Iterable<O> | AsyncIterable<O> | Promise<Iterable<O>>,
  options?: RowOptions,
): BatchTransform {
  return rowStage('flatMap', fn as RowFunction, options, 'flatMap');
}
