/**
 * `fromCsv`: a CSV file (or `.gz` file, or a byte stream) read chunk by chunk with csv-parse
 * and delivered as batches of rows.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, Readable, Transform } from 'node:stream';
import { resolve as resolvePath } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse, type Options as CsvParseOptions, type Parser, type CsvError } from 'csv-parse';
import { Batch, type Row } from '../lib/batch.ts';
import { BatchSource } from '../lib/source.ts';
import { CsvParseError, IoError, ValidationError } from '../lib/errors.ts';
import { DeadLetterFile, type ErrorPolicy } from '../lib/dead-letter.ts';
import { expectBoolean, expectInteger, expectOneOf, expectOptions } from '../lib/validate.ts';
import { absoluteLines, delimiterByte, fastCsvBatches, fastPathBlocker, wrapFastError } from './csv-fast/source.ts';
import { batchSizer } from '../lib/batch-size.ts';
import { CastFailure, inferRows, schemaCaster, type CsvSchema } from './csv-cast.ts';
import type { StageContext, StageStats } from '../lib/stage.ts';
import type { CheckpointJson } from '../lib/checkpoint.ts';

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
  /**
   * `'auto'` (default): the fast byte scanner when the options allow it (single-byte delimiter,
   * `"` quotes, UTF-8, no csv-parse-only option), else csv-parse; `'fast'` requires the scanner;
   * `'csv-parse'` forces csv-parse. Both give the same rows and errors; `stats` says which ran.
   */
  parser?: 'auto' | 'fast' | 'csv-parse';
  /**
   * The fast path's batches: `'rows'` (default; what map/filter read) or `'arrow'` (typed Arrow
   * columns, for Arrow-aware sinks; rows are made once if a row stage asks).
   */
  output?: 'rows' | 'arrow';
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
    parser: parserOption = 'auto',
    output: outputOption = 'rows',
    ...parseOptions
  } = opts;
  expectOneOf(parserOption, 'options.parser', ['auto', 'fast', 'csv-parse'], 'auto');
  expectOneOf(outputOption, 'options.output', ['rows', 'arrow'], 'rows');
  const fastBlocker = fastPathBlocker(parseOptions as Record<string, unknown>, encoding);
  if (parserOption === 'fast' && fastBlocker !== undefined) {
    throw new ValidationError(`\`options.parser\` is 'fast' but the fast CSV path cannot honour ${fastBlocker}; use 'auto' or 'csv-parse'`);
  }
  const useFast = parserOption !== 'csv-parse' && fastBlocker === undefined;
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
  // checkpoint/resume (lib/checkpoint.ts): exact record ends are tracked only when checkpointing
  let tracking = false;
  let resume: CsvResume | undefined;
  let headerColumns: string[] | undefined;

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
    if (header && resume) header.seen = true;
    const lineBase = resume?.line ?? 0;
    const byteBase = resume?.byte ?? 0;
    const recordEnds: number[] = [];
    const recordLines: number[] = [];
    // called by csv-parse as it parses each record, before it is buffered: the exact end of the record
    const trackEnds = <F extends ((record: unknown, info: { bytes: number; lines: number }) => unknown) | undefined>(fn: F): F => {
      if (!tracking) return fn;
      return ((record: unknown, info: { bytes: number; lines: number }) => {
        const out = fn ? fn(record, info) : record;
        if (out !== null && out !== undefined) {
          recordEnds.push(info.bytes);
          recordLines.push(info.lines);
        }
        return out;
      }) as F;
    };
    const captureHeader = (check: (h: string[]) => string[]) => (h: string[]): string[] => (headerColumns = check(h));
    const columnsSetting = resume?.columns
      ? resume.columns
      : tracking && columnsOption === true
        ? captureHeader(header ? header.check : (h) => h)
        : header ? header.check : columnsOption === true ? true : columnsOption === false ? false : [...columnsOption];
    const deadLetter = typeof policy === 'object' ? new DeadLetterFile(policy.deadLetter) : undefined;
    // a resumed run keeps the records of the lines before its start, and writes the rest again
    if (deadLetter && resume) await deadLetter.keepOnly((record) => typeof record.line === 'number' && record.line <= lineBase);
    const onBad = (error: Error, line: number | undefined, raw: string | undefined): void => {
      stats.rowsSkipped++;
      if (line !== undefined) line += lineBase;
      if (deadLetter) {
        stats.rowsDeadLettered++;
        // appended without a promise (a parser callback cannot await); the batch loop awaits
        // deadLetter.ready() before each yield: backpressure, and a full disk becomes its error
        deadLetter.append({ stage: stageName, reason: absoluteLines(error.message, lineBase), code: (error as CsvError).code, file: where, line, raw });
      }
    };
    if (useFast) {
      // the fast byte scanner (sources/csv-fast): same rows, errors and lines as csv-parse
      stats.details.parser = 'fast';
      stats.details.output = outputOption;
      const source = file !== undefined ? (fileStream = createReadStream(file, { highWaterMark: 256 * 1024, start: gzip ? undefined : resume?.byte })) : (input as Readable);
      const bytes = new PassThrough({ highWaterMark: 0 });
      const fastStages: NodeJS.ReadableStream[] = gzip ? [source, createGunzip()] : [source];
      if (gzip && resume && resume.byte > 0) fastStages.push(skipBytes(resume.byte));
      streamPipeline([...fastStages, bytes] as unknown as [Readable, PassThrough], () => undefined);
      const onAbortFast = (): void => {
        bytes.destroy(context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
      };
      context.signal.addEventListener('abort', onAbortFast, { once: true });
      let index = resume?.index ?? 0;
      let line = lineBase + 1;
      try {
        const batches = fastCsvBatches(
          bytes,
          {
            delimiter: delimiterByte(parseOptions as Record<string, unknown>),
            columns: columnsSetting,
            infer,
            castRow,
            fail: policy === 'fail',
            raw: deadLetter !== undefined,
            onBad,
            onCastFailure: (error, at, raw) => {
              if (policy === 'fail') throw new CsvParseError(error.message, { stage: stageName, file: where, line: lineBase + at }, undefined, { cause: error });
              onBad(error, at, raw);
            },
            output: outputOption,
            bom: resume ? false : ((parseOptions.bom as boolean | undefined) ?? true),
          },
          () => batchSize,
        );
        for (;;) {
          let next;
          try {
            next = await batches.next();
          } catch (error) {
            throw wrapFastError(error, { stage: stageName, file: where, lineBase, batch: index, byteOffset: fileStream?.bytesRead });
          }
          if (next.done) break;
          const done = next.value;
          const position = { source: where, index: index++, rowStart: rowsRead, line, endLine: lineBase + done.endLine, endByte: byteBase + done.endByte };
          const batch = done.arrow ? (Batch.fromArrow(done.arrow, position) as Batch<Row>) : new Batch(done.rows!, position);
          rowsRead += done.numRows;
          line = lineBase + done.endLine + 1;
          sizer.observe(batch.numRows, batch.bytes);
          await deadLetter?.ready();
          yield batch;
          batchSize = sizer.next();
        }
        if (header && !header.seen) throw new CsvParseError(`the file has no header; expected [${expectColumns?.join(',')}]`, { stage: stageName, file: where, line: 1 });
        sizer.record(stats.details);
        await deadLetter?.close();
      } finally {
        context.signal.removeEventListener('abort', onAbortFast);
        bytes.destroy();
        // wait for the file to close, so a stopped pipeline leaves no descriptor behind it
        if (fileStream && !fileStream.closed) await new Promise<void>((resolve) => fileStream!.destroy().once('close', () => resolve()));
        await deadLetter?.close().catch(() => undefined);
      }
      return;
    }
    const parser: Parser = parse({
      ...(parseOptions as CsvParseOptions),
      bom: resume ? false : (parseOptions.bom ?? true),
      columns: columnsSetting,
      skip_records_with_error: policy !== 'fail',
      raw: deadLetter !== undefined,
      on_skip: policy === 'fail' ? undefined : (error, raw) => onBad(error ?? new Error('bad record'), error ? (error as CsvError & { lines?: number }).lines : undefined, raw),
      on_record: trackEnds(castRow
        ? (record: unknown, info: { lines: number }) => {
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
        : undefined),
      // a whole batch may sit in the parser's buffer: fewer wake-ups per row
      highWaterMark: DEFAULT_BATCH_SIZE,
    } as CsvParseOptions);
    const source = file !== undefined ? (fileStream = createReadStream(file, { highWaterMark: 256 * 1024, start: gzip ? undefined : resume?.byte })) : (input as Readable);
    let failure: Error | undefined;
    const stages: NodeJS.ReadableStream[] = gzip ? [source, createGunzip()] : [source];
    // gzip cannot seek: a resumed gzip source decompresses from the start and skips to the offset
    if (gzip && resume && resume.byte > 0) stages.push(skipBytes(resume.byte));
    streamPipeline([...stages, parser] as unknown as [Readable, Parser], (error) => {
      if (error && !failure) failure = error;
    });
    const onAbort = (): void => {
      parser.destroy(context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    let index = resume?.index ?? 0;
    let line = lineBase + 1;
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
        ready.push(batchEnd(rows));
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
          await deadLetter?.ready();
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
      await deadLetter?.ready();
      if (rows.length > 0) yield makeBatch(batchEnd(rows));
      sizer.record(stats.details);
      await deadLetter?.close();
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      if (!parser.destroyed) parser.destroy();
      fileStream?.destroy();
      await deadLetter?.close().catch(() => undefined);
    }

    /** Where a batch of `done` rows ends: exact when tracking, else where the parser is now. */
    function batchEnd(done: Row[]): Ready {
      if (!tracking) return { rows: done, endLine: parser.info.lines, endByte: parser.info.bytes };
      const last = done.length - 1;
      const end = { rows: done, endLine: recordLines[last]!, endByte: recordEnds[last]! };
      recordEnds.splice(0, done.length);
      recordLines.splice(0, done.length);
      return end;
    }

    function makeBatch(done: Ready): Batch<Row> {
      if (infer) inferRows(done.rows as (Record<string, unknown> | unknown[])[]);
      const batch = new Batch(done.rows, { source: where, index: index++, rowStart: rowsRead, line, endLine: lineBase + done.endLine, endByte: byteBase + done.endByte });
      rowsRead += done.rows.length;
      line = lineBase + done.endLine + 1;
      return batch;
    }

    function wrapError(error: Error): Error {
      if (error instanceof CsvParseError || error instanceof IoError) return error;
      const csvError = error as CsvError & { lines?: number };
      if (typeof csvError.code === 'string' && csvError.code.startsWith('CSV_') || csvError.code === 'INVALID_OPENING_QUOTE') {
        return new CsvParseError(`${csvError.code}: ${absoluteLines(error.message, lineBase)}`, { stage: stageName, file: where, line: csvError.lines === undefined ? undefined : lineBase + csvError.lines, batch: index }, undefined, { cause: error });
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
    progress: () => ({ rows: rowsRead, bytes: (fileStream?.bytesRead ?? 0) + (gzip ? 0 : (resume?.byte ?? 0)), totalBytes }),
    checkpoint: {
      identity: { source: 'fromCsv', file: file === undefined ? null : resolvePath(file), options: jsonOf(opts) },
      file,
      refuse:
        file === undefined
          ? `${stageName} reads a stream, not a file, and cannot seek back to a position`
          : ['from', 'from_line', 'fromLine', 'to', 'to_line', 'toLine'].some((k) => (parseOptions as Record<string, unknown>)[k] !== undefined)
            ? `${stageName}: the csv-parse options from/from_line/to/to_line count from the start of the file and cannot resume`
            : undefined,
      enable: () => {
        tracking = true;
      },
      state: (position, rowsThrough) => ({ byte: position.endByte ?? 0, line: position.endLine ?? 0, rows: rowsThrough, index: position.index + 1, columns: headerColumns ?? null }),
      resume: (state) => {
        resume = state as unknown as CsvResume;
        rowsRead = resume.rows;
        headerColumns = resume.columns ?? undefined;
      },
    },
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

/** Where a resumed CSV source starts: just after the record ending at `byte` on `line`. */
interface CsvResume {
  byte: number;
  line: number;
  rows: number;
  index: number;
  /** The header read by the first run (the resumed run starts after it). */
  columns: string[] | null;
}

/** Options as JSON (functions by their source), for the pipeline fingerprint. */
function jsonOf(value: object): CheckpointJson {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'function' ? String(v) : typeof v === 'bigint' ? v.toString() : v))) as CheckpointJson;
}

/** Drops the first `count` bytes of a byte stream. */
function skipBytes(count: number): Transform {
  let left = count;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (left === 0) return callback(null, chunk);
      if (chunk.byteLength <= left) {
        left -= chunk.byteLength;
        return callback();
      }
      const rest = chunk.subarray(left);
      left = 0;
      callback(null, rest);
    },
  });
}
