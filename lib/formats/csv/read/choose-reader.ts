/**
 * The reader of a settled fromCsv read: the one-thread reader of its kind (the fast scanner or
 * csv-parse), or the parser threads' when the read qualifies; stats say which, and why not.
 * csv-parse's reader and the threads' load only when chosen: most reads use neither, and loading
 * them cost about 20 ms of every fromCsv's start.
 */
import type { GovernorGate, StageStats } from '../../../core/stage.ts';
import { quoteAndComment } from '../fast/source.ts';
import { parallelDecision } from '../parallel/eligible.ts';
import { FastCsvPathReader } from './fast-reader.ts';
import { uniqueNames } from './names.ts';
import type { PreparedRead } from './prepare.ts';
import type { CsvCounters, CsvReader } from './reader.ts';

/** What the choice depends on beside the read itself. */
export interface ReaderContext {
  counters: CsvCounters;
  /** The file's size (undefined for a stream). */
  totalBytes: number | undefined;
  /** The pipeline checkpoints this source (the parser threads do not resume). */
  checkpointing: boolean;
  /** Arrow output negotiated by the pipeline: numbers as doubles. */
  negotiatedArrow: boolean;
  /** The run's governor (sampled just before): parser threads start only with room for them. */
  governor?: GovernorGate | undefined;
}

/** The reader for `prepared`; see the module comment. */
export async function chooseCsvReader(
  prepared: PreparedRead,
  stats: StageStats,
  context: ReaderContext,
): Promise<CsvReader> {
  const { kind, spec, dialect } = prepared;
  const { counters, totalBytes } = context;
  const single =
    kind === 'fast'
      ? new FastCsvPathReader(counters)
      : new (await import('./parse-reader.ts')).CsvParseReader(counters);
  const columns = spec.columns;
  const decision = parallelDecision({
    plan: spec.plan,
    kind,
    encoding: spec.encoding,
    size: totalBytes,
    checkpointing: context.checkpointing,
    governor: context.governor,
    castsRows: spec.castRow !== undefined,
    comment: kind === 'fast' ? quoteAndComment(spec.parseOptions).comment : undefined,
    names: Array.isArray(columns)
      ? columns
      : typeof columns === 'function' && dialect?.headerNames
        ? uniqueNames(dialect.headerNames)
        : undefined,
  });
  if ('reason' in decision) {
    stats.details.parserThreads = 1;
    stats.details.singleThreadReason = decision.reason;
    return single;
  }
  const { ParallelCsvReader } = await import('../parallel/reader.ts');
  return new ParallelCsvReader(counters, single, totalBytes!, decision.names, context.negotiatedArrow);
}
