/** `topK`: the first `n` rows of a sort, found with a bounded heap instead of sorting everything. */
import type { RecordBatch } from 'apache-arrow';
import { BatchOperator } from '../lib/operators/batch-operator.ts';
import { TopK } from '../lib/operators/top-k.ts';
import { SortOrdering, parseSortKeys, type Collation, type SortKeys } from '../lib/operators/sort-keys.ts';
import { rejectUnknownKeys } from '../lib/operators/budget.ts';
import { expectInteger, expectOneOf, expectOptions, expectString } from '../lib/core/validate.ts';

/** Options of {@link topK}. */
export interface TopKOptions {
  /** Rows per output batch (default 16384). */
  batchSize?: number;
  /** String order: `binary` (UTF-8 bytes; default) or `locale`. */
  collation?: Collation;
  /** Name used in stats and errors (default `topK`). */
  name?: string;
}

/**
 * Emits the `n` first rows in the order `sort(keys)` would give (same keys, same NULL/NaN/string
 * rules, ties in input order), holding only those `n` rows (and the input batches they point
 * into, compacted as it goes): memory is O(n), time one comparison per input row plus a heap
 * sift per row that gets in.
 *
 * @example
 * ```ts
 * await pipeline(fromCsv('trades.csv', { cast: true }), topK(10, { column: 'qty', order: 'desc' }), collect());
 * ```
 */
export function topK(n: number, keys: SortKeys, options?: TopKOptions): BatchOperator {
  const k = expectInteger(n, 'n', 0, 0, 2 ** 31 - 1);
  const resolved = parseSortKeys(keys);
  const opts = expectOptions(options);
  rejectUnknownKeys(opts, ['batchSize', 'collation', 'name']);
  const batchSize = expectInteger(opts.batchSize, 'options.batchSize', 16384);
  const collation = expectOneOf(opts.collation, 'options.collation', ['binary', 'locale'], 'binary');
  const name = opts.name === undefined ? 'topK' : expectString(opts.name, 'options.name');
  const top = new TopK(k, new SortOrdering(resolved, collation));
  return new BatchOperator({
    name,
    consume(batch) {
      top.add(batch.arrow);
    },
    async *produce(_context, stats): AsyncGenerator<RecordBatch> {
      stats.details.k = k;
      stats.details.compactions = top.compactions;
      yield* top.finish(batchSize);
    },
    async dispose() {},
  });
}
