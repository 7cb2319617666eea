/**
 * The csv-parse reader: fromCsv for every dialect the fast scanner does not handle (comments,
 * other quotes and escapes, relaxing, trimming, other encodings, ...): the options csv-parse
 * reads with, and the byte pipeline into it; its records become batches in read/parse-queue.ts.
 */
import { parse, type CsvError, type Options as CsvParseOptions, type Parser } from 'csv-parse';
import type { ReadStream } from 'node:fs';
import { type PassThrough, type Readable, pipeline as streamPipeline } from 'node:stream';
import { settleLineEnds } from './line-ends.ts';
import { readEncoding, transcoderFor } from './utf16.ts';
import { commentDialect, commentFilter, type CommentFilter } from './comment-filter.ts';
import type { Batch, Row } from '../../../core/batch.ts';
import type { StageContext } from '../../../core/stage.ts';
import { CastFailure, inferRows } from '../cast.ts';
import { openCsvBytes } from './bytes.ts';
import { closeStream } from '../../../io/close-stream.ts';
import { MAX_CSV_FIELDS, maxRecordBytes, tooManyFields } from '../fast/limits.ts';
import type { CsvCounters, CsvReader, CsvReadSpec, CsvRun } from './reader.ts';
import { refuseUtf16Be } from './bom.ts';
import { ParseQueue, type RecordEnds } from './parse-queue.ts';
import { utf8Guard } from './utf8-guard.ts';

type RecordInfo = { bytes: number; lines: number };

/** Reads with csv-parse; see the module comment. */
export class CsvParseReader implements CsvReader {
  readonly kind = 'csv-parse';
  readonly #counters: CsvCounters;

  constructor(counters: CsvCounters) {
    this.#counters = counters;
  }

  /** The csv-parse options for `spec`; `ends` collects exact record ends when tracking. */
  #options(run: CsvRun, spec: CsvReadSpec, ends: RecordEnds): CsvParseOptions {
    const { plan, castRow, tracking } = spec;
    const unwrap = run.deadLetter !== undefined;
    const onRecord = (record: unknown, info: RecordInfo): unknown => {
      // the fast path's bound on cells per record (array rows; object rows are bounded by their header)
      const fields = unwrap ? (record as { record: unknown }).record : record;
      if (Array.isArray(fields) && fields.length > MAX_CSV_FIELDS) throw tooManyFields(info.lines);
      if (castRow) {
        try {
          castRow((unwrap ? (record as { record: Row }).record : record) as Record<string, unknown>);
        } catch (error) {
          if (!(error instanceof CastFailure)) throw error;
          if (plan.policy === 'fail') throw run.castError(error, info.lines);
          run.onBad(error, info.lines, unwrap ? (record as { raw: string }).raw : undefined);
          return null;
        }
      }
      if (tracking) {
        ends.bytes.push(info.bytes);
        ends.lines.push(info.lines);
      }
      return record;
    };
    return {
      ...(spec.parseOptions as CsvParseOptions),
      // a quote inside an unquoted field is text, as DuckDB reads it (csv-parse relaxes text after a closing quote too)
      relax_quotes: (spec.parseOptions.relax_quotes ?? spec.parseOptions.relaxQuotes ?? true) as boolean,
      skip_empty_lines: spec.skipBlankLines,
      bom: spec.bom,
      // the encoding of the bytes it gets: csv-parse matches delimiters and quotes as bytes of it and decodes fields with it
      encoding: readEncoding(spec.encoding),
      columns: boundedColumns(spec.columns),
      // csv-parse's own bound on a record's bytes, with its code CSV_MAX_RECORD_SIZE (as the fast path)
      max_record_size: (spec.parseOptions.max_record_size ??
        spec.parseOptions.maxRecordSize ??
        maxRecordBytes()) as number,
      skip_records_with_error: plan.policy !== 'fail',
      raw: unwrap,
      on_skip:
        plan.policy === 'fail'
          ? undefined
          : (error, raw) =>
              run.onBad(
                error ?? new Error('bad record'),
                error ? (error as CsvError & { lines?: number }).lines : undefined,
                raw,
              ),
      // csv-parse builds a fresh info object (two object spreads) for every record it hands to
      // on_record: over half its own time on 1M object rows, so the hook goes in only when
      // something reads it: a schema cast, checkpoint tracking, or array rows (bounded above)
      on_record: castRow !== undefined || tracking || spec.columns === false ? onRecord : undefined,
      // a whole batch may sit in the parser's buffer: fewer wake-ups per row
      highWaterMark: 2048,
    } as CsvParseOptions;
  }

  async *read(context: StageContext, run: CsvRun, spec: CsvReadSpec): AsyncGenerator<Batch<Row>> {
    // an abort before the listener below is added would never reach it: nothing is opened then
    context.signal.throwIfAborted();
    const ends: RecordEnds = { bytes: [], lines: [] };
    let queue: ParseQueue | undefined;
    const opened = openCsvBytes(
      spec.plan.input,
      spec.plan.compression,
      spec.start.byte,
      (error) => queue?.fail(error),
      transcoderFor(spec),
    );
    const file = opened.file;
    this.#counters.bytesRead = () => file?.bytesRead ?? 0;
    const { bytes, recordDelimiter } = await this.#lineEnds(context, run, spec, opened.bytes, file);
    const parser: Parser = parse({
      ...this.#options(run, spec, ends),
      ...(recordDelimiter && { record_delimiter: recordDelimiter }),
    });
    const filter = this.#commentFilter(run, spec);
    queue = new ParseQueue(parser, run, spec, ends, () => filter?.refusal);
    // a stream read from its start may be UTF-16BE (a file's first bytes were checked at open)
    const head = spec.start.byte === 0 ? [refuseUtf16Be(spec.plan.stageName, spec.plan.where)] : [];
    const guard =
      spec.encoding === 'utf8' && spec.plan.invalidUtf8 === 'error'
        ? [utf8Guard(spec.plan.stageName, spec.plan.where, run.lineBase, spec.start.byte)]
        : [];
    const stages = [bytes, ...head, ...guard, ...(filter ? [filter] : []), parser];
    streamPipeline(stages as unknown as [PassThrough, Parser], (error) => {
      if (error) queue.fail(error);
    });
    const onAbort = (): void => {
      parser.destroy(context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const next = await queue.next((error) => run.wrap(error, file?.bytesRead));
        if (next === undefined) break;
        if (spec.infer) inferRows(next.ready.rows as (Record<string, unknown> | unknown[])[]);
        const batch = run.batch(next.ready, spec.names(), spec.sniffed);
        await run.ready();
        yield batch;
        if (!next.last) run.nextSize();
      }
      await run.ready();
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      if (!parser.destroyed) parser.destroy();
      bytes.destroy();
      opened.bytes.destroy();
      // wait for the file to close, so a stopped pipeline leaves no descriptor behind it
      if (file) await closeStream(file);
    }
  }

  /**
   * The input's line ends settled before csv-parse starts (read/line-ends.ts), unless the options
   * name a record delimiter. Closes what is open when the look fails or the read is aborted.
   */
  async #lineEnds(
    context: StageContext,
    run: CsvRun,
    spec: CsvReadSpec,
    bytes: PassThrough,
    file: ReadStream | undefined,
  ): Promise<{ bytes: Readable; recordDelimiter?: string[] }> {
    const options = spec.parseOptions;
    if ((options.record_delimiter ?? options.recordDelimiter) !== undefined) return { bytes };
    const onAbort = (): void => {
      bytes.destroy(context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await settleLineEnds(bytes, quoteUnit(options.quote));
    } catch (error) {
      bytes.destroy();
      // the pipeline under `bytes` would release a caller's stream a tick later: now, before the rejection
      if (typeof spec.plan.input !== 'string') spec.plan.input.destroy();
      if (file) await closeStream(file);
      throw run.wrap(error as Error, file?.bytesRead);
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
  }

  /** The comment filter for the dialect (ASCII-compatible encodings only: it matches bytes), or undefined. */
  #commentFilter(run: CsvRun, spec: CsvReadSpec): CommentFilter | undefined {
    // the bytes are ASCII-compatible (UTF-16 arrives as UTF-8): the filter matches bytes
    const comments = commentDialect(spec.parseOptions);
    return comments && commentFilter(comments, spec.plan.policy === 'fail' ? 'stop' : run.onBad);
  }
}

/** The quote as one code unit for {@link settleLineEnds} (csv-parse's default `"`; none when off or longer). */
function quoteUnit(quote: unknown): number | undefined {
  if (quote === undefined || quote === true) return 0x22;
  const text = Buffer.isBuffer(quote) ? quote.toString('latin1') : quote;
  return typeof text === 'string' && text.length === 1 ? text.charCodeAt(0) : undefined;
}

/** The header hook with the fast path's bound on fields per record. */
function boundedColumns(columns: CsvReadSpec['columns']): CsvReadSpec['columns'] {
  if (typeof columns !== 'function') return columns;
  return (header: string[]) => {
    if (header.length > MAX_CSV_FIELDS) throw tooManyFields(1);
    return columns(header);
  };
}
