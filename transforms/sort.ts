/** `sort`: orders all rows by one or more keys, spilling sorted runs to disk past its budget. */
import type { RecordBatch } from 'apache-arrow';
import { BatchOperator } from '../lib/operators/batch-operator.ts';
import { ExternalSorter } from '../lib/operators/external-sort.ts';
import { SortOrdering, parseSortKeys, type Collation, type SortKeys } from '../lib/operators/sort-keys.ts';
import { operatorBudget, parseBudget, rejectUnknownKeys } from '../lib/operators/budget.ts';
import { expectInteger, expectOneOf, expectOptions, expectString, type ByteSize } from '../lib/core/validate.ts';

/** Options of {@link sort}. */
export interface SortOptions {
  /**
   * Bytes of input (as Arrow buffers) held before a sorted run is written to disk, e.g. `'64MB'`.
   * Default: a quarter of the governor's limit (256 MB when memory is not governed). Runs are also
   * written early when the governor reaches its spill level.
   */
  budget?: ByteSize;
  /** Rows per output batch (default 16384). */
  batchSize?: number;
  /** String order: `binary` (UTF-8 bytes, DuckDB's default; the default) or `locale` (`Intl.Collator`). */
  collation?: Collation;
  /** Directory for the temporary run files (default `os.tmpdir()`). */
  tmpDir?: string;
  /** Name used in stats and errors (default `sort`). */
  name?: string;
}

const OPTION_KEYS = ['budget', 'batchSize', 'collation', 'tmpDir', 'name'] as const;

/**
 * Sorts every row by `keys`: a column, a list of columns, or `{ column, order, nulls }` objects.
 * Ascending with NULLs last by default (DuckDB's order); NaN after every number; strings by their
 * UTF-8 bytes; stable (equal keys keep their input order). Input past the budget is sorted in
 * runs spilled to a private temporary directory (compressed Arrow IPC) and merged at the end;
 * the files are removed on success, failure and abort. Emits Arrow batches.
 *
 * `stats.details` reports `runsSpilled`, `bytesSpilled`, `rowsSpilled`, `mergePasses`,
 * `governorSpills` and the `budget` used.
 *
 * @example
 * ```ts
 * await pipeline(fromCsv('trades.csv', { cast: true }), sort(['price', { column: 'ts', order: 'desc' }]), toParquet('sorted.parquet'));
 * ```
 */
export function sort(keys: SortKeys, options?: SortOptions): BatchOperator {
  const resolved = parseSortKeys(keys);
  const opts = expectOptions(options);
  rejectUnknownKeys(opts, OPTION_KEYS);
  const budget = parseBudget(opts.budget);
  const batchSize = expectInteger(opts.batchSize, 'options.batchSize', 16384);
  const collation = expectOneOf(opts.collation, 'options.collation', ['binary', 'locale'], 'binary');
  const tmpDir = opts.tmpDir === undefined ? undefined : expectString(opts.tmpDir, 'options.tmpDir');
  const name = opts.name === undefined ? 'sort' : expectString(opts.name, 'options.name');
  const ordering = new SortOrdering(resolved, collation);
  let sorter: ExternalSorter | undefined;
  const open = (context: Parameters<typeof operatorBudget>[1]): ExternalSorter =>
    (sorter ??= new ExternalSorter(ordering, {
      budget: operatorBudget(budget, context),
      batchSize,
      signal: context.signal,
      governor: context.governor,
      spill: tmpDir === undefined ? {} : { tmpDir },
    }));
  const report = (s: ExternalSorter, details: Record<string, string | number | boolean>, budgetUsed: number): void => {
    details.runsSpilled = s.stats.runsSpilled;
    details.bytesSpilled = s.stats.bytesSpilled;
    details.rowsSpilled = s.stats.rowsSpilled;
    details.mergePasses = s.stats.mergePasses;
    details.governorSpills = s.stats.governorSpills;
    details.budget = budgetUsed;
  };
  return new BatchOperator({
    name,
    async consume(batch, context, stats) {
      const s = open(context);
      await s.add(batch.arrow);
      report(s, stats.details, operatorBudget(budget, context));
    },
    async *produce(context, stats): AsyncGenerator<RecordBatch> {
      const s = open(context);
      try {
        yield* s.finish();
      } finally {
        report(s, stats.details, operatorBudget(budget, context));
      }
    },
    async dispose() {
      await sorter?.dispose();
    },
  });
}
