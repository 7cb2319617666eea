/**
 * Options every operator (sort, topK, groupBy, distinct, join) shares, validated synchronously
 * when the stage is made, and the memory budget an operator takes from the pipeline's governor
 * when no `budget` is given.
 */
import { ValidationError } from '../core/errors.ts';
import { expectInteger, expectOptions, parseBytes, type ByteSize } from '../core/validate.ts';
import type { GovernorGate, StageContext, StageStats } from '../core/stage.ts';
import type { OperatorScratch } from './operator-scratch.ts';

/** Counters a hash operator (groupBy, distinct, join) reports in its stage's stats. */
export interface OperatorCounters {
  /** Deepest recursive repartitioning (0: none; 1: partitioned once). */
  depth: number;
  /** Times the in-memory table was written to partitions. */
  flushes: number;
  /** Groups output. */
  groups: number;
  /** The most bytes (estimated) an in-memory table held when it was written to partitions (0: none was). */
  tableBytesAtSpill: number;
}

/** Options of the spilling operators (sort, groupBy, distinct, join). */
export interface OperatorOptions {
  /**
   * Bytes (estimated) the operator may hold (a hash table, or input buffered for a sorted run)
   * before it spills to disk, e.g. `'64MB'`. Default: a quarter of the pipeline governor's
   * limit, or 128 MB when memory is not governed. The operator also spills when the governor
   * reaches its spill level.
   */
  budget?: ByteSize;
  /** Parent directory of the operator's temporary spill directory (default: the system temp dir). */
  dir?: string;
  /** Output rows per batch (default 8192). */
  batchSize?: number;
}

/** The options of the hash operators (groupBy, distinct, join): {@link OperatorOptions}. */
export type HashOperatorOptions = OperatorOptions;

/** {@link OperatorOptions} after validation. */
export interface ResolvedOperatorOptions {
  budget: number | undefined;
  dir: string | undefined;
  batchSize: number;
}

/** Share of the governor's limit an operator takes by default. */
export const GOVERNOR_SHARE = 0.25;
/** Budget when memory is not governed (or the governor's limit is unknown). */
export const UNGOVERNED_BUDGET = 128e6;

/**
 * Validates the shared options; `extra` names the option keys the operator adds itself, `shared`
 * the shared ones it takes (all by default; topK, which never spills, takes only `batchSize`).
 */
export function resolveOperatorOptions(
  value: unknown,
  path: string,
  extra: readonly string[] = [],
  shared: readonly (keyof OperatorOptions)[] = ['budget', 'dir', 'batchSize'],
): ResolvedOperatorOptions {
  const opts = expectOptions(value as OperatorOptions | undefined, path, [...shared, ...extra]) as Record<
    string,
    unknown
  >;
  const budget = opts.budget === undefined ? undefined : parseBytes(opts.budget, `${path}.budget`);
  if (opts.dir !== undefined && (typeof opts.dir !== 'string' || opts.dir === ''))
    throw new ValidationError(`Expected \`${path}.dir\` to be a non-empty string`);
  return {
    budget,
    dir: opts.dir as string | undefined,
    batchSize: expectInteger(opts.batchSize, `${path}.batchSize`, 8192),
  };
}

/** The budget in bytes: the option, else a share of the governor's limit. */
export function operatorBudget(option: number | undefined, governor: GovernorGate | undefined): number {
  if (option !== undefined) return option;
  const limit = (governor as { limit?: unknown } | undefined)?.limit;
  return typeof limit === 'number' && limit > 0 ? Math.floor(limit * GOVERNOR_SHARE) : UNGOVERNED_BUDGET;
}

/** Options of the columnar hash table (columnar-aggregate.ts ColumnarAggregator). */
export interface HashAggregatorOptions {
  /** Bytes the table may hold (estimated) before it spills. */
  budget: number;
  /** Partitions per spill (default 16). */
  fanout?: number;
  /** Output rows per emitted batch (default 8192). */
  outputRows?: number;
  scratch: OperatorScratch;
  governor?: GovernorGate | undefined;
  signal?: AbortSignal;
  counters: OperatorCounters;
  /** The share of the run's input read so far, when known (StageContext.inputRead). */
  inputRead?: (() => number | undefined) | undefined;
}

/**
 * The options of a hash operator's table (groupBy, distinct): its budget (see {@link operatorBudget}),
 * the run's governor and signal, its scratch directory, counters and output batch size.
 */
export function tableOptions(
  opts: ResolvedOperatorOptions,
  context: Pick<StageContext, 'governor' | 'signal' | 'inputRead'>,
  scratch: OperatorScratch,
  counters: OperatorCounters,
): HashAggregatorOptions {
  return {
    budget: operatorBudget(opts.budget, context.governor),
    scratch,
    governor: context.governor,
    signal: context.signal,
    counters,
    outputRows: opts.batchSize,
    inputRead: context.inputRead,
  };
}

/** Copies what every operator reports into its stage's stats (`details`): budget and bytes spilled. */
export function reportSpill(stats: StageStats, scratch: OperatorScratch, budget: number): void {
  stats.details.budget = budget;
  stats.details.bytesSpilled = scratch.bytesSpilled;
}

/** Copies a hash operator's spill counters into its stage's stats (`details`). */
export function reportOperator(
  stats: StageStats,
  scratch: OperatorScratch,
  counters: OperatorCounters,
  budget: number,
): void {
  reportSpill(stats, scratch, budget);
  stats.details.partitionsSpilled = scratch.partitionsSpilled;
  stats.details.recursionDepth = counters.depth;
  stats.details.spills = counters.flushes;
  stats.details.tableBytesAtSpill = counters.tableBytesAtSpill;
}
