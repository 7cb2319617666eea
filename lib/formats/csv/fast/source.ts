/**
 * The thin adapter between fromCsv and the fast path: which options it can honour, batches pulled
 * from a byte stream (one chunk at a time, so backpressure reaches the file), and errors wrapped
 * as fromCsv wraps csv-parse's.
 */
import type { Readable } from 'node:stream';
import { CsvParseError, IoError, UnsupportedError } from '../../../core/errors.ts';
import type { FastCsvBatch, FastCsvOptions } from './reader.ts';

/** csv-parse options the fast path honours (with the values it honours); any other set option means csv-parse. */
const HONOURED = new Set([
  'delimiter',
  'quote',
  'escape',
  'bom',
  'relax_quotes',
  'relaxQuotes',
  'comment',
  'comment_no_infix',
  'commentNoInfix',
]);

/**
 * Why the fast path cannot read with these csv-parse options and encoding, or undefined when it
 * can: a single-byte delimiter (not a quote or newline), `"` as quote and escape, UTF-8.
 */
export function fastPathBlocker(parseOptions: Readonly<Record<string, unknown>>, encoding: string): string | undefined {
  if (!['utf8', 'utf-8'].includes(encoding.toLowerCase())) return `encoding ${encoding}`;
  for (const [key, value] of Object.entries(parseOptions)) {
    if (value === undefined) continue;
    if (!HONOURED.has(key)) return `option ${key}`;
  }
  const { delimiter, quote, escape } = parseOptions;
  if (delimiter !== undefined) {
    const d = Buffer.isBuffer(delimiter) ? delimiter.toString('latin1') : delimiter;
    if (typeof d !== 'string' || d.length !== 1 || d.charCodeAt(0) > 127 || d === '"' || d === '\n' || d === '\r')
      return `delimiter ${JSON.stringify(delimiter)}`;
  }
  if (quote !== undefined && quote !== '"') return `quote ${JSON.stringify(quote)}`;
  if (escape !== undefined && escape !== '"') return `escape ${JSON.stringify(escape)}`;
  const comment = parseOptions.comment;
  if (comment !== undefined && comment !== '') {
    if (typeof comment !== 'string' || comment.length !== 1 || comment.charCodeAt(0) > 127)
      return `comment ${JSON.stringify(comment)}`;
    // csv-parse's relaxing keeps a closing quote's trailing text up to a comment: its own rules
    const relax = parseOptions.relax_quotes ?? parseOptions.relaxQuotes;
    if (inlineComments(parseOptions) && relax === true) return 'option comment with relax_quotes';
  }
  return undefined;
}

/** Whether a comment may follow a value (`1,2 # note`), as DuckDB's `comment`: unless `comment_no_infix`. */
function inlineComments(parseOptions: Readonly<Record<string, unknown>>): boolean {
  return (parseOptions.comment_no_infix ?? parseOptions.commentNoInfix) !== true;
}

/** The fast path's quote relaxing and comments (after {@link fastPathBlocker} said yes). */
export function quoteAndComment(parseOptions: Readonly<Record<string, unknown>>): {
  relaxQuotes: boolean | 'opening';
  comment: number | undefined;
  inlineComments: boolean;
} {
  const comment = parseOptions.comment;
  const relax = parseOptions.relax_quotes ?? parseOptions.relaxQuotes;
  return {
    // unset: DuckDB's reading, a quote inside an unquoted field is text, text after a closing quote is an error
    relaxQuotes: relax === undefined ? 'opening' : relax === true,
    comment: typeof comment === 'string' && comment.length === 1 ? comment.charCodeAt(0) : undefined,
    inlineComments: inlineComments(parseOptions),
  };
}

/** The delimiter byte for the fast path (after {@link fastPathBlocker} said yes). */
export function delimiterByte(parseOptions: Readonly<Record<string, unknown>>): number {
  const d = parseOptions.delimiter;
  if (d === undefined) return 44;
  return Buffer.isBuffer(d) ? d[0]! : (d as string).charCodeAt(0);
}

/** Batches from a byte stream; `batchSize()` is asked again after each batch is taken. */
export async function* fastCsvBatches(
  bytes: AsyncIterable<Uint8Array>,
  options: FastCsvOptions,
  batchSize: () => number,
): AsyncGenerator<FastCsvBatch> {
  // the scanner (and the Arrow column builders) load at the first read, not with `import 'spillway'`
  const { FastCsvReader } = await import('./reader.ts');
  const reader = new FastCsvReader(options);
  reader.batchSize = batchSize();
  for await (const chunk of bytes) {
    reader.push(chunk);
    for (let next = reader.ready.shift(); next; next = reader.ready.shift()) {
      yield next;
      reader.batchSize = batchSize();
    }
  }
  reader.end();
  for (let next = reader.ready.shift(); next; next = reader.ready.shift()) yield next;
}

/**
 * csv-parse's messages say `on line N` / `at line N` counted from where it started reading; a run
 * resumed from a checkpoint starts mid-file, `lineBase` lines in: the message gets the file's lines.
 */
export function absoluteLines(message: string, lineBase: number): string {
  return lineBase === 0
    ? message
    : message.replace(/\b(on|at) line (\d+)/g, (_m, word: string, n: string) => `${word} line ${Number(n) + lineBase}`);
}

/** Wraps an error of the fast path as fromCsv wraps csv-parse's: CsvParseError with the line, IoError for I/O. */
export function wrapFastError(
  error: unknown,
  where: { stage: string; file: string; lineBase: number; batch: number; byteOffset?: number },
): unknown {
  if (error instanceof CsvParseError || error instanceof IoError || !(error instanceof Error)) return error;
  const e = error as Error & { code?: unknown; lines?: number; errno?: unknown };
  if (typeof e.code === 'string' && (e.code.startsWith('CSV_') || e.code === 'INVALID_OPENING_QUOTE')) {
    return new CsvParseError(
      `${e.code}: ${absoluteLines(e.message, where.lineBase)}`,
      {
        stage: where.stage,
        file: where.file,
        line: e.lines === undefined ? undefined : where.lineBase + e.lines,
        batch: where.batch,
      },
      undefined,
      { cause: error },
    );
  }
  if (typeof e.errno === 'number' || e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || isStreamFailure(error)) {
    return new IoError(
      `Cannot read ${where.file}: ${error.message}`,
      { stage: where.stage, file: where.file, byteOffset: where.byteOffset },
      { cause: error },
    );
  }
  if (error instanceof UnsupportedError && error.context.file === undefined) {
    return new UnsupportedError(
      error.message.replace(/ \(\)$/, ''),
      { stage: where.stage, file: where.file },
      { cause: error },
    );
  }
  return error;
}

/**
 * An error of the input stream itself: a premature close (a stream destroyed mid-read), or a
 * plain Error (a caller's stream failing, `new Error('network reset')`), not csv-parse's nor a
 * TypeError of code. They reached the caller raw, with no code and no file.
 */
export function isStreamFailure(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || error.constructor === Error;
}

/** Readable is accepted wherever a byte iterable is. */
export type ByteSource = Readable | AsyncIterable<Uint8Array>;
