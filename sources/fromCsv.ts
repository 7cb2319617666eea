/**
 * `fromCsv`: a CSV file (plain, `.gz` or `.zst`, or a byte stream) delivered as batches of rows.
 * The factory validates options (lib/formats/csv/read/options.ts); at open it sniffs the dialect of a file
 * (lib/formats/csv/read/sniff.ts), settles it with the options (read/settle.ts) and reads with the
 * fast scanner or csv-parse (one {@link CsvReader} each), wrapped in the resume adapter when the
 * pipeline checkpoints (read/resume.ts).
 */
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { isDatasetRequest, textDataset } from '../lib/dataset/sources.ts';
import type { Batch, Row } from '../lib/core/batch.ts';
import { BatchSource } from '../lib/core/source.ts';
import { CsvParseError, IoError, ValidationError } from '../lib/core/errors.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';
import { resolveCsvOptions, type CsvPlan, type FromCsvOptions } from '../lib/formats/csv/read/options.ts';
import { CsvRun, type CsvCounters, type CsvReader, type CsvReadSpec } from '../lib/formats/csv/read/reader.ts';
import { FastCsvPathReader } from '../lib/formats/csv/read/fast-reader.ts';
import { CsvParseReader } from '../lib/formats/csv/read/parse-reader.ts';
import { CsvResume } from '../lib/formats/csv/read/resume.ts';
import { headerHook, renamed, uniqueNames } from '../lib/formats/csv/read/names.ts';
import { sniffFile } from '../lib/formats/csv/read/inspect.ts';
import {
  castsOf,
  chooseReader,
  columnsSetting,
  effectiveParseOptions,
  rowCaster,
  skipBlank,
  startOf,
} from '../lib/formats/csv/read/settle.ts';
import type { CsvDialect } from '../lib/formats/csv/read/sniff.ts';

export type { FromCsvOptions } from '../lib/formats/csv/read/options.ts';
import { startsWithUtf16Bom } from '../lib/formats/csv/read/bom.ts';
import { CsvOutput } from '../lib/formats/csv/parallel/output.ts';
import { parallelDecision } from '../lib/formats/csv/parallel/eligible.ts';
import { ParallelCsvReader } from '../lib/formats/csv/parallel/reader.ts';
import { quoteAndComment } from '../lib/formats/csv/fast/source.ts';

/**
 * Reads CSV as batches of rows. Without dialect options, a file's delimiter, quote, escape,
 * header, comment prefix and preamble are detected from its first 64 KB (see docs/csv.md).
 *
 * @typeParam R the row type the caller expects (not checked at run time; `cast` sets the values' types)
 * @param input a file path (`.gz` and `.zst` are decompressed on the fly) or a Readable of bytes
 * @param options see {@link FromCsvOptions}
 * @example
 * ```ts
 * await pipeline(fromCsv('trades.csv.gz', { cast: true }), map((r) => r), toCsv('out.csv'));
 * ```
 */
export function fromCsv<R extends Row = Row>(
  input: string | readonly string[] | Readable,
  options?: FromCsvOptions,
): BatchSource<R> {
  if (!(input instanceof Readable) && isDatasetRequest(input, options))
    return textDataset(input, options, fromCsv, 'fromCsv') as BatchSource<R>;
  if (typeof input !== 'string' && !(input instanceof Readable))
    throw new ValidationError('Expected `input` to be a file path, an array of paths or a Readable');
  const plan = resolveCsvOptions(input, options);
  if (plan.parser === 'fast') chooseReader(plan, plan.parseOptions);
  const counters: CsvCounters = { rows: 0, bytesRead: () => 0 };
  const resume = new CsvResume(plan, counters);
  let totalBytes: number | undefined;
  // without an explicit `output`, the pipeline chooses (format negotiation, lib/core/negotiate.ts)
  const output = new CsvOutput(plan);

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    if (plan.file !== undefined) totalBytes = await fileSize(plan);
    // parser 'auto' and a UTF-16 file: csv-parse decodes it; the fast path and the sniffer read UTF-8
    const utf16 =
      plan.parser === 'auto' &&
      plan.file !== undefined &&
      plan.compression === undefined &&
      (await startsWithUtf16Bom(plan.file));
    const dialect =
      !utf16 && (plan.sniff || (plan.file !== undefined && plan.skipLines !== undefined))
        ? await sniffFile(plan)
        : undefined;
    const parseOptions = effectiveParseOptions(plan, dialect);
    if (dialect === undefined && plan.skipLines !== undefined) parseOptions.from_line = plan.skipLines + 1;
    const start = startOf(dialect, resume.from);
    const setting = columnsSetting(plan, dialect, resume.from?.columns);
    let names: string[] | undefined = Array.isArray(setting) ? setting : undefined;
    let headerSeen = false;
    const hook = headerHook(plan.expectColumns, plan.stageName, plan.where, (header, unique) => {
      headerSeen = true;
      names = unique;
      const changes = renamed(header, unique);
      if (changes.length > 0) stats.details.renamed = changes.join(', ');
    });
    // casts are set up before the header is read: by the sniffed header's names (by position for array rows)
    const castNames =
      setting === false
        ? undefined
        : Array.isArray(setting)
          ? setting
          : dialect?.headerNames
            ? uniqueNames(dialect.headerNames)
            : [];
    const casts = castsOf(plan, dialect, castNames);
    const kind = utf16 ? 'csv-parse' : chooseReader(plan, parseOptions);
    const spec: CsvReadSpec = {
      plan: output.plan,
      parseOptions,
      columns: setting === true ? hook : setting,
      infer: casts.schema === undefined && casts.infer,
      castRow: rowCaster(casts.schema, casts.infer),
      start,
      skipBlankLines: skipBlank(plan, dialect, setting),
      bom: start.byte === 0 ? ((parseOptions.bom as boolean | undefined) ?? true) : false,
      tracking: false,
      names: () => names,
    };
    describe(stats, kind, dialect, plan);
    const reader = output.wrap(resume.wrap(chooseThreads(kind, spec, dialect, stats)), stats);
    const run = new CsvRun(plan, context, stats, start, counters);
    try {
      if (run.deadLetter && resume.from)
        await run.deadLetter.keepOnly((record) => typeof record.line === 'number' && record.line <= start.line);
      yield* reader.read(context, run, spec);
      if (plan.expectColumns && !headerSeen && !resume.from) {
        throw new CsvParseError(`the file has no header; expected [${plan.expectColumns.join(',')}]`, {
          stage: plan.stageName,
          file: plan.where,
          line: 1,
        });
      }
      if (names) stats.details.columns = names.join(',');
      await run.finish();
    } finally {
      await run.close();
    }
  }

  /** The one-thread reader, or the parser threads' when the read qualifies (stats say which, and why not). */
  function chooseThreads(
    kind: string,
    spec: CsvReadSpec,
    dialect: CsvDialect | undefined,
    stats: StageStats,
  ): CsvReader {
    const single = kind === 'fast' ? new FastCsvPathReader(counters) : new CsvParseReader(counters);
    const columns = spec.columns;
    const decision = parallelDecision({
      plan: spec.plan,
      kind,
      size: totalBytes,
      checkpointing: resume.enabled,
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
    return new ParallelCsvReader(counters, single, totalBytes!, decision.names, output.negotiatedArrow);
  }

  // the row type is the caller's claim (as collect<T>'s): the reader yields plain rows
  return new BatchSource<Row>({
    name: plan.stageName,
    open,
    progress: () => ({
      rows: counters.rows,
      bytes: counters.bytesRead() + (plan.compression ? 0 : (resume.from?.byte ?? 0)),
      totalBytes,
    }),
    checkpoint: resume.hooks,
    offer: output.offer,
  }) as BatchSource<R>;
}

async function fileSize(plan: CsvPlan): Promise<number> {
  try {
    return (await stat(plan.file!)).size;
  } catch (error) {
    throw new IoError(
      `Cannot read ${plan.file}: ${(error as Error).message}`,
      { stage: plan.stageName, file: plan.file },
      { cause: error },
    );
  }
}

/** The parser and what was detected, in stats. */
function describe(stats: StageStats, kind: string, dialect: CsvDialect | undefined, plan: CsvPlan): void {
  stats.details.parser = kind;
  if (dialect === undefined) return;
  stats.details.delimiter = dialect.delimiter;
  stats.details.quote = dialect.quote;
  stats.details.escape = dialect.escape;
  stats.details.header = plan.columns === undefined ? dialect.header : plan.columns === true;
  if (dialect.comment !== undefined) stats.details.comment = dialect.comment;
  if (dialect.skipLines > 0) stats.details.skipLines = dialect.skipLines;
  stats.details.types = dialect.types.join(',');
}
