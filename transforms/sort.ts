/** `sort`: orders all rows by one or more keys, spilling sorted runs to disk past its budget. */
import type { ExternalSorter } from '../lib/operators/external-sort.ts';
import { OperatorScratch } from '../lib/operators/operator-scratch.ts';
import { OperatorTransform } from '../lib/operators/operator-transform.ts';
import {
  operatorBudget,
  reportSpill,
  resolveOperatorOptions,
  type OperatorOptions,
} from '../lib/operators/operator-options.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import { parseSortKeys, type Collation, type SortKeys } from '../lib/operators/sort-key-spec.ts';
import { expectOneOf } from '../lib/core/validate.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';

// the sorter and its Arrow key code load with the first batch, not with `import 'spillway'`
const sorterModules = lazyImport(() =>
  Promise.all([import('../lib/operators/external-sort.ts'), import('../lib/operators/sort-keys.ts')]),
);

/** Options of {@link sort}: the operators' `budget`, `dir` and `batchSize`, and a string collation. */
export interface SortOptions extends OperatorOptions {
  /** String order: `binary` (UTF-8 bytes, DuckDB's default; the default) or `locale` (`Intl.Collator`). */
  collation?: Collation;
}

/**
 * Sorts every row by `keys`: a column, a list of columns, or `{ column, order, nulls }` objects.
 * Ascending with NULLs last by default (DuckDB's order); NaN after every number; strings by their
 * UTF-8 bytes; stable (equal keys keep their input order). Input past the budget (measured on
 * its Arrow buffers), or past what the pipeline's governor says is available (its level, and its
 * headroom against the memory spilling a run takes), is sorted in runs spilled to the operator's
 * private scratch directory (compressed Arrow IPC) and merged at the end; the files are removed
 * on success, failure and abort. Emits Arrow batches.
 *
 * `stats.details` reports `runsSpilled`, `bytesSpilled`, `rowsSpilled`, `mergePasses`,
 * `spills` (runs written because the governor asked) and the `budget` used.
 *
 * @example
 * ```ts
 * await pipeline(fromCsv('trades.csv', { cast: true }), sort(['price', { column: 'ts', order: 'desc' }]), toParquet('sorted.parquet'));
 * ```
 */
export function sort(keys: SortKeys, options?: SortOptions): OperatorTransform {
  const resolved = parseSortKeys(keys);
  const opts = resolveOperatorOptions(options, 'options', ['collation']);
  const collation = expectOneOf(
    (options as SortOptions | undefined)?.collation,
    'options.collation',
    ['binary', 'locale'],
    'binary',
  );
  const scratch = new OperatorScratch('sort', opts.dir);
  let sorter: ExternalSorter | undefined;
  let budget = 0;
  const open = async (context: StageContext): Promise<ExternalSorter> => {
    if (sorter) return sorter;
    const [{ ExternalSorter }, { SortOrdering }] = await sorterModules.load();
    if (sorter) return sorter;
    budget = operatorBudget(opts.budget, context.governor);
    return (sorter = new ExternalSorter(new SortOrdering(resolved, collation), {
      budget,
      batchSize: opts.batchSize,
      signal: context.signal,
      governor: context.governor,
      scratch,
    }));
  };
  const report = (s: ExternalSorter, stats: StageStats): void => {
    reportSpill(stats, scratch, budget);
    stats.details.runsSpilled = scratch.runsSpilled;
    stats.details.rowsSpilled = s.stats.rowsSpilled;
    stats.details.mergePasses = s.stats.mergePasses;
    stats.details.spills = s.stats.governorSpills;
  };
  return new OperatorTransform({
    name: 'sort',
    // sorted on Arrow columns: rows would be converted
    accepts: ['rows', 'arrow'],
    async consume(batch, _emit, context, stats) {
      const s = await open(context);
      await s.add(batch.arrow);
      report(s, stats);
    },
    async finish(emit, context, stats) {
      const s = await open(context);
      try {
        for await (const out of s.finish()) await emit(out);
      } finally {
        report(s, stats);
      }
    },
    async dispose() {
      await sorter?.dispose();
      await scratch.dispose();
    },
    // no input row: no row out, but the input's columns
    empty: (input) => input,
  });
}
