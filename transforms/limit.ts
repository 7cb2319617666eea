/** `limit`: the first `n` rows; then asks the sources to stop reading. */
import { BatchTransform } from '../lib/core/transform.ts';
import { expectInteger, expectOptions, expectString } from '../lib/core/validate.ts';
import { Batch } from '../lib/core/batch.ts';

/** Options of {@link limit}. */
export interface LimitOptions {
  /** Name used in stats and errors (default `limit`). */
  name?: string;
}

/**
 * Passes the first `n` rows and drops the rest. Once it has them it asks the pipeline's sources
 * to stop (they end cleanly: files closed, no error), so `limit(10)` on a huge file reads only
 * the first batches. Rows keep their order; a batch that crosses the limit is cut (Arrow batches
 * are sliced without copying).
 *
 * @example
 * ```ts
 * const { output } = await pipeline(fromCsv('huge.csv'), limit(100), collect());
 * ```
 */
export function limit(n: number, options?: LimitOptions): BatchTransform {
  const max = expectInteger(n, 'n', 0, 0);
  const opts = expectOptions(options, 'options', ['name']);
  const name = opts.name === undefined ? 'limit' : expectString(opts.name, 'options.name');
  let left = max;
  return new BatchTransform({
    name,
    // Arrow in, Arrow out (sliced): the source produces Arrow when the stage after reads it
    // its count is not in the checkpoint: resumed, it counted again from 0 and let too many rows through
    capabilities: {
      accepts: ['rows', 'arrow'],
      keepsForm: true,
      notResumable: 'its count of rows let through is not in the checkpoint',
    },
    transform(batch, push, context) {
      if (left > 0) {
        if (batch.numRows <= left) push(batch);
        else if (batch.hasArrow && !batch.hasRows) push(Batch.fromArrow(batch.arrow.slice(0, left), batch.position));
        else push(batch.withRows(batch.rows.slice(0, left)));
        left -= Math.min(left, batch.numRows);
      }
      if (left === 0 && !context.stopRequested) context.requestStop();
    },
  });
}
