/**
 * A byte-level CSV scanner with csv-parse's semantics for the options the fast path accepts
 * (single-byte delimiter, `"` as quote and escape, record delimiter discovered from the first
 * unquoted CR/LF, `relax_quotes`, whole-line comments, no trimming). It never makes strings: each
 * record is handed over as field byte ranges into the current window, with csv-parse's line
 * number (which counts every CR and LF byte it visits) and the byte offset after the record.
 *
 * Well-formed records take a tight loop; a record with anything irregular (a quote inside an
 * unquoted field, a stray byte after a closing quote, an unclosed quote) is scanned again by
 * {@link CsvParseEmulation} (emulate.ts), a byte-for-byte port of csv-parse's state machine.
 */
import { UnsupportedError } from '../../../core/errors.ts';
import { CsvParseEmulation, type EmulationHost } from './emulate.ts';
import { MAX_CSV_FIELDS, MAX_RECORD_BYTES, recordTooLarge, tooManyFields } from './limits.ts';
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
}

/** Scans CSV bytes pushed chunk by chunk; see the module comment. */
export class CsvScanner implements ScannedRecord, EmulationHost {
  window: Buffer = Buffer.alloc(0);
  windowBase = 0;
  recordStart = 0;
  fieldStarts = new Int32Array(64);
  fieldEnds = new Int32Array(64);
  fieldFlags = new Uint8Array(64);
  fieldCount = 0;
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
  /** csv-parse's line at the start of the next record. */
  lineStart = 1;
  readonly #comment: number;
  readonly #sink: ScanSink;
  readonly #stop: Uint8Array;
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

  /** @param sink receives records and faults */
  constructor(options: ScannerOptions, sink: ScanSink) {
    this.delimiter = options.delimiter;
    this.fail = options.fail;
    this.recover = options.recover ?? false;
    this.relaxQuotes = options.relaxQuotes ?? false;
    this.#comment = options.comment ?? -1;
    this.#sink = sink;
    this.#bomChecked = !options.bom;
    this.#stop = new Uint8Array(256);
    for (const b of [this.delimiter, LF, CR, QUOTE]) this.#stop[b] = 1;
  }

  /** Scans a chunk; complete records go to the sink, an unfinished one waits for more bytes. */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#pendingBytes += chunk.byteLength;
    if (this.#pendingBytes < this.#waitFor) return;
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
    let buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
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
    let p = 0;
    while (p < len || final) {
      const next = this.#record(buf, p, len, final);
      if (next < 0) break;
      p = next;
      if (p >= len && final) break;
    }
    if (!final) this.#keep(buf, p);
  }

  /** A UTF-16 byte order mark: this scanner reads UTF-8 and would return garbage. */
  #checkEncoding(buf: Buffer, final: boolean): void {
    if (this.#encodingChecked || (buf.length < 2 && !final)) return;
    this.#encodingChecked = true;
    if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
      throw new UnsupportedError(
        "the input is UTF-16 (it starts with a UTF-16 byte order mark); the fast CSV path reads UTF-8: pass parser: 'csv-parse'",
        {},
      );
    }
  }

  #keep(buf: Buffer, from: number): void {
    const rest = buf.subarray(from);
    // an unfinished record past the bound is refused before it grows further
    if (rest.length > MAX_RECORD_BYTES) throw recordTooLarge(this.lineStart);
    this.windowBase += from;
    this.#waitFor = Math.min(rest.length * 2, MAX_RECORD_BYTES + 1);
    if (rest.length > 0) {
      this.#pending.push(rest);
      this.#pendingBytes = rest.length;
    }
  }

  /** Appends a field to the current record (the emulation's records too). */
  addField(start: number, end: number, flag: number): void {
    const n = this.fieldCount;
    if (n === this.fieldStarts.length) {
      if (n >= MAX_CSV_FIELDS) throw tooManyFields(this.lineStart);
      this.fieldStarts = grown(this.fieldStarts, new Int32Array(n * 2));
      this.fieldEnds = grown(this.fieldEnds, new Int32Array(n * 2));
      this.fieldFlags = grown(this.fieldFlags, new Uint8Array(n * 2));
    }
    this.fieldStarts[n] = start;
    this.fieldEnds[n] = end;
    this.fieldFlags[n] = flag;
    this.fieldCount = n + 1;
  }

  /** Hands over a record ending with a delimiter at `at` of length `rdLength`, or at the end of input (rdLength 0). */
  #finish(start: number, at: number, rdLength: number, line: number): number {
    this.recordStart = start;
    this.hasError = false;
    this.line = line;
    this.rawEnd = rdLength > 0 ? at + 1 : at;
    this.endByte = this.windowBase + at + rdLength;
    this.lineStart = line + 1;
    this.#sink.record(this);
    return at + rdLength;
  }

  /** Scans one record from `start`; returns where the next begins, or -1 when more bytes are needed. */
  #record(buf: Buffer, start: number, len: number, final: boolean): number {
    if (this.#comment >= 0) {
      const skipped = this.#skipComment(buf, start, len, final);
      if (skipped !== start) return skipped;
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
    while (p < len && stop[buf[p]!] === 0) p++;
    return p;
  }

  /**
   * A quoted field from its opening quote at `p` (in the record at `start`): DONE (#qAt is the scan's answer: -1 or where
   * the emulation stopped), FIELD_END (#qAt is the next field's start) or RECORD_END (#qAt and
   * #qRd: where the record delimiter is and its length). Results in fields: no object per field.
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
      return this.#result(DONE, this.emulate(buf, start, len, final), 0, 0);
    }
  }

  #result(kind: number, at: number, rdLength: number, newlines: number): number {
    this.#qAt = at;
    this.#qRd = rdLength;
    this.#qNewlines = newlines;
    return kind;
  }

  /**
   * A comment line at `start` (spaces, then the comment byte): skipped to its end. Returns `start`
   * when the line is not a comment, the next record's start, or -1 when more bytes are needed.
   */
  #skipComment(buf: Buffer, start: number, len: number, final: boolean): number {
    let q = start;
    while (q < len && buf[q] === SPACE) q++;
    if (q >= len) return final ? start : -1;
    if (buf[q] !== this.#comment) return start;
    let newlines = 0;
    for (let e = q + 1; ; e++) {
      if (e >= len) {
        if (!final) return -1;
        this.lineStart += newlines;
        return len;
      }
      const c = buf[e]!;
      if (c !== LF && c !== CR) continue;
      const l = this.rd.at(buf, e, len, final);
      if (l < 0) return -1;
      newlines++;
      if (l > 0) {
        this.lineStart += newlines;
        return e + l;
      }
    }
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

/** How a quoted field ended (see CsvScanner's #quoted). */
const DONE = 0;
const FIELD_END = 1;
const RECORD_END = 2;

function grown<T extends Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
