/**
 * csv-parse's state machine, byte for byte, for the options the fast path accepts: the scanner
 * hands a record here when it holds anything irregular (a quote inside an unquoted field, a stray
 * byte after a closing quote, an unclosed quote), so errors, their lines, what is kept with
 * `relax_quotes` and what csv-parse does after an error in skip mode are the same.
 */
import { CR, LF, QUOTE, type RecordDelimiter } from './record-delimiter.ts';
import type { ScanFault } from './scan-types.ts';

/** What the emulation needs from the scanner. */
export interface EmulationHost {
  readonly delimiter: number;
  /** The first fault throws (the sink throws it). */
  readonly fail: boolean;
  /** After an invalid closing quote, end the record at the end of its line (skip mode). */
  readonly recover: boolean;
  /** csv-parse's `relax_quotes`: stray quotes are kept as text; `'opening'`: only quotes inside unquoted fields (DuckDB). */
  readonly relaxQuotes: boolean | 'opening';
  readonly rd: RecordDelimiter;
  /** csv-parse's line at the start of the record. */
  readonly lineStart: number;
  /** Reports faults of the record starting at `start` (at the end of input, without a record). */
  faults(start: number, faults: ScanFault[]): void;
  /** Hands over the record: its fields' bytes, its faults; returns where the next record begins. */
  commit(
    record: Uint8Array[],
    start: number,
    at: number,
    rdLength: number,
    state: { faults: ScanFault[]; hasError: boolean; lines: number; recovered: boolean },
  ): number;
}

/** One record scanned as csv-parse scans it; see the module comment. */
export class CsvParseEmulation {
  lines: number;
  faults: ScanFault[] = [];
  hasError = false;
  recovered = false;
  #wasRowDelimiter = false;
  #quoting = false;
  #wasQuoting = false;
  #escaping = false;
  #field: number[] = [];
  readonly #record: Uint8Array[] = [];
  readonly #host: EmulationHost;
  readonly #buf: Buffer;
  readonly #start: number;
  readonly #len: number;
  readonly #final: boolean;

  constructor(host: EmulationHost, buf: Buffer, start: number, len: number, final: boolean) {
    this.#host = host;
    this.#buf = buf;
    this.#start = start;
    this.#len = len;
    this.#final = final;
    this.lines = host.lineStart;
  }

  /** Scans the record; returns where the next record begins, or -1 when more bytes are needed. */
  run(): number {
    const buf = this.#buf;
    const len = this.#len;
    const host = this.#host;
    for (let pos = this.#start; ; pos++) {
      if (pos >= len) return this.#atEnd();
      if (!this.#final && len - pos - 1 < this.#lookahead()) return -1;
      if (this.#wasRowDelimiter) {
        this.lines++;
        this.#wasRowDelimiter = false;
      }
      const chr = buf[pos]!;
      if (!this.#quoting && host.rd.unknown && (chr === LF || chr === CR)) host.rd.at(buf, pos, len, this.#final);
      if (chr === CR || chr === LF) this.#wasRowDelimiter = true;
      if (this.#escaping) {
        this.#escaping = false;
      } else {
        if (this.#quoting && chr === QUOTE && pos + 1 < len && buf[pos + 1] === QUOTE) {
          this.#escaping = true;
          continue;
        }
        if (chr === QUOTE) {
          const next = this.#quote(pos);
          if (next === CONTINUE) continue;
          if (next !== FALL_THROUGH) return next;
        }
        if (!this.#quoting) {
          const l = chr === LF || chr === CR ? host.rd.at(buf, pos, len, this.#final) : 0;
          if (l > 0) {
            this.#onField();
            return this.#finish(pos, l);
          }
          if (chr === host.delimiter) {
            this.#onField();
            continue;
          }
        }
      }
      this.#field.push(chr);
    }
  }

  /** Bytes csv-parse wants to see after `pos` before it decides (it waits for the longest lookahead). */
  #lookahead(): number {
    const rd = this.#host.rd;
    const rdMax = rd.length;
    return Math.max(1, rd.unknown ? 2 : rdMax, this.#quoting ? 2 : 0, this.#quoting ? 1 + rdMax : 0);
  }

  /** A quote outside an escape: opens, closes, or is stray. */
  #quote(pos: number): number {
    const host = this.#host;
    if (this.#quoting) {
      const next = this.#buf[pos + 1];
      const isRecordDelimiter =
        next === LF || next === CR ? host.rd.at(this.#buf, pos + 1, this.#len, this.#final) > 0 : false;
      // `!next`: csv-parse also closes before a NUL byte
      if (!next || next === host.delimiter || isRecordDelimiter) {
        this.#quoting = false;
        this.#wasQuoting = true;
        return CONTINUE;
      }
      if (host.relaxQuotes === true) {
        // csv-parse keeps the opening quote and goes on unquoted: `"ab"c` is the text `"ab"c`
        this.#quoting = false;
        this.#wasQuoting = true;
        this.#field.unshift(QUOTE);
        return FALL_THROUGH;
      }
      const message = `Invalid Closing Quote: got "${String.fromCharCode(next)}" at line ${this.lines} instead of delimiter, record delimiter, trimable character (if activated) or comment`;
      this.#fault('CSV_INVALID_CLOSING_QUOTE', message, pos);
      return host.recover ? this.#recover(pos) : FALL_THROUGH;
    }
    if (this.#field.length !== 0) {
      if (!host.relaxQuotes) {
        const value = JSON.stringify(Buffer.from(this.#field).toString('utf8'));
        this.#fault(
          'INVALID_OPENING_QUOTE',
          `Invalid Opening Quote: a quote is found on field ${this.#record.length} at line ${this.lines}, value is ${value}`,
          pos,
        );
      }
      return FALL_THROUGH;
    }
    this.#quoting = true;
    return CONTINUE;
  }

  /** Recovery after a broken closing quote: the record ends at the end of its physical line. */
  #recover(pos: number): number {
    this.#onField();
    const buf = this.#buf;
    for (let e = pos + 1; ; e++) {
      if (e >= this.#len) return this.#final ? this.#whole(this.#len, 0) : -1;
      const c = buf[e]!;
      if (c !== LF && c !== CR) continue;
      const l = this.#host.rd.at(buf, e, this.#len, this.#final);
      if (l < 0) return -1;
      if (l > 0) return this.#whole(e, l);
      this.lines++;
    }
  }

  /** Ends a recovered record: the dead letter holds the whole line; its length is not checked again. */
  #whole(at: number, rdLength: number): number {
    for (const f of this.faults) f.rawEnd = rdLength > 0 ? at + 1 : at;
    this.recovered = true;
    return this.#finish(at, rdLength);
  }

  #atEnd(): number {
    if (!this.#final) return -1;
    if (this.#quoting) {
      this.#fault(
        'CSV_QUOTE_NOT_CLOSED',
        `Quote Not Closed: the parsing is finished with an opening quote at line ${this.lines}`,
        this.#len - 1,
      );
      this.#host.faults(this.#start, this.faults);
      return this.#len;
    }
    if (this.#wasQuoting || this.#record.length > 0 || this.#field.length > 0) {
      this.#onField();
      return this.#finish(this.#len, 0);
    }
    return this.#len;
  }

  #fault(code: string, message: string, pos: number): void {
    const f: ScanFault = { code, message, line: this.lines, rawEnd: pos + 1 };
    this.hasError = true;
    if (this.#host.fail) this.#host.faults(this.#start, [f]);
    this.faults.push(f);
  }

  #onField(): void {
    this.#record.push(Uint8Array.from(this.#field));
    this.#field = [];
    this.#wasQuoting = false;
  }

  #finish(at: number, rdLength: number): number {
    return this.#host.commit(this.#record, this.#start, at, rdLength, this);
  }
}

/** {@link CsvParseEmulation}'s quote handling: go to the next byte, or treat the quote as a plain byte. */
const CONTINUE = -2;
const FALL_THROUGH = -3;
