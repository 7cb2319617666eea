/**
 * The record delimiter, discovered as csv-parse discovers it (the first unquoted CR or LF), with
 * one difference: a file whose first line ends in `\n` or `\r\n` takes both as line ends for the
 * rest of the input, as Polars and pandas do, and as csv-parse does with `record_delimiter:
 * ['\r\n', '\n']` (the reference the fast path is tested against). Files concatenated from two
 * systems mix them, and csv-parse's single discovered delimiter would keep each `\r` in the last
 * field of the other kind's lines. A first line ending in a lone `\r` (old Mac files) makes `\r`
 * the only delimiter; a lone CR in a `\n` file is not a delimiter.
 */

/** Byte values the scanner looks for. */
export const LF = 10;
export const CR = 13;
export const QUOTE = 34;
export const SPACE = 32;

const RD_UNKNOWN = 0;
/** `\n` or `\r\n`. */
const RD_NEWLINE = 1;
const RD_CR = 2;

/** The delimiter kinds a read settles on. */
export type DelimiterKind = 'newline' | 'cr' | 'unknown';

/** True for CR and LF. */
export function isNewline(c: number | undefined): boolean {
  return c === LF || c === CR;
}

/** The record delimiter of one input; see the module comment. */
export class RecordDelimiter {
  #kind = RD_UNKNOWN;

  /** True until the first delimiter is seen. */
  get unknown(): boolean {
    return this.#kind === RD_UNKNOWN;
  }

  /** The longest delimiter in bytes once known (0 while unknown). */
  get length(): number {
    return this.#kind === RD_UNKNOWN ? 0 : this.#kind === RD_NEWLINE ? 2 : 1;
  }

  /** The kind settled on. */
  get kind(): DelimiterKind {
    return this.#kind === RD_UNKNOWN ? 'unknown' : this.#kind === RD_NEWLINE ? 'newline' : 'cr';
  }

  /** Length of the record delimiter at `i` (discovering it if unknown): 0 when none, -1 when more bytes are needed. */
  at(buf: Buffer, i: number, len: number, final: boolean): number {
    const c = buf[i];
    switch (this.#kind) {
      case RD_NEWLINE:
        if (c === LF) return 1;
        if (c !== CR) return 0;
        if (i + 1 >= len) return final ? 0 : -1;
        return buf[i + 1] === LF ? 2 : 0;
      case RD_CR:
        return c === CR ? 1 : 0;
      default:
        return this.#discover(buf, i, len, final);
    }
  }

  #discover(buf: Buffer, i: number, len: number, final: boolean): number {
    const c = buf[i];
    if (c === LF) {
      this.#kind = RD_NEWLINE;
      return 1;
    }
    if (c !== CR) return 0;
    if (i + 1 >= len) {
      if (!final) return -1;
      this.#kind = RD_CR;
      return 1;
    }
    this.#kind = buf[i + 1] === LF ? RD_NEWLINE : RD_CR;
    return this.#kind === RD_NEWLINE ? 2 : 1;
  }
}
