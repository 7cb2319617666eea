/** `topK`: the first `n` rows of a sort, found with a bounded heap instead of sorting everything. */
import { OperatorTransform } from '../lib/operators/operator-transform.ts';
import { resolveOperatorOptions } from '../lib/operators/operator-options.ts';
import type { TopK } from '../lib/operators/top-k.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';

// the heap and its Arrow key code load with the first batch, not with `import 'spillway'`
const topKModules = lazyImport(() =>
  Promise.all([import('../lib/operators/top-k.ts'), import('../lib/operators/sort-keys.ts')]),
);
import { parseSortKeys, type Collation, type SortKeys } from '../lib/operators/sort-key-spec.ts';
import { expectInteger, expectOneOf } from '../lib/core/validate.ts';

/** Options of {@link topK}. */
export interface TopKOptions {
  /** Rows per output batch (default 8192). */
  batchSize?: number;
  /** String order: `binary` (UTF-8 bytes; default) or `locale`. */
  collation?: Collation;
}

/**
 * Emits the `n` first rows in the order `sort(keys)` would give (same keys, same NULL/NaN/string
 * rules, ties in input order), holding only those `n` rows (and the input batches they point
 * into, compacted as it goes): memory is O(n), time one comparison per input row plus a heap
 * sift per row that gets in. Nothing is spilled. `stats.details`: `k`, `compactions`.
 *
 * @example
 * ```ts
 * await pipeline(fromCsv('trades.csv', { cast: true }), topK(10, { column: 'qty', order: 'desc' }), collect());
 * ```
 */
export function topK(n: number, keys: SortKeys, options?: TopKOptions): OperatorTransform {
  const k = expectInteger(n, 'n', 0, 0, 2 ** 31 - 1);
  const resolved = parseSortKeys(keys);
  // top-k holds n rows and never spills: no budget or dir
  const opts = resolveOperatorOptions(options, 'options', ['collation'], ['batchSize']);
  const collation = expectOneOf(options?.collation, 'options.collation', ['binary', 'locale'], 'binary');
  let top: TopK | undefined;
  const open = async (): Promise<TopK> => {
    const [{ TopK }, { SortOrdering }] = await topKModules.load();
    return (top ??= new TopK(k, new SortOrdering(resolved, collation)));
  };
  return new OperatorTransform({
    name: 'topK',
    // ordered on Arrow columns: rows would be converted
    accepts: ['rows', 'arrow'],
    async consume(batch) {
      (await open()).add(batch.arrow);
    },
    async finish(emit, _context, stats) {
      const top = await open();
      stats.details.k = k;
      stats.details.compactions = top.compactions;
      for (const out of top.finish(opts.batchSize)) await emit(out);
    },
    async dispose() {},
    // no input row: no row out, but the input's columns
    empty: (input) => input,
  });
}
