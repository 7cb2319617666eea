/**
 * `distinct`: keeps the first row of each distinct whole row, or of each distinct combination of
 * key columns; the same spilling hash table as groupBy (lib/operators/hash-aggregate.ts).
 */
import { estimateValueBytes, type Row } from '../lib/core/batch.ts';
import type { HashAggregator, GroupPlan, OperatorCounters } from '../lib/operators/hash-aggregate.ts';
import type { ColumnarAggregator } from '../lib/operators/columnar-aggregate.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import { OperatorScratch } from '../lib/operators/operator-scratch.ts';
import { BatchFeed } from '../lib/operators/batch-feed.ts';
import { columnGetter, encodeValue, keyEncoder } from '../lib/operators/key-encoding.ts';
import { expectKeyColumns } from '../lib/operators/key-columns.ts';
import { OperatorTransform } from '../lib/operators/operator-transform.ts';
import {
  operatorBudget,
  reportOperator,
  resolveOperatorOptions,
  type HashOperatorOptions,
} from '../lib/operators/operator-options.ts';

// the hash tables (and their spill partitions, in Arrow) load with the first batch, not with `import 'spillway'`
const aggregatorModules = lazyImport(() =>
  Promise.all([import('../lib/operators/hash-aggregate.ts'), import('../lib/operators/columnar-aggregate.ts')]),
);

/** Options of {@link distinct}. */
export type DistinctOptions = HashOperatorOptions;

/**
 * The key of a whole row: the values of the columns the first row had, in that order; a row with
 * other columns is keyed by names and values (so it never collides with the fixed form).
 */
function wholeRowKey(): (row: Row) => string {
  let columns: string[] | undefined;
  let encode: ((row: Row) => string) | undefined;
  return (row) => {
    if (!columns) {
      columns = Object.keys(row);
      encode = keyEncoder(columns);
    }
    const names = Object.keys(row);
    let same = names.length === columns.length;
    for (let i = 0; same && i < names.length; i++) same = names[i] === columns[i];
    if (same) return encode!(row);
    let key = '\u0000';
    for (const name of names.sort())
      key += `${name.length}:${name}${encodeValue((row as Record<string, unknown>)[name], true)}`;
    return key;
  };
}

function distinctPlan(keys: readonly string[] | undefined): GroupPlan<Row> {
  // keyed: one trie level per key column; whole rows: one level, the row's encoded key
  const key = keys ? keyEncoder(keys) : wholeRowKey();
  return {
    keys: keys ? keys.map(columnGetter) : [key],
    groupKey: key,
    create: (row) => row,
    add: (group) => group,
    merge: (earlier) => earlier,
    output: (group) => group,
    groupBytes: (row) => 32 + estimateValueBytes(row, 0),
  };
}

/**
 * Removes duplicate rows: with no `keys`, rows equal in every column; with `keys`, rows equal in
 * those columns, keeping the first row (all its columns) of each key in input order. Equality is
 * SQL grouping's: nulls equal each other, NaN equals NaN, -0 equals 0, an integer equals the same
 * bigint. Output order is unspecified. Spills past its budget as groupBy does.
 *
 * @example
 * ```ts
 * pipeline(fromCsv('trades.csv', { cast: true }), distinct(['symbol', 'venue']), toCsv('pairs.csv'))
 * ```
 */
export function distinct(keys?: string | readonly string[], options?: DistinctOptions): OperatorTransform {
  const keyColumns = keys === undefined ? undefined : expectKeyColumns(keys, 'keys');
  const opts = resolveOperatorOptions(options, 'options');
  const plan = distinctPlan(keyColumns);
  const scratch = new OperatorScratch('distinct', opts.dir);
  const counters: OperatorCounters = { depth: 0, flushes: 0, groups: 0 };
  let aggregator: HashAggregator<Row> | ColumnarAggregator | undefined;
  let budget = 0;
  const feed = new BatchFeed(true);
  const make = async (context: {
    governor: import('../lib/core/stage.ts').GovernorGate | undefined;
    signal: AbortSignal;
  }): Promise<HashAggregator<Row> | ColumnarAggregator> => {
    const [{ HashAggregator }, { ColumnarAggregator }] = await aggregatorModules.load();
    if (aggregator) return aggregator;
    budget = operatorBudget(opts.budget, context.governor);
    const options = {
      budget,
      scratch,
      governor: context.governor,
      signal: context.signal,
      counters,
      outputRows: opts.batchSize,
    };
    // by keys: the columnar table keeps the first row of each key; whole rows: one encoded key per row
    if (!keyColumns) return new HashAggregator(plan, options);
    const table = {
      keyNames: keyColumns,
      keys: keyColumns.map(columnGetter),
      names: [],
      aggregates: [],
      keepRows: true,
    };
    return new ColumnarAggregator(table, options);
  };
  return new OperatorTransform({
    name: 'distinct',
    async consume(batch, _emit, context, stats) {
      aggregator ??= await make(context);
      await feed.feed(aggregator, batch);
      reportOperator(stats, scratch, counters, budget);
    },
    async finish(emit, context, stats) {
      aggregator ??= await make(context);
      for await (const rows of aggregator.finish()) await emit(rows);
      reportOperator(stats, scratch, counters, budget);
      stats.details.groups = counters.groups;
    },
    async dispose() {
      await aggregator?.dispose();
      await scratch.dispose();
    },
  });
}
