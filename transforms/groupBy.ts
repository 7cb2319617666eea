/**
 * `groupBy`: hash aggregation by key columns, with built-in and user-defined aggregates, that
 * spills hash partitions to disk past its memory budget (lib/operators/columnar-aggregate.ts: a
 * columnar group table with typed aggregate states, lib/operators/group-table.ts).
 */
import type { Row } from '../lib/core/batch.ts';
import {
  aggregateColumns,
  expectAggregates,
  isBuiltinAggregate,
  type Aggregates,
} from '../lib/operators/aggregates.ts';
import type { ColumnarAggregator } from '../lib/operators/columnar-aggregate.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import { mergeStates } from '../lib/operators/partial-groups.ts';
import type { StageContext } from '../lib/core/stage.ts';
import { OperatorScratch } from '../lib/operators/operator-scratch.ts';
import { BatchFeed } from '../lib/operators/batch-feed.ts';
import { columnGetter } from '../lib/operators/key-encoding.ts';
import { expectKeyColumns } from '../lib/operators/key-columns.ts';
import { OperatorTransform } from '../lib/operators/operator-transform.ts';
import {
  tableOptions,
  reportOperator,
  resolveOperatorOptions,
  type HashOperatorOptions,
  type OperatorCounters,
} from '../lib/operators/operator-options.ts';

// the hash table and its Arrow key code load with the first batch, not with `import 'spillway'`
const aggregatorModule = lazyImport(() => import('../lib/operators/columnar-aggregate.ts'));

/** Options of {@link groupBy}. */
export type GroupByOptions = HashOperatorOptions;

/**
 * Groups rows by `keys` and computes `aggregates` per group: output rows hold the key columns
 * first, then one column per aggregate, in the order given. Output order is unspecified. Past
 * its budget the table spills partial states to hash partitions on disk and merges them
 * partition by partition (stats `details`: `partitionsSpilled`, `bytesSpilled`,
 * `recursionDepth`, `spills`, `tableBytesAtSpill` (the most bytes a table held when written out),
 * `groups`, and `passedRows`: rows that skipped the table because a
 * table written out held about as many groups as rows, spilled as they came).
 *
 * @example
 * ```ts
 * pipeline(fromCsv('trades.csv', { cast: true }),
 *   groupBy('symbol', { n: count(), volume: sum('qty'), avg: mean('price') }),
 *   toParquet('totals.parquet'))
 * ```
 */
export function groupBy(
  keys: string | readonly string[],
  aggregates: Aggregates,
  options?: GroupByOptions,
): OperatorTransform {
  const keyColumns = expectKeyColumns(keys, 'keys');
  const { names, aggs } = expectAggregates(aggregates, keyColumns);
  const opts = resolveOperatorOptions(options, 'options');
  const scratch = new OperatorScratch('groupBy', opts.dir);
  const counters: OperatorCounters = { depth: 0, flushes: 0, groups: 0, tableBytesAtSpill: 0 };
  let aggregator: ColumnarAggregator | undefined;
  const table = { keyNames: keyColumns, keys: keyColumns.map(columnGetter), names, aggregates: aggs, keepRows: false };
  let budget = 0;
  const feed = new BatchFeed(false);
  const viewable = aggs.every(isBuiltinAggregate);
  const aggColumns = aggregateColumns(aggs);
  const open = async (context: StageContext): Promise<ColumnarAggregator> => {
    const { ColumnarAggregator } = await aggregatorModule.load();
    if (aggregator) return aggregator;
    const options = tableOptions(opts, context, scratch, counters);
    budget = options.budget;
    return (aggregator = new ColumnarAggregator(table, options));
  };
  return new OperatorTransform({
    name: 'groupBy',
    requires: [
      ...keyColumns.map((name) => ({ name, role: 'key' })),
      ...(aggColumns ?? []).map((name) => ({ name, role: 'aggregated column' })),
    ],
    // built-in aggregates read Arrow keys and row views; user-defined ones get rows
    accepts: viewable ? ['rows', 'arrow'] : ['rows'],
    // it outputs keys and aggregates only: a source before it may leave other columns unread
    reads: aggColumns ? [...new Set([...keyColumns, ...aggColumns])] : undefined,
    async consume(batch, _emit, context, stats) {
      const aggregator = await open(context);
      // user-defined aggregates get plain rows (they may keep them); built-ins take row views
      if (viewable) await feed.feed(aggregator, batch);
      else await aggregator.add(batch.rows);
      reportOperator(stats, scratch, counters, budget);
    },
    async finish(emit, context, stats) {
      const aggregator = await open(context);
      for await (const rows of aggregator.finish()) {
        await emit(rows);
        reportOperator(stats, scratch, counters, budget);
      }
      reportOperator(stats, scratch, counters, budget);
      stats.details.groups = counters.groups;
      // rows that skipped the table as they came, aggregated partition by partition
      stats.details.passedRows = aggregator.passedRows;
    },
    // no input row: no group, but the keys' and aggregates' columns
    empty: (input) => (input && aggregator ? aggregator.emptyOutput(input) : undefined),
    async dispose() {
      await aggregator?.dispose();
      await scratch.dispose();
    },
  });
}

/**
 * The main thread's half of a two-phase groupBy: merges the partial rows that
 * `partialGroups(keys, aggregates)` made on `parallel()` workers (one row per group per batch,
 * each aggregate's partial state in its column) into one row per group, as
 * `groupBy(keys, aggregates)` over the workers' input would give. It is a groupBy (same budget,
 * spilling and stats) whose aggregates merge states rather than add rows.
 *
 * @example
 * ```ts
 * // totals.ts: export const aggregates = { n: agg.count(), volume: agg.sum('qty') };
 * //            export default partialGroups('symbol', aggregates);
 * import { aggregates } from './totals.ts';
 * pipeline(fromCsv('trades.csv', { cast: true }),
 *   parallel(new URL('./totals.ts', import.meta.url), { kind: 'batch', workers: 2 }),
 *   mergeGroups('symbol', aggregates),
 *   toParquet('totals.parquet'))
 * ```
 */
export function mergeGroups(
  keys: string | readonly string[],
  aggregates: Aggregates,
  options?: GroupByOptions,
): OperatorTransform {
  return groupBy(keys, mergeStates(aggregates), options);
}

export type { Row };
