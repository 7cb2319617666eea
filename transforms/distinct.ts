/**
 * `distinct`: keeps the first row of each distinct whole row, or of each distinct combination of
 * key columns. It is groupBy with no aggregates that keeps the first row of each group: the same
 * columnar table and spilling (lib/operators/columnar-aggregate.ts). Whole rows are keyed by the
 * columns of the first row (in any order); a column a row lacks is null, as SQL reads sparse JSON
 * (`{"b":1}` and `{"a":null,"b":1}` are one row: they were two). A row with a non-null value in a
 * column the first row lacks goes to a second table keyed by its non-null names and values, so it
 * never equals a row of the first shape.
 */
import type { Batch, Row } from '../lib/core/batch.ts';
import type { StageContext } from '../lib/core/stage.ts';
import { RowViewer, isViewable } from '../lib/core/row-view.ts';
import type { RecordBatch } from 'apache-arrow';
import type { ColumnarAggregator } from '../lib/operators/columnar-aggregate.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import type { TablePlan } from '../lib/operators/group-table.ts';
import { OperatorScratch } from '../lib/operators/operator-scratch.ts';
import { BatchFeed } from '../lib/operators/batch-feed.ts';
import { columnGetter, encodeValue } from '../lib/operators/key-encoding.ts';
import { expectKeyColumns } from '../lib/operators/key-columns.ts';
import { OperatorTransform } from '../lib/operators/operator-transform.ts';
import {
  tableOptions,
  reportOperator,
  resolveOperatorOptions,
  type HashOperatorOptions,
  type OperatorCounters,
} from '../lib/operators/operator-options.ts';

// the group table and its Arrow key code load with the first batch, not with `import 'spillway'`
const aggregatorModule = lazyImport(() => import('../lib/operators/columnar-aggregate.ts'));

/** Options of {@link distinct}. */
export type DistinctOptions = HashOperatorOptions;

/** The plan of distinct on `columns`: one key column each, no aggregates, first rows kept. */
function keyedPlan(columns: readonly string[]): TablePlan {
  return { keyNames: columns, keys: columns.map(columnGetter), names: [], aggregates: [], keepRows: true };
}

/** The plan of rows of another shape: one key, their sorted names and encoded values. */
function otherShapePlan(): TablePlan {
  const key = (row: Row): string => {
    let text = '';
    for (const name of Object.keys(row).sort()) {
      const value = (row as Record<string, unknown>)[name];
      // a null column is one the row lacks
      if (value !== null && value !== undefined) text += `${name.length}:${name}${encodeValue(value, true)}`;
    }
    return text;
  };
  // a name no Arrow batch has, so the table reads the key through rows
  return { keyNames: ['\u0000row'], keys: [key], names: [], aggregates: [], keepRows: true };
}

/** True when `names` are `columns` (in any order: the table reads the key columns by name). */
function sameNames(names: readonly string[], columns: readonly string[], set: ReadonlySet<string>): boolean {
  if (names.length !== columns.length) return false;
  let i = 0;
  while (i < names.length && names[i] === columns[i]) i++;
  for (; i < names.length; i++) if (!set.has(names[i]!)) return false;
  return true;
}

/** True when every column of `row` outside the first shape `set` is null: the row is of that shape, its other columns null. */
function nullBeyond(row: Row, set: ReadonlySet<string>): boolean {
  for (const name in row) if (!set.has(name) && (row as Record<string, unknown>)[name] != null) return false;
  return true;
}

/** The column names rows of `batch` show (first row), read without materializing an Arrow batch. */
function batchNames(batch: Batch): string[] {
  if (batch.hasRows || !batch.hasArrow || !isViewable(batch.arrow)) return Object.keys(batch.rows[0] ?? {});
  return Object.keys(new RowViewer(batch.arrow).at(0));
}

/** Whole-row distinct: one table for rows of the first row's shape, one for any other. */
class WholeRows {
  readonly #make: (plan: TablePlan) => ColumnarAggregator;
  #columns: { list: string[]; set: Set<string> } | undefined;
  #first: ColumnarAggregator | undefined;
  #other: ColumnarAggregator | undefined;
  readonly #feed = new BatchFeed(true);
  readonly #otherFeed = new BatchFeed(true);
  /** The Arrow schema last seen and whether it had the first shape (schemas repeat from batch to batch). */
  #schema: { schema: unknown; same: boolean } | undefined;

  constructor(make: (plan: TablePlan) => ColumnarAggregator) {
    this.#make = make;
  }

  async add(batch: Batch): Promise<void> {
    if (batch.numRows === 0) return;
    this.#columns ??= { list: batchNames(batch), set: new Set(batchNames(batch)) };
    const { list, set } = this.#columns;
    this.#first ??= this.#make(keyedPlan(list));
    if (!batch.hasRows && batch.hasArrow && isViewable(batch.arrow)) {
      // an Arrow batch's rows all have its schema's shape
      const schema = batch.arrow.schema;
      if (this.#schema?.schema !== schema) this.#schema = { schema, same: sameNames(batchNames(batch), list, set) };
      if (this.#schema.same) await this.#feed.feed(this.#first, batch);
      else await this.#otherFeed.feed((this.#other ??= this.#make(otherShapePlan())), batch);
      return;
    }
    const rows = batch.rows;
    const others: Row[] = [];
    const firsts: Row[] = [];
    for (const row of rows)
      (sameNames(Object.keys(row), list, set) || nullBeyond(row, set) ? firsts : others).push(row);
    if (others.length === 0) {
      await this.#first.add(rows);
      return;
    }
    await this.#first.add(firsts);
    await (this.#other ??= this.#make(otherShapePlan())).add(others);
  }

  async *finish(): AsyncGenerator<Row[] | RecordBatch> {
    if (this.#first) yield* this.#first.finish();
    if (this.#other) yield* this.#other.finish();
  }

  /** Rows that skipped the tables (columnar-aggregate.ts). */
  get passedRows(): number {
    return (this.#first?.passedRows ?? 0) + (this.#other?.passedRows ?? 0);
  }

  async dispose(): Promise<void> {
    await this.#first?.dispose();
    await this.#other?.dispose();
  }
}

/** Distinct by key columns: one table. */
class KeyedRows {
  readonly #aggregator: ColumnarAggregator;
  readonly #feed = new BatchFeed(true);

  constructor(aggregator: ColumnarAggregator) {
    this.#aggregator = aggregator;
  }

  add(batch: Batch): Promise<void> {
    return this.#feed.feed(this.#aggregator, batch);
  }

  finish(): AsyncGenerator<Row[] | RecordBatch> {
    return this.#aggregator.finish();
  }

  /** Rows that skipped the table (columnar-aggregate.ts). */
  get passedRows(): number {
    return this.#aggregator.passedRows;
  }

  dispose(): Promise<void> {
    return this.#aggregator.dispose();
  }
}

/**
 * Removes duplicate rows: with no `keys`, rows equal in every column; with `keys`, rows equal in
 * those columns, keeping the first row (all its columns) of each key in input order. Equality is
 * SQL grouping's: nulls equal each other, NaN equals NaN, -0 equals 0, an integer equals the same
 * bigint. Output order is unspecified. Spills past its budget as groupBy does, and as groupBy's,
 * its Arrow rows skip the table once a table written out shows that they do not repeat (stats
 * `details.passedRows`); the first row of each key is still the first in input order.
 *
 * @example
 * ```ts
 * pipeline(fromCsv('trades.csv', { cast: true }), distinct(['symbol', 'venue']), toCsv('pairs.csv'))
 * ```
 */
export function distinct(keys?: string | readonly string[], options?: DistinctOptions): OperatorTransform {
  const keyColumns = keys === undefined ? undefined : expectKeyColumns(keys, 'keys');
  const opts = resolveOperatorOptions(options, 'options');
  const scratch = new OperatorScratch('distinct', opts.dir);
  const counters: OperatorCounters = { depth: 0, flushes: 0, groups: 0, tableBytesAtSpill: 0 };
  let rows: WholeRows | KeyedRows | undefined;
  let budget = 0;
  const start = async (context: StageContext): Promise<WholeRows | KeyedRows> => {
    const { ColumnarAggregator } = await aggregatorModule.load();
    if (rows) return rows;
    const options = tableOptions(opts, context, scratch, counters);
    budget = options.budget;
    const make = (plan: TablePlan): ColumnarAggregator => new ColumnarAggregator(plan, options);
    return keyColumns ? new KeyedRows(make(keyedPlan(keyColumns))) : new WholeRows(make);
  };
  return new OperatorTransform({
    name: 'distinct',
    requires: keyColumns?.map((name) => ({ name, role: 'key' })),
    // keys read from Arrow columns, rows through views: a row is copied out only when kept
    accepts: ['rows', 'arrow'],
    async consume(batch, _emit, context, stats) {
      rows ??= await start(context);
      await rows.add(batch);
      reportOperator(stats, scratch, counters, budget);
    },
    async finish(emit, context, stats) {
      rows ??= await start(context);
      for await (const out of rows.finish()) await emit(out);
      reportOperator(stats, scratch, counters, budget);
      stats.details.groups = counters.groups;
      stats.details.passedRows = rows.passedRows;
    },
    async dispose() {
      await rows?.dispose();
      await scratch.dispose();
    },
    // no input row: no row out, but the input's columns
    empty: (input) => input,
  });
}
