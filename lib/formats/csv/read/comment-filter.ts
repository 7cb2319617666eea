/**
 * Comments on the csv-parse path, as DuckDB's `comment` reads them (and as the fast path does,
 * fast/comments.ts). csv-parse differs in three places, each fixed here by rewriting bytes in
 * place, so csv-parse's byte offsets and line numbers stay the file's:
 *
 * - an indented comment line (`  # note`) is a record of spaces to csv-parse: the spaces become
 *   comment characters, and csv-parse skips the line;
 * - spaces between a closing quote and a comment (`"y" # note`) make csv-parse's relaxing keep
 *   `"y" ` as text: they become comment characters, and the quote closes;
 * - a comment after a field of only spaces that is not the first (`1,  # note`), a record DuckDB
 *   drops without a word: it is reported as a bad record (thrown, or given to `onBad`) and its
 *   bytes become a comment line.
 *
 * The filter follows csv-parse's quoting (a quote opens a field only at its start; an escape
 * character) and its record delimiter (the first unquoted CR, LF or CRLF), record by record.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError } from 'csv-parse';
import { COMMENT_AFTER_BLANK, blankBeforeComment, onlySpaces } from '../fast/comments.ts';
import { CR, LF, RecordDelimiter } from '../fast/record-delimiter.ts';

/** The dialect the filter follows (single-byte quote, escape and comment). */
export interface CommentDialect {
  comment: number;
  /** -1: no quoting. */
  quote: number;
  escape: number;
  delimiter: Buffer;
  /** A comment may follow a value (not `comment_no_infix`). */
  inline: boolean;
  /** csv-parse's `relax_quotes`: a quote inside an unquoted field is text, not an error. */
  relaxQuotes: boolean;
}

/**
 * What to do with a refused record: report it (skip mode), or `'stop'` (fail mode): the bytes
 * before it go on, then the filter's output ends and its `refusal` holds the error, for the reader
 * to raise once csv-parse has read those bytes (so an earlier record's own error comes first).
 */
export type BadRecord = ((error: Error, line: number, raw: string) => void) | 'stop';

/** The filter: a Transform with the refusal that ended it in `'stop'` mode. */
export type CommentFilter = Transform & { refusal?: Error };

/**
 * The dialect for csv-parse options, or undefined when the filter does not apply (no comment, a
 * comment, quote or escape longer than one ASCII byte, an explicit record delimiter).
 */
export function commentDialect(options: Readonly<Record<string, unknown>>): CommentDialect | undefined {
  const byte = (v: unknown, fallback: number): number | undefined => {
    if (v === undefined) return fallback;
    const s = Buffer.isBuffer(v) ? v.toString('latin1') : v;
    return typeof s === 'string' && s.length === 1 && s.charCodeAt(0) < 128 ? s.charCodeAt(0) : undefined;
  };
  const comment = options.comment;
  if (comment === undefined || comment === '' || comment === null || comment === false) return undefined;
  if ((options.record_delimiter ?? options.recordDelimiter) !== undefined) return undefined;
  const c = byte(comment, -1);
  const noQuote = options.quote === false || options.quote === null || options.quote === '';
  const quote = noQuote ? -1 : byte(options.quote, 34);
  const escape = byte(options.escape, quote ?? 34);
  const d = options.delimiter ?? ',';
  const delimiter = Buffer.isBuffer(d) ? d : typeof d === 'string' && d.length > 0 ? Buffer.from(d) : undefined;
  if (c === undefined || c < 0 || quote === undefined || escape === undefined || delimiter === undefined)
    return undefined;
  const inline = (options.comment_no_infix ?? options.commentNoInfix) !== true;
  const relaxQuotes = (options.relax_quotes ?? options.relaxQuotes) === true;
  return { comment: c, quote, escape, delimiter, inline, relaxQuotes };
}

/** The byte stream filter; see the module comment. */
export function commentFilter(dialect: CommentDialect, bad: BadRecord): CommentFilter {
  const scanner = new RecordScan(dialect);
  let stopped = false;
  let carry: Buffer | undefined;
  let utf16: boolean | undefined;
  let bom = true;
  const run = (chunk: Buffer, final: boolean, push: (b: Buffer | null) => void): void => {
    if (stopped) return;
    let buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    // the caller's chunk is copied before a rewrite, never changed
    let owned = carry !== undefined;
    carry = undefined;
    // csv-parse decodes a UTF-16 file by its byte order mark: this byte-wise filter stays out
    utf16 ??=
      buf.length >= 2 ? (buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff) : undefined;
    if (utf16 === true) return push(buf);
    // a UTF-8 byte order mark is not part of the first record (csv-parse drops it)
    let p = bom && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    if (buf.length >= 3 || final) bom = false;
    while (p < buf.length) {
      const end = scanner.record(buf, p, final);
      if (end < 0) break;
      if (scanner.rewrites && !owned) {
        buf = Buffer.from(buf);
        owned = true;
      }
      const refused = scanner.apply(buf);
      if (refused !== undefined) {
        const raw = buf.toString('utf8', p, end);
        const error = new CsvError(COMMENT_AFTER_BLANK as never, refused.message, {} as never, { lines: refused.line });
        if (bad === 'stop') {
          filter.refusal = error;
          stopped = true;
          if (p > 0) push(buf.subarray(0, p));
          return push(null);
        }
        bad(error, refused.line, raw);
      }
      p = end;
    }
    if (p > 0) push(buf.subarray(0, p));
    if (p < buf.length) carry = buf.subarray(p);
  };
  const filter: CommentFilter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        run(chunk, false, (b) => this.push(b));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        run(Buffer.alloc(0), true, (b) => this.push(b));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  return filter;
}

/** One record at a time: where it ends and what to rewrite in it. */
class RecordScan {
  readonly #d: CommentDialect;
  readonly #rd = new RecordDelimiter();
  /** Byte ranges to turn into comment characters. */
  #rewrites: number[] = [];
  #refuse: { from: number; to: number } | undefined;
  #recordLine = 0;
  nextLine = 1;

  constructor(dialect: CommentDialect) {
    this.#d = dialect;
  }

  /** Scans the record at `start`: where the next begins, or -1 when more bytes are needed. */
  record(buf: Buffer, start: number, final: boolean): number {
    const { comment, quote, escape, delimiter, inline, relaxQuotes } = this.#d;
    const len = buf.length;
    this.#rewrites = [];
    this.#refuse = undefined;
    let lines = 0;
    let field = start;
    let fieldIndex = 0;
    let quoted = false;
    let inQuotes = false;
    let closedAt = -1;
    // a quote that opens no field: csv-parse refuses the record there (unless relaxed), as the
    // fast path does, so a later comment fault in the record is not the one to report
    let strayQuote = false;
    for (let p = start; ; p++) {
      if (p >= len) {
        if (!final) return -1;
        return this.#end(len, lines, 0);
      }
      const c = buf[p]!;
      if (inQuotes) {
        if (c === escape && escape !== quote && p + 1 < len) p++;
        else if (c === quote && escape === quote && buf[p + 1] === quote) p++;
        else if (c === quote) {
          inQuotes = false;
          closedAt = p;
        } else if (c === LF || c === CR) lines++;
        if (p + 1 >= len && !final) return -1;
        continue;
      }
      if (c === LF || c === CR) {
        const l = this.#rd.at(buf, p, len, final);
        if (l < 0) return -1;
        if (l > 0) return this.#end(p, lines, l);
        lines++;
        continue;
      }
      if (c === comment && (inline || (fieldIndex === 0 && onlySpaces(buf, start, p) && !quoted))) {
        if (fieldIndex === 0 && !quoted && onlySpaces(buf, start, p)) this.#rewrites.push(start, p);
        else if (closedAt >= 0 && onlySpaces(buf, closedAt + 1, p)) this.#rewrites.push(closedAt + 1, p);
        else if (!quoted && fieldIndex > 0 && p > field && onlySpaces(buf, field, p) && (relaxQuotes || !strayQuote))
          this.#refuse = { from: start, to: p };
        return this.#skipLine(buf, p, len, final, lines);
      }
      if (c === quote) {
        if (p === field && !quoted) {
          quoted = true;
          inQuotes = true;
          continue;
        }
        strayQuote = true;
      }
      if (c === delimiter[0] && buf.subarray(p, p + delimiter.length).equals(delimiter)) {
        p += delimiter.length - 1;
        field = p + 1;
        fieldIndex++;
        quoted = false;
        closedAt = -1;
      }
    }
  }

  /** From a comment at `at`: the record ends at the line's end. */
  #skipLine(buf: Buffer, at: number, len: number, final: boolean, lines: number): number {
    for (let e = at + 1; ; e++) {
      if (e >= len) return final ? this.#end(len, lines, 0) : -1;
      const c = buf[e];
      if (c !== LF && c !== CR) continue;
      const l = this.#rd.at(buf, e, len, final);
      if (l < 0) return -1;
      if (l > 0) return this.#end(e, lines, l);
      lines++;
    }
  }

  /** The record ends at `at` with a record delimiter of `rdLength` bytes (0: the end of input). */
  #end(at: number, lines: number, rdLength: number): number {
    this.#recordLine = this.nextLine + lines;
    this.nextLine = this.#recordLine + (rdLength > 0 ? 1 : 0);
    return at + rdLength;
  }

  /** True when the record just scanned has bytes to rewrite. */
  get rewrites(): boolean {
    return this.#rewrites.length > 0 || this.#refuse !== undefined;
  }

  /** Rewrites the record just scanned; the refusal to report, if any. */
  apply(buf: Buffer): { message: string; line: number } | undefined {
    const comment = this.#d.comment;
    const r = this.#rewrites;
    for (let k = 0; k < r.length; k += 2) buf.fill(comment, r[k]!, r[k + 1]!);
    if (this.#refuse === undefined) return undefined;
    buf.fill(comment, this.#refuse.from, this.#refuse.to);
    return { message: blankBeforeComment(this.#recordLine), line: this.#recordLine };
  }
}
