/**
 * The csv-parse reader: fromCsv for every dialect the fast scanner does not handle (comments,
 * other quotes and escapes, relaxing, trimming, other encodings, ...). Records arrive through
 * 'data' in flowing mode; a full batch pauses the parser until the next one is asked for, so
 * backpressure reaches the file.
 */
import { parse, type CsvError, type Options as CsvParseOptions, type Parser } from 'csv-parse';
import { type PassThrough, pipeline as streamPipeline } from 'node:stream';
import { commentDialect, commentFilter } from './comment-filter.ts';
import type { Batch, Row } from '../../../core/batch.ts';
import type { StageContext } from '../../../core/stage.ts';
import { CastFailure, inferRows } from '../cast.ts';
import { openCsvBytes } from './bytes.ts';
import { MAX_CSV_FIELDS, MAX_RECORD_BYTES, tooManyFields } from '../fast/limits.ts';
import type { CsvCounters, CsvReader, CsvReadSpec, CsvRun } from './reader.ts';

type RecordInfo = { bytes: number; lines: number };
type Ready = { rows: Row[]; numRows: number; endLine: number; endByte: number };

/** Reads with csv-parse; see the module comment. */
export class CsvParseReader implements CsvReader {
  readonly kind = 'csv-parse';
  readonly #counters: CsvCounters;

  constructor(counters: CsvCounters) {
    this.#counters = counters;
  }

  /** The csv-parse options for `spec`; `ends` collects exact record ends when tracking. */
  #options(run: CsvRun, spec: CsvReadSpec, ends: { bytes: number[]; lines: number[] }): CsvParseOptions {
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
      columns: boundedColumns(spec.columns),
      // csv-parse's own bound on a record's bytes, with its code CSV_MAX_RECORD_SIZE (as the fast path)
      max_record_size: (spec.parseOptions.max_record_size ??
        spec.parseOptions.maxRecordSize ??
        MAX_RECORD_BYTES) as number,
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
      on_record: onRecord,
      // a whole batch may sit in the parser's buffer: fewer wake-ups per row
      highWaterMark: 2048,
    } as CsvParseOptions;
  }

  async *read(context: StageContext, run: CsvRun, spec: CsvReadSpec): AsyncGenerator<Batch<Row>> {
    const ends = { bytes: [] as number[], lines: [] as number[] };
    const parser: Parser = parse(this.#options(run, spec, ends));
    let failure: Error | undefined;
    const { bytes, file } = openCsvBytes(
      spec.plan.input,
      spec.plan.compression,
      spec.start.byte,
      (error) => (failure ??= error),
    );
    this.#counters.bytesRead = () => file?.bytesRead ?? 0;
    const comments = commentDialect(spec.parseOptions);
    const filter = comments && commentFilter(comments, spec.plan.policy === 'fail' ? 'stop' : run.onBad);
    const stages = filter ? [bytes, filter, parser] : [bytes, parser];
    streamPipeline(stages as unknown as [PassThrough, Parser], (error) => {
      if (error && !failure) failure = error;
    });
    const onAbort = (): void => {
      parser.destroy(context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    const ready: Ready[] = [];
    let rows: Row[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    const unwrap = run.deadLetter !== undefined;
    /** Where a batch of `done` rows ends: exact when tracking, else where the parser is now. */
    const batchEnd = (done: Row[]): Ready => {
      if (!spec.tracking)
        return { rows: done, numRows: done.length, endLine: parser.info.lines, endByte: parser.info.bytes };
      const last = done.length - 1;
      const end = { rows: done, numRows: done.length, endLine: ends.lines[last]!, endByte: ends.bytes[last]! };
      ends.bytes.splice(0, done.length);
      ends.lines.splice(0, done.length);
      return end;
    };
    parser.on('data', (record: unknown) => {
      rows.push((unwrap ? (record as { record: Row }).record : record) as Row);
      if (rows.length >= run.batchSize) {
        ready.push(batchEnd(rows));
        rows = [];
        parser.pause();
        wake?.();
      }
    });
    parser.on('end', () => {
      // a record the comment filter refused: after csv-parse read (and checked) the bytes before it
      if (filter?.refusal) failure ??= filter.refusal;
      ended = true;
      wake?.();
    });
    parser.on('error', (error: Error) => {
      failure ??= error;
      wake?.();
    });
    const makeBatch = (done: Ready): Batch<Row> => {
      if (spec.infer) inferRows(done.rows as (Record<string, unknown> | unknown[])[]);
      return run.batch(done, spec.names());
    };
    try {
      for (;;) {
        const next = ready.shift();
        if (next) {
          const batch = makeBatch(next);
          await run.ready();
          yield batch;
          run.nextSize();
          continue;
        }
        if (failure) throw run.wrap(failure, file?.bytesRead);
        if (ended) break;
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        parser.resume();
        await woken;
        wake = undefined;
      }
      await run.ready();
      if (rows.length > 0) yield makeBatch(batchEnd(rows));
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      if (!parser.destroyed) parser.destroy();
      bytes.destroy();
      file?.destroy();
    }
  }
}

/** The header hook with the fast path's bound on fields per record. */
function boundedColumns(columns: CsvReadSpec['columns']): CsvReadSpec['columns'] {
  if (typeof columns !== 'function') return columns;
  return (header: string[]) => {
    if (header.length > MAX_CSV_FIELDS) throw tooManyFields(1);
    return columns(header);
  };
}
