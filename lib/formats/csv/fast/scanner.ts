/**
 * A byte-level CSV scanner with csv-parse's semantics for the options the fast path accepts
 * (single-byte delimiter, `"` as quote and escape, record delimiter discovered from the first
 * unquoted CR/LF, `relax_quotes`, comments as DuckDB reads them, no trimming). It never makes strings: each
 * record is handed over as field byte ranges into the current window, with csv-parse's line
 * number (which counts every CR and LF byte it visits) and the byte offset after the record.
 *
 * Well-formed records take a tight loop; a record with anything irregular (a quote inside an
 * unquoted field, a stray byte after a closing quote, an unclosed quote) is scanned again by
 * {@link CsvParseEmulation} (emulate.ts), a byte-for-byte port of csv-parse's state machine.
 */
import { refuseUtf16 } from './encoding.ts';
import { FieldList } from './fields.ts';
import { CsvParseEmulation, type EmulationHost } from './emulate.ts';
import {
  blankBeforeComment,
  COMMENT_AFTER_BLANK,
  commentAfterQuote,
  commentEnd,
  onlySpaces,
  skipCommentLine,
} from './comments.ts';
import { maxRecordBytes, recordTooLarge } from './limits.ts';
import { CR, LF, QUOTE, SPACE, RecordDelimiter, isNewline } from './record-delimiter.ts';
import {
  FIELD_ESCAPED,
  FIELD_OVERRIDE,
  FIELD_PLAIN,
  type ScanFault,
  type ScannedRecord,
  type ScanSink,
} from './scan-types.ts';

export { FIELD_ESCAPED, FIELD_OVERRIDE, FIELD_PLAIN, type ScanFault, type ScanSink } from './scan-types.ts';

/** Options of {@link CsvScanner}. */
export interface ScannerOptions {
  /** The delimiter byte. */
  delimiter: number;
  /** true: the first fault throws (csv-parse without skip_records_with_error). */
  fail: boolean;
  /** Strip a UTF-8 byte order mark. */
  bom: boolean;
  /**
   * After an invalid closing quote (skip mode), drop the rest of that line and go on with the
   * next, where csv-parse stays inside the quotes and swallows the records that follow.
   */
  recover?: boolean;
  /**
   * csv-parse's `relax_quotes`: stray quotes are text (`ab"c`, and `"ab"c` after a closing
   * quote). `'opening'`: only quotes inside unquoted fields, as DuckDB reads them; text after a
   * closing quote stays an error. Default false.
   */
  relaxQuotes?: boolean | 'opening';
  /** A comment byte: a line whose first byte after spaces is this one is skipped (as DuckDB). */
  comment?: number;
  /** The comment byte also ends a record, as DuckDB's `comment` (see comments.ts); false (default): whole lines only. */
  inlineComments?: boolean;
}

/** Scans CSV bytes pushed chunk by chunk; see the module comment. */
export class CsvScanner extends FieldList implements ScannedRecord, EmulationHost {
  window: Buffer = Buffer.alloc(0);
  windowBase = 0;
  recordStart = 0;
  overrides: Map<number, Uint8Array> | undefined;
  hasError = false;
  recovered = false;
  line = 1;
  rawEnd = 0;
  endByte = 0;
  readonly delimiter: number;
  readonly fail: boolean;
  readonly recover: boolean;
  readonly relaxQuotes: boolean | 'opening';
  readonly rd = new RecordDelimiter();
  readonly #comment: number;
  readonly #inline: boolean;
  readonly #sink: ScanSink;
  readonly #stop: Uint8Array;
  /** The highest byte in #stop: a byte above it needs no table look-up (most text is above `,`). */
  readonly #stopMax: number;
  /** Most bytes an unfinished record may hold (limits.ts; lowered only by tests). */
  readonly #maxRecord: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Size of the unfinished record the last scan stopped in: rescanning waits for twice as much. */
  #waitFor = 0;
  #bomChecked: boolean;
  #encodingChecked = false;
  #done = false;
  /** The last quoted field's result (see #quoted). */
  #qAt = 0;
  #qRd = 0;
  #qNewlines = 0;
  readonly #end = { at: 0, rdLength: 0, newlines: 0 };

  /** @param sink receives records and faults */
  constructor(options: ScannerOptions, sink: ScanSink) {
    super();
    this.delimiter = options.delimiter;
    this.fail = options.fail;
    this.recover = options.recover ?? false;
    this.relaxQuotes = options.relaxQuotes ?? false;
    this.#comment = options.comment ?? -1;
    this.#inline = this.#comment >= 0 && options.inlineComments === true;
    this.#sink = sink;
    this.#maxRecord = maxRecordBytes();
    this.#bomChecked = !options.bom;
    this.#stop = new Uint8Array(256);
    for (const b of [this.delimiter, LF, CR, QUOTE]) this.#stop[b] = 1;
    if (this.#inline) this.#stop[this.#comment] = 1;
    this.#stopMax = this.#stop.lastIndexOf(1);
  }

  /**
   * Scans a chunk; complete records go to the sink, an unfinished one waits for more bytes. The
   * chunk is only lent: its memory may be refilled once this returns (lib/io/file-chunks.ts), so
   * whatever waits here (the unfinished record, or a chunk held while a long record builds up)
   * is a copy.
   */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#pendingBytes += chunk.byteLength;
    if (this.#pendingBytes < this.#waitFor) {
      this.#pending.push(Buffer.from(view));
      return;
    }
    this.#pending.push(view);
    this.#scan(false);
  }

  /** Ends the input: scans what is left, including a last record without a delimiter. */
  end(): void {
    if (this.#done) return;
    this.#scan(true);
    this.#done = true;
  }

  #scan(final: boolean): void {
    const parts = this.#pending;
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    let buf: Buffer;
    let from = 0;
    if (parts.length === 2 && this.#bomChecked && this.#encodingChecked && parts[1]!.length >= CSV_SEAM.minChunk) {
      const seam = this.#seam(parts[0]!, parts[1]!);
      if (typeof seam === 'number') {
        buf = parts[1]!;
        from = seam;
      } else buf = Buffer.concat([seam, parts[1]!]);
    } else buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
    this.#checkEncoding(buf, final);
    if (!this.#bomChecked) {
      if (buf.length < 3 && !final) return this.#keep(buf, 0);
      this.#bomChecked = true;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        buf = buf.subarray(3);
        this.windowBase += 3;
      }
    }
    this.window = buf;
    const len = buf.length;
    let p = from;
    while (p < len || final) {
      const next = this.#record(buf, p, len, final);
      if (next < 0) break;
      p = next;
      if (p >= len && final) break;
    }
    if (!final) this.#keep(buf, p);
  }

  /**
   * Scans the records that start in `rest` (the unfinished record the last chunk ended with) on
   * a copy of `rest` and the head of `chunk`, so that the chunk itself is then scanned in place:
   * joining the two whole copied every chunk once more (a third of the bytes this reader
   * allocated, and so of the collections V8 ran for them). Returns where in `chunk` the next record
   * starts, or, when a record runs on past half the chunk, what is left of `rest` for the caller to
   * join with the chunk as before. Never final: a record the head cannot finish is scanned again
   * with more bytes, as across any chunk boundary.
   */
  #seam(rest: Buffer, chunk: Buffer): number | Buffer {
    let take = Math.max(CSV_SEAM.bytes, 2 * rest.length);
    while (take <= chunk.length / 2) {
      const buf = Buffer.concat([rest, chunk.subarray(0, take)]);
      this.window = buf;
      let p = 0;
      while (p < rest.length) {
        const next = this.#record(buf, p, buf.length, false);
        if (next < 0) break;
        p = next;
      }
      if (p >= rest.length) {
        this.windowBase += rest.length;
        return p - rest.length;
      }
      // the records before p are out; the one at p needs more of the chunk
      this.windowBase += p;
      rest = rest.subarray(p);
      take *= 4;
    }
    return rest;
  }

  /** A UTF-16 byte order mark: this scanner reads UTF-8 and would return garbage. */
  #checkEncoding(buf: Buffer, final: boolean): void {
    if (this.#encodingChecked || (buf.length < 2 && !final)) return;
    this.#encodingChecked = true;
    refuseUtf16(buf);
  }

  #keep(buf: Buffer, from: number): void {
    const rest = buf.subarray(from);
    // an unfinished record past the bound is refused before it grows further
    if (rest.length > this.#maxRecord) throw recordTooLarge(this.lineStart, this.#maxRecord);
    this.windowBase += from;
    this.#waitFor = Math.min(rest.length * 2, this.#maxRecord + 1);
    if (rest.length > 0) {
      this.#pending.push(Buffer.from(rest));
      this.#pendingBytes = rest.length;
    }
  }

  /**
   * Hands over a record ending with a delimiter at `at` of length `rdLength`, or at the end of
   * input (rdLength 0); with `fault`, as a bad record (reported first, then dropped).
   */
  #finish(start: number, at: number, rdLength: number, line: number, fault?: string): number {
    this.recordStart = start;
    this.hasError = false;
    this.line = line;
    this.rawEnd = rdLength > 0 ? at + 1 : at;
    this.endByte = this.windowBase + at + rdLength;
    this.lineStart = line + 1;
    if (fault !== undefined) {
      this.#sink.faults(this, [{ code: COMMENT_AFTER_BLANK, message: fault, line, rawEnd: this.rawEnd }]);
      this.hasError = true;
      this.recovered = true; // dropped whatever its length: one error for it, not two
    }
    this.#sink.record(this);
    return at + rdLength;
  }

  /**
   * A record whose last field ended at a comment byte at `at`: it ends at the line's record
   * delimiter (or the end of input). `blank`: that field was only spaces (see {@link blankBeforeComment}).
   */
  #commentRecord(
    buf: Buffer,
    start: number,
    at: number,
    len: number,
    final: boolean,
    line: number,
    blank: boolean,
  ): number {
    const end = this.#end;
    if (!commentEnd(buf, at, len, final, this.rd, end)) return -1;
    const fault = blank ? blankBeforeComment(line) : undefined;
    line += end.newlines;
    if (end.rdLength > 0) return this.#finish(start, end.at, end.rdLength, line, fault);
    return this.#finish(start, len, 0, line - (isNewline(buf[len - 1]) ? 1 : 0), fault);
  }

  /** Scans one record from `start`; returns where the next begins, or -1 when more bytes are needed. */
  #record(buf: Buffer, start: number, len: number, final: boolean): number {
    if (this.#comment >= 0) {
      const next = skipCommentLine(buf, start, len, final, this.#comment, this.rd, this.#end);
      if (next !== start) {
        if (next >= 0) this.lineStart += this.#end.newlines + (this.#end.rdLength > 0 ? 1 : 0);
        return next;
      }
    }
    const D = this.delimiter;
    const line0 = this.lineStart;
    let p = start;
    let nl = 0;
    this.fieldCount = 0;
    this.overrides = undefined;
    this.recovered = false;
    for (;;) {
      // at the start of a field
      if (p >= len) {
        if (!final) return -1;
        if (p === start) return len; // nothing after the last record delimiter
        this.addField(p, p, FIELD_PLAIN);
        return this.#finish(start, len, 0, line0 + nl - (isNewline(buf[len - 1]) ? 1 : 0));
      }
      if (buf[p] === QUOTE) {
        const kind = this.#quoted(buf, start, p, len, final);
        if (kind === DONE) return this.#qAt;
        nl += this.#qNewlines;
        if (kind === RECORD_END) return this.#finish(start, this.#qAt, this.#qRd, line0 + nl);
        if (kind === COMMENT) return this.#commentRecord(buf, start, this.#qAt, len, final, line0 + nl, false);
        p = this.#qAt;
        continue;
      }
      const s = p;
      for (;;) {
        p = this.#plainEnd(buf, p, len);
        if (p >= len) {
          if (!final) return -1;
          this.addField(s, len, FIELD_PLAIN);
          return this.#finish(start, len, 0, line0 + nl - (isNewline(buf[len - 1]) ? 1 : 0));
        }
        const c = buf[p]!;
        if (c === D) {
          this.addField(s, p, FIELD_PLAIN);
          p++;
          break;
        }
        if (c === QUOTE) {
          if (!this.relaxQuotes) return this.emulate(buf, start, len, final);
          p++; // a stray quote is text (relax_quotes)
          continue;
        }
        if (c === this.#comment) {
          this.addField(s, p, FIELD_PLAIN);
          const blank = this.fieldCount > 1 && p > s && onlySpaces(buf, s, p);
          return this.#commentRecord(buf, start, p, len, final, line0 + nl, blank);
        }
        const l = this.rd.at(buf, p, len, final);
        if (l < 0) return -1;
        if (l > 0) {
          this.addField(s, p, FIELD_PLAIN);
          return this.#finish(start, p, l, line0 + nl);
        }
        nl++;
        p++;
      }
    }
  }

  /** Where the plain run from `p` ends: at a delimiter, quote, CR, LF or the end of the window. */
  #plainEnd(buf: Buffer, p: number, len: number): number {
    const stop = this.#stop;
    const max = this.#stopMax;
    for (; p < len; p++) {
      const c = buf[p]!;
      if (c <= max && stop[c] !== 0) break;
    }
    return p;
  }

  /**
   * A quoted field from its opening quote at `p` (in the record at `start`): DONE (#qAt is the scan's answer: -1 or where
   * the emulation stopped), FIELD_END (#qAt is the next field's start), RECORD_END (#qAt and
   * #qRd: where the record delimiter is and its length) or COMMENT (#qAt: the comment byte after
   * the closing quote). Results in fields: no object per field.
   */
  #quoted(buf: Buffer, start: number, p: number, len: number, final: boolean): number {
    let q = p + 1;
    let flag = FIELD_PLAIN;
    let newlines = 0;
    for (;;) {
      if (q >= len) return this.#result(DONE, final ? this.emulate(buf, start, len, final) : -1, 0, 0);
      const c = buf[q]!;
      if (c !== QUOTE) {
        if (c === LF || c === CR) newlines++;
        q++;
        continue;
      }
      // lookahead: an escaped quote, or what follows a closing quote (csv-parse waits for 3 bytes)
      if (q + 3 > len && !final) return this.#result(DONE, -1, 0, 0);
      if (q + 1 >= len) {
        this.addField(p + 1, q, flag);
        return this.#result(RECORD_END, len, 0, newlines);
      }
      const n = buf[q + 1]!;
      if (n === QUOTE) {
        flag = FIELD_ESCAPED;
        q += 2;
        continue;
      }
      if (n === this.delimiter) {
        this.addField(p + 1, q, flag);
        return this.#result(FIELD_END, q + 2, 0, newlines);
      }
      const l = n === LF || n === CR ? this.rd.at(buf, q + 1, len, final) : 0;
      if (l < 0) return this.#result(DONE, -1, 0, 0);
      if (l > 0) {
        this.addField(p + 1, q, flag);
        return this.#result(RECORD_END, q + 1, l, newlines);
      }
      if (this.#inline && (n === this.#comment || n === SPACE)) {
        // DuckDB: spaces, then a comment, may follow a closing quote
        const e = commentAfterQuote(buf, q + 1, len, final, this.#comment);
        if (e === -1) return this.#result(DONE, -1, 0, 0);
        if (e >= 0) {
          this.addField(p + 1, q, flag);
          return this.#result(COMMENT, e, 0, newlines);
        }
      }
      return this.#result(DONE, this.emulate(buf, start, len, final), 0, 0);
    }
  }

  #result(kind: number, at: number, rdLength: number, newlines: number): number {
    this.#qAt = at;
    this.#qRd = rdLength;
    this.#qNewlines = newlines;
    return kind;
  }

  /** Scans the record at `start` with csv-parse's state machine (see emulate.ts). */
  emulate(buf: Buffer, start: number, len: number, final: boolean): number {
    this.recordStart = start;
    return new CsvParseEmulation(this, buf, start, len, final).run();
  }

  /** {@link EmulationHost.faults} */
  faults(start: number, faults: ScanFault[]): void {
    this.recordStart = start;
    this.#sink.faults(this, faults);
  }

  /** {@link EmulationHost.commit} */
  commit(
    record: Uint8Array[],
    start: number,
    at: number,
    rdLength: number,
    state: { faults: ScanFault[]; hasError: boolean; lines: number; recovered: boolean },
  ): number {
    this.fieldCount = 0;
    this.overrides = new Map();
    for (let i = 0; i < record.length; i++) {
      this.overrides.set(i, record[i]!);
      this.addField(0, 0, FIELD_OVERRIDE);
    }
    this.recordStart = start;
    this.recovered = state.recovered;
    if (state.faults.length > 0) this.#sink.faults(this, state.faults);
    this.hasError = state.hasError;
    this.line = state.lines;
    this.rawEnd = rdLength > 0 ? at + 1 : at;
    this.endByte = this.windowBase + at + rdLength;
    this.lineStart = state.lines + (rdLength > 0 ? 1 : 0);
    this.#sink.record(this);
    return at + rdLength;
  }
}

/**
 * The seam between chunks (see CsvScanner's #seam): `bytes` of a chunk are first joined to the
 * unfinished record before it; a chunk smaller than `minChunk` is joined whole (the seam would
 * save little). Mutable only so that tests can run the seam on small inputs.
 */
export const CSV_SEAM = { bytes: 4096, minChunk: 16_384 };

/** How a quoted field ended (see CsvScanner's #quoted). */
const DONE = 0;
const FIELD_END = 1;
const RECORD_END = 2;
const COMMENT = 3;
