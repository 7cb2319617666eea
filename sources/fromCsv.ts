/**
 * `fromCsv`: a CSV file (or `.gz` file, or a byte stream) read chunk by chunk with csv-parse
 * and delivered as batches of rows.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse, type Options as CsvParseOptions, type Parser, type CsvError } from 'csv-parse';
import { Batch, type Row } from '../lib/batch.ts';
import { BatchSource } from '../lib/source.ts';
import { CsvParseError, IoError, ValidationError } from '../lib/errors.ts';
import { DeadLetterFile, type ErrorPolicy } from '../lib/dead-letter.ts';
import { expectBoolean, expectInteger, expectOptions } from '../lib/validate.ts';
import { batchSizer } from '../lib/batch-size.ts';
import { CastFailure, inferRows, schemaCaster, type CsvSchema } from './csv-cast.ts';
import type { StageContext, StageStats } from '../lib/stage.ts';

/** csv-parse options that fromCsv controls itself and so does not pass through. */
type ControlledParseOptions =
  | 'columns'
  | 'cast'
  | 'cast_date'
  | 'castDate'
  | 'on_record'
  | 'onRecord'
  | 'on_skip'
  | 'onSkip'
  | 'skip_records_with_error'
  | 'skipRecordsWithError'
  | 'raw'
  | 'info'
  | 'objname'
  | 'objName'
  | 'encoding';

/** Options of {@link fromCsv}. Any other csv-parse option (delimiter, quote, escape, bom, relax_quotes, relax_column_count, trim, comment, from_line, to_line, ...) is passed through to csv-parse. */
export interface FromCsvOptions extends Omit<CsvParseOptions, ControlledParseOptions> {
  /**
   * `true` (default): the first line is a header and rows are objects keyed by it; `false`: rows
   * are arrays; an array of names: the file has no header and rows are objects with these keys.
   */
  columns?: boolean | readonly string[];
  /** With `columns: true`: the header the file must have; a different header is an error. */
  expectColumns?: readonly string[];
  /**
   * `false` (default): every cell stays a string. `true`: numbers, booleans and empty-as-null are
   * inferred. An object (or array for rows without header) of column types casts declared
   * columns, and a cell that does not fit is a bad row (see `onError`).
   */
  cast?: boolean | CsvSchema;
  /**
   * Rows per batch, or `'auto'` (default): starts at 2048 and follows the observed bytes per row
   * (about 1 MB of rows a batch) and the memory governor's headroom, between 256 and 65536 rows.
   * The sizes chosen are in stats.
   */
  batchSize?: number | 'auto';
  /** Decompress gzip input; default: true when the path ends in `.gz`. */
  gzip?: boolean;
  /** What to do with a malformed row or a cell that does not fit its declared type (default `'fail'`). */
  onError?: ErrorPolicy;
  /** Text encoding of the file (default `utf8`). */
  encoding?: BufferEncoding;
  /** Name used in stats and errors (default: the file name, or `fromCsv`). */
  name?: string;
}

const DEFAULT_BATCH_SIZE = 2048;
/**
 * Bytes of rows one adaptive batch aims at. Small enough that a few batches in flight fit V8's
 * young generation: rows that die young are cheap, rows promoted to the old generation are not
 * (measured: 1024-row batches ran at 0.93 of raw csv-parse, 8192-row batches at 0.86).
 */
const BATCH_BUDGET = 1e6;

function validatePolicy(value: unknown, path: string): ErrorPolicy {
  if (value === undefined) return 'fail';
  if (value === 'fail' || value === 'skip') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { deadLetter?: unknown }).deadLetter === 'string') {
    return { deadLetter: (value as { deadLetter: string }).deadLetter };
  }
  throw new ValidationError(`Expected \`${path}\` to be 'fail', 'skip' or { deadLetter: path }, got ${JSON.stringify(value)}`);
}

/**
 * Reads CSV as batches of rows.
 *
 * @param input a file path (`.gz` is decompressed on the fly) or a Readable of bytes
 * @param options see {@link FromCsvOptions}
 * @example
 * ```ts
 * await pipeline(fromCsv('trades.csv.gz', { cast: true }), map((r) => r), toCsv('out.csv'));
 * ```
 */
export function fromCsv(input: string | Readable, options?: FromCsvOptions): BatchSource<Row> {
  const opts = expectOptions(options);
  if (typeof input !== 'string' && !(input instanceof Readable)) {
    throw new ValidationError(`Expected \`input\` to be a file path or a Readable, got ${typeof input}`);
  }
  if (opts.batchSize !== undefined && opts.batchSize !== 'auto') expectInteger(opts.batchSize, 'options.batchSize', DEFAULT_BATCH_SIZE);
  const policy = validatePolicy(opts.onError, 'options.onError');
  const {
    columns: columnsOption = true,
    expectColumns,
    cast,
    batchSize: _batchSize,
    gzip: gzipOption,
    onError: _onError,
    encoding = 'utf8',
    name,
    ...parseOptions
  } = opts;
  if (typeof columnsOption !== 'boolean' && !Array.isArray(columnsOption)) {
    throw new ValidationError(`Expected \`options.columns\` to be a boolean or an array of names, got ${typeof columnsOption}`);
  }
  if (expectColumns !== undefined && columnsOption !== true) {
    throw new ValidationError('`options.expectColumns` needs `options.columns: true` (a header to check)');
  }
  if (cast !== undefined && typeof cast !== 'boolean' && (typeof cast !== 'object' || cast === null)) {
    throw new ValidationError(`Expected \`options.cast\` to be a boolean or a column schema object, got ${typeof cast}`);
  }
  const file = typeof input === 'string' ? input : undefined;
  const gzip = expectBoolean(gzipOption, 'options.gzip', file?.endsWith('.gz') ?? false);
  const stageName = name ?? 'fromCsv';
  const where = file ?? stageName;
  const castRow = typeof cast === 'object' ? schemaCaster(cast) : undefined;
  const infer = cast === true;

  let fileStream: ReadStream | undefined;
  let totalBytes: number | undefined;
  let rowsRead = 0;

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    stats.details.parser = 'csv-parse';
    const sizer = batchSizer(opts.batchSize, 'options.batchSize', { initial: DEFAULT_BATCH_SIZE, min: 256, max: 65536, budget: BATCH_BUDGET }, context.governor);
    let batchSize = sizer.next();
    if (file !== undefined) {
      try {
        totalBytes = (await stat(file)).size;
      } catch (error) {
        throw new IoError(`Cannot read ${file}: ${(error as Error).message}`, { stage: stageName, file }, { cause: error });
      }
    }
    const header = expectColumns ? headerChecker(expectColumns, stageName, where) : undefined;
    const deadLetter = typeof policy === 'object' ? new DeadLetterFile(policy.deadLetter) : undefined;
    const pendingDeadLetters: Promise<void>[] = [];
    const onBad = (error: Error, line: number | undefined, raw: string | undefined): void => {
      stats.rowsSkipped++;
      if (deadLetter) {
        stats.rowsDeadLettered++;
        pendingDeadLetters.push(
          deadLetter.write({ stage: stageName, reason: error.message, code: (error as CsvError).code, file: where, line, raw }),
        );
      }
    };
    const parser: Parser = parse({
      ...(parseOptions as CsvParseOptions),
      bom: parseOptions.bom ?? true,
      columns: header ? header.check : columnsOption === true ? true : columnsOption === false ? false : [...columnsOption],
      skip_records_with_error: policy !== 'fail',
      raw: deadLetter !== undefined,
      on_skip: policy === 'fail' ? undefined : (error, raw) => onBad(error ?? new Error('bad record'), error ? (error as CsvError & { lines?: number }).lines : undefined, raw),
      on_record: castRow
        ? (record: unknown, info) => {
            const row = (deadLetter ? (record as { record: Row }).record : record) as Row;
            try {
              castRow(row as Record<string, unknown> | unknown[]);
            } catch (error) {
              if (!(error instanceof CastFailure)) throw error;
              if (policy === 'fail') throw new CsvParseError(error.message, { stage: stageName, file: where, line: info.lines }, undefined, { cause: error });
              onBad(error, info.lines, deadLetter ? (record as { raw: string }).raw : undefined);
              return null;
            }
            return record;
          }
        : undefined,
      // a whole batch may sit in the parser's buffer: fewer wake-ups per row
      highWaterMark: DEFAULT_BATCH_SIZE,
    } as CsvParseOptions);
    const source = file !== undefined ? (fileStream = createReadStream(file, { highWaterMark: 256 * 1024 })) : (input as Readable);
    let failure: Error | undefined;
    const stages: NodeJS.ReadableStream[] = gzip ? [source, createGunzip()] : [source];
    streamPipeline([...stages, parser] as unknown as [Readable, Parser], (error) => {
      if (error && !failure) failure = error;
    });
    const onAbort = (): void => {
      parser.destroy(context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    let index = 0;
    let line = 1;
    // Records arrive through 'data' in flowing mode: csv-parse hands each one over as it parses
    // it, without the per-record cost of buffering and read(). A full batch pauses the parser
    // until the pipeline asks for the next one, so backpressure reaches the file.
    type Ready = { rows: Row[]; endLine: number; endByte: number };
    const ready: Ready[] = [];
    let rows: Row[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    const unwrap = deadLetter !== undefined;
    parser.on('data', (record: unknown) => {
      rows.push((unwrap ? (record as { record: Row }).record : record) as Row);
      if (rows.length >= batchSize) {
        const info = parser.info;
        ready.push({ rows, endLine: info.lines, endByte: info.bytes });
        rows = [];
        parser.pause();
        wake?.();
      }
    });
    parser.on('end', () => {
      ended = true;
      wake?.();
    });
    parser.on('error', (error: Error) => {
      failure ??= error;
      wake?.();
    });
    try {
      for (;;) {
        const next = ready.shift();
        if (next) {
          const batch = makeBatch(next);
          sizer.observe(batch.numRows, batch.bytes);
          yield batch;
          batchSize = sizer.next();
          continue;
        }
        if (failure) throw wrapError(failure);
        if (ended) break;
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        parser.resume();
        await woken;
        wake = undefined;
      }
      if (header && !header.seen) throw new CsvParseError(`the file has no header; expected [${expectColumns?.join(',')}]`, { stage: stageName, file: where, line: 1 });
      if (rows.length > 0) yield makeBatch({ rows, endLine: parser.info.lines, endByte: parser.info.bytes });
      sizer.record(stats.details);
      await Promise.all(pendingDeadLetters);
      await deadLetter?.close();
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      if (!parser.destroyed) parser.destroy();
      fileStream?.destroy();
      await deadLetter?.close().catch(() => undefined);
    }

    function makeBatch(done: Ready): Batch<Row> {
      if (infer) inferRows(done.rows as (Record<string, unknown> | unknown[])[]);
      const batch = new Batch(done.rows, { source: where, index: index++, rowStart: rowsRead, line, endLine: done.endLine, endByte: done.endByte });
      rowsRead += done.rows.length;
      line = done.endLine + 1;
      return batch;
    }

    function wrapError(error: Error): Error {
      if (error instanceof CsvParseError || error instanceof IoError) return error;
      const csvError = error as CsvError & { lines?: number };
      if (typeof csvError.code === 'string' && csvError.code.startsWith('CSV_') || csvError.code === 'INVALID_OPENING_QUOTE') {
        return new CsvParseError(`${csvError.code}: ${error.message}`, { stage: stageName, file: where, line: csvError.lines, batch: index }, undefined, { cause: error });
      }
      if (typeof (error as NodeJS.ErrnoException).errno === 'number' || (error as NodeJS.ErrnoException).code === 'Z_DATA_ERROR' || (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') {
        return new IoError(`Cannot read ${where}: ${error.message}`, { stage: stageName, file: where, byteOffset: fileStream?.bytesRead }, { cause: error });
      }
      return error;
    }
  }

  return new BatchSource<Row>({
    name: stageName,
    open,
    progress: () => ({ rows: rowsRead, bytes: fileStream?.bytesRead ?? 0, totalBytes }),
  });
}

/** A csv-parse `columns` function that checks the header against the expected names. */
function headerChecker(expected: readonly string[], stage: string, where: string): { check: (header: string[]) => string[]; seen: boolean } {
  const checker = {
    seen: false,
    check: (header: string[]): string[] => {
    checker.seen = true;
    const same = header.length === expected.length && header.every((h, i) => h === expected[i]);
    if (!same) {
      throw new CsvParseError(`header [${header.join(',')}] differs from the expected [${expected.join(',')}]`, { stage, file: where, line: 1 });
    }
    return header;
    },
  };
  return checker;
}
