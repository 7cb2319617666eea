/**
 * A byte-level CSV scanner with csv-parse's semantics for the options the fast path accepts
 * (single-byte delimiter, `"` as quote and escape, record delimiter discovered from the first
 * unquoted CR/LF, no trimming, comments or relaxing). It never makes strings: each record is
 * handed over as field byte ranges into the current window, with csv-parse's line number (which
 * counts every CR and LF byte it visits) and the byte offset after the record.
 *
 * Well-formed records take a tight loop; a record with anything irregular (a quote inside an
 * unquoted field, a stray byte after a closing quote, an unclosed quote) is scanned again by
 * {@link CsvScanner.emulate}, a byte-for-byte port of csv-parse's state machine, so errors, their
 * lines and what csv-parse does after them in skip mode are the same.
 */
import { UnsupportedError } from '../../../core/errors.ts';
import { MAX_CSV_FIELDS, tooManyFields } from './limits.ts';

const LF = 10;
const CR = 13;
const QUOTE = 34;

/** Record delimiter: not yet discovered, `\n`, `\r`, `\r\n`. */
const RD_UNKNOWN = 0;
const RD_LF = 1;
const RD_CR = 2;
const RD_CRLF = 3;

/** Field flags. */
export const FIELD_PLAIN = 0;
/** A quoted field holding `""` escapes: decode, then replace `""` with `"`. */
export const FIELD_ESCAPED = 1;
/** A field whose bytes are in {@link CsvScanner.overrides} (only after irregular quoting). */
export const FIELD_OVERRIDE = 2;

/** An error csv-parse would raise inside a record. */
export interface ScanFault {
  /** csv-parse's code, e.g. `INVALID_OPENING_QUOTE`, `CSV_QUOTE_NOT_CLOSED`. */
  code: string;
  message: string;
  /** csv-parse's `info.lines` when it raised the error. */
  line: number;
  /** Where the raw text of the record ends at that moment (exclusive), in the window. */
  rawEnd: number;
}

/** Receives what the scanner finds. The scanner's public fields describe the current record. */
export interface ScanSink {
  /** A complete record: see {@link CsvScanner} fields `window`, `recordStart`, `fields`, ... */
  record(scanner: CsvScanner): void;
  /** Errors of a record (in order), given before its record() or at the end of input. */
  faults(scanner: CsvScanner, faults: ScanFault[]): void;
}

/** Scans CSV bytes pushed chunk by chunk; see the module comment. */
export class CsvScanner {
  /** The bytes the current record lies in. */
  window: Buffer = Buffer.alloc(0);
  /** Absolute byte offset of `window[0]` in the input. */
  windowBase = 0;
  /** Start of the current record in `window`. */
  recordStart = 0;
  /** Fields of the current record: starts, ends, flags (see FIELD_*). */
  fieldStarts = new Int32Array(64);
  fieldEnds = new Int32Array(64);
  fieldFlags = new Uint8Array(64);
  /** Number of fields of the current record. */
  fieldCount = 0;
  /** Bytes of FIELD_OVERRIDE fields, by field index. */
  overrides: Map<number, Uint8Array> | undefined;
  /** True when csv-parse would mark the current record as erroneous (it is then dropped). */
  hasError = false;
  /** True when the current record was cut at its line's end after a broken quote (`recover`). */
  recovered = false;
  /** csv-parse's `info.lines` at the end of the current record. */
  line = 1;
  /** Where the raw text of the current record ends (exclusive) in `window`. */
  rawEnd = 0;
  /** Absolute byte offset just after the current record (its delimiter included). */
  endByte = 0;

  readonly #delimiter: number;
  readonly #fail: boolean;
  readonly #recover: boolean;
  readonly #sink: ScanSink;
  readonly #stop: Uint8Array;
  #rd = RD_UNKNOWN;
  /** csv-parse's line at the start of the next record. */
  #lineStart = 1;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Size of the unfinished record the last scan stopped in: rescanning waits for twice as much. */
  #waitFor = 0;
  #bomChecked: boolean;
  #encodingChecked = false;
  #done = false;

  /**
   * @param delimiter the delimiter byte
   * @param fail true: the first fault throws (csv-parse without skip_records_with_error)
   * @param sink receives records and faults
   * @param bom strip a UTF-8 byte order mark
   * @param recover after an invalid closing quote (skip mode), drop the rest of that line and go
   *   on with the next, where csv-parse stays inside the quotes and swallows the records that follow
   */
  constructor(delimiter: number, fail: boolean, sink: ScanSink, bom: boolean, recover = false) {
    this.#delimiter = delimiter;
    this.#fail = fail;
    this.#recover = recover;
    this.#sink = sink;
    this.#bomChecked = !bom;
    this.#stop = new Uint8Array(256);
    this.#stop[delimiter] = 1;
    this.#stop[LF] = 1;
    this.#stop[CR] = 1;
    this.#stop[QUOTE] = 1;
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
    if (!this.#encodingChecked && (buf.length >= 2 || final)) {
      this.#encodingChecked = true;
      // a UTF-16 byte order mark: this scanner reads UTF-8 and would return garbage
      if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
        throw new UnsupportedError("the input is UTF-16 (it starts with a UTF-16 byte order mark); the fast CSV path reads UTF-8: pass parser: 'csv-parse'", {});
      }
    }
    if (!this.#bomChecked) {
      if (buf.length < 3 && !final) {
        this.#keep(buf, 0);
        return;
      }
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
    if (final) return;
    this.#keep(buf, p);
  }

  #keep(buf: Buffer, from: number): void {
    const rest = buf.subarray(from);
    this.windowBase += from;
    this.#waitFor = rest.length * 2;
    if (rest.length > 0) {
      this.#pending.push(rest);
      this.#pendingBytes = rest.length;
    }
  }

  /** Length of the record delimiter at `i` (discovering it if unknown); -1 when more bytes are needed. */
  #rdAt(buf: Buffer, i: number, len: number, final: boolean): number {
    const c = buf[i];
    switch (this.#rd) {
      case RD_LF:
        return c === LF ? 1 : 0;
      case RD_CR:
        return c === CR ? 1 : 0;
      case RD_CRLF:
        if (c !== CR) return 0;
        if (i + 1 >= len) return final ? 0 : -1;
        return buf[i + 1] === LF ? 2 : 0;
      default:
        if (c === LF) {
          this.#rd = RD_LF;
          return 1;
        }
        if (c !== CR) return 0;
        if (i + 1 >= len) {
          if (!final) return -1;
          this.#rd = RD_CR;
          return 1;
        }
        this.#rd = buf[i + 1] === LF ? RD_CRLF : RD_CR;
        return this.#rd === RD_CRLF ? 2 : 1;
    }
  }

  #addField(start: number, end: number, flag: number): void {
    const n = this.fieldCount;
    if (n === this.fieldStarts.length) {
      if (n >= MAX_CSV_FIELDS) throw tooManyFields(this.#lineStart);
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(n * 2);
        b.set(a);
        return b;
      };
      this.fieldStarts = grow(this.fieldStarts, (k) => new Int32Array(k));
      this.fieldEnds = grow(this.fieldEnds, (k) => new Int32Array(k));
      this.fieldFlags = grow(this.fieldFlags, (k) => new Uint8Array(k));
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
    this.#lineStart = line + 1;
    this.#sink.record(this);
    return at + rdLength;
  }

  /** Scans one record from `start`; returns where the next begins, or -1 when more bytes are needed. */
  #record(buf: Buffer, start: number, len: number, final: boolean): number {
    const D = this.#delimiter;
    const stop = this.#stop;
    const line0 = this.#lineStart;
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
        this.#addField(p, p, FIELD_PLAIN);
        return this.#finish(start, len, 0, line0 + nl - (isNewline(buf[len - 1]) ? 1 : 0));
      }
      let c = buf[p]!;
      if (c === QUOTE) {
        let q = p + 1;
        let flag = FIELD_PLAIN;
        for (;;) {
          if (q >= len) return final ? this.emulate(buf, start, len, final) : -1;
          c = buf[q]!;
          if (c !== QUOTE) {
            if (c === LF || c === CR) nl++;
            q++;
            continue;
          }
          // lookahead: an escaped quote, or what follows a closing quote (csv-parse waits for 3 bytes)
          if (q + 3 > len && !final) return -1;
          if (q + 1 >= len) {
            this.#addField(p + 1, q, flag);
            return this.#finish(start, len, 0, line0 + nl);
          }
          const n = buf[q + 1]!;
          if (n === QUOTE) {
            flag = FIELD_ESCAPED;
            q += 2;
            continue;
          }
          if (n === D) {
            this.#addField(p + 1, q, flag);
            p = q + 2;
            break;
          }
          const l = n === LF || n === CR ? this.#rdAt(buf, q + 1, len, final) : 0;
          if (l < 0) return -1;
          if (l > 0) {
            this.#addField(p + 1, q, flag);
            return this.#finish(start, q + 1, l, line0 + nl);
          }
          return this.emulate(buf, start, len, final);
        }
        continue;
      }
      const s = p;
      for (;;) {
        while (p < len && stop[buf[p]!] === 0) p++;
        if (p >= len) {
          if (!final) return -1;
          this.#addField(s, len, FIELD_PLAIN);
          return this.#finish(start, len, 0, line0 + nl - (isNewline(buf[len - 1]) ? 1 : 0));
        }
        c = buf[p]!;
        if (c === D) {
          this.#addField(s, p, FIELD_PLAIN);
          p++;
          break;
        }
        if (c === QUOTE) return this.emulate(buf, start, len, final);
        const l = this.#rdAt(buf, p, len, final);
        if (l < 0) return -1;
        if (l > 0) {
          this.#addField(s, p, FIELD_PLAIN);
          return this.#finish(start, p, l, line0 + nl);
        }
        nl++;
        p++;
      }
    }
  }

  /** Where the line holding `from` ends: the record is finished there (-1: more bytes needed). */
  #skipLine: LineSkip = (buf, from, len, final, finish, newline) => {
    for (let e = from; ; e++) {
      if (e >= len) return final ? finish(len, 0) : -1;
      const c = buf[e]!;
      if (c !== LF && c !== CR) continue;
      const l = this.#rdAt(buf, e, len, final);
      if (l < 0) return -1;
      if (l > 0) return finish(e, l);
      newline();
    }
  };

  /**
   * Scans one record from `start` exactly as csv-parse's loop does (for our option subset),
   * faults included; returns where the next record begins, or -1 when more bytes are needed.
   */
  emulate(buf: Buffer, start: number, len: number, final: boolean): number {
    const D = this.#delimiter;
    this.recordStart = start;
    let lines = this.#lineStart;
    let wasRowDelimiter = false;
    let quoting = false;
    let wasQuoting = false;
    let escaping = false;
    let field: number[] = [];
    const record: Uint8Array[] = [];
    const faults: ScanFault[] = [];
    let hasError = false;
    const fault = (code: string, message: string, pos: number): void => {
      const f: ScanFault = { code, message, line: lines, rawEnd: pos + 1 };
      hasError = true;
      if (this.#fail) this.#sink.faults(this, [f]);
      faults.push(f);
    };
    const onField = (): void => {
      record.push(Uint8Array.from(field));
      field = [];
      wasQuoting = false;
    };
    const finish = (at: number, rdLength: number): number => {
      this.fieldCount = 0;
      this.overrides = new Map();
      for (let i = 0; i < record.length; i++) {
        this.overrides.set(i, record[i]!);
        this.#addField(0, 0, FIELD_OVERRIDE);
      }
      this.recordStart = start;
      if (faults.length > 0) this.#sink.faults(this, faults);
      this.hasError = hasError;
      this.line = lines;
      this.rawEnd = rdLength > 0 ? at + 1 : at;
      this.endByte = this.windowBase + at + rdLength;
      this.#lineStart = lines + (rdLength > 0 ? 1 : 0);
      this.#sink.record(this);
      return at + rdLength;
    };
    for (let pos = start; ; pos++) {
      if (pos >= len) {
        if (!final) return -1;
        if (quoting) {
          fault('CSV_QUOTE_NOT_CLOSED', `Quote Not Closed: the parsing is finished with an opening quote at line ${lines}`, len - 1);
          this.recordStart = start;
          this.#sink.faults(this, faults);
          return len;
        }
        if (wasQuoting || record.length > 0 || field.length > 0) {
          onField();
          return finish(len, 0);
        }
        return len;
      }
      if (!final) {
        const rdMax = this.#rd === RD_UNKNOWN ? 0 : this.#rd === RD_CRLF ? 2 : 1;
        const required = Math.max(1, this.#rd === RD_UNKNOWN ? 2 : rdMax, quoting ? 2 : 0, quoting ? 1 + rdMax : 0);
        if (len - pos - 1 < required) return -1;
      }
      if (wasRowDelimiter) {
        lines++;
        wasRowDelimiter = false;
      }
      if (!quoting && this.#rd === RD_UNKNOWN && (buf[pos] === LF || buf[pos] === CR)) this.#rdAt(buf, pos, len, final);
      const chr = buf[pos]!;
      if (chr === CR || chr === LF) wasRowDelimiter = true;
      if (escaping) {
        escaping = false;
      } else {
        if (quoting && chr === QUOTE && pos + 1 < len && buf[pos + 1] === QUOTE) {
          escaping = true;
          continue;
        }
        if (chr === QUOTE) {
          if (quoting) {
            const next = buf[pos + 1];
            const isDelimiter = next === D;
            const isRecordDelimiter = next === LF || next === CR ? this.#rdAt(buf, pos + 1, len, final) > 0 : false;
            if (!next || isDelimiter || isRecordDelimiter) {
              quoting = false;
              wasQuoting = true;
              continue;
            }
            fault(
              'CSV_INVALID_CLOSING_QUOTE',
              `Invalid Closing Quote: got "${String.fromCharCode(next)}" at line ${lines} instead of delimiter, record delimiter, trimable character (if activated) or comment`,
              pos,
            );
            if (this.#recover) {
              onField();
              const whole = (at: number, l: number): number => {
                // the dead letter holds the whole line; the record's length is not checked again
                for (const f of faults) f.rawEnd = l > 0 ? at + 1 : at;
                this.recovered = true;
                return finish(at, l);
              };
              return this.#skipLine(buf, pos + 1, len, final, whole, () => lines++);
            }
          } else if (field.length !== 0) {
            fault('INVALID_OPENING_QUOTE', `Invalid Opening Quote: a quote is found on field ${record.length} at line ${lines}, value is ${JSON.stringify(Buffer.from(field).toString('utf8'))}`, pos);
          } else {
            quoting = true;
            continue;
          }
        }
        if (!quoting) {
          const l = chr === LF || chr === CR ? this.#rdAt(buf, pos, len, final) : 0;
          if (l > 0) {
            onField();
            return finish(pos, l);
          }
          if (chr === D) {
            onField();
            continue;
          }
        }
      }
      field.push(chr);
    }
  }
}

/** Recovery after a broken quote (see the constructor): ends the record at the end of its physical line. */
interface LineSkip {
  (buf: Buffer, from: number, len: number, final: boolean, finish: (at: number, rdLength: number) => number, newline: () => void): number;
}

function isNewline(c: number | undefined): boolean {
  return c === LF || c === CR;
}
