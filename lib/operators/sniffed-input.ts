/**
 * A batch of rows whose source knew their column types (a sniffed CSV's dates, timestamps and
 * 64-bit integers: Batch.sniffed) goes into an operator as its Arrow form: the operator's output
 * then keeps those types, where from rows its dates became instants, its wall-clock timestamps
 * UTC instants and its integers doubles (a `cast: 'auto'` CSV through distinct, groupBy or join).
 */
import { Batch } from '../core/batch.ts';
import { SpillwayError } from '../core/errors.ts';

/** `batch` as its Arrow form when it holds rows with sniffed types; else (or when they will not convert) `batch`. */
export function sniffedAsArrow(batch: Batch): Batch {
  if (batch.sniffed === undefined || batch.hasArrow) return batch;
  try {
    return Batch.fromArrow(batch.arrow, batch.position);
  } catch (error) {
    if (error instanceof SpillwayError) return batch;
    throw error;
  }
}
