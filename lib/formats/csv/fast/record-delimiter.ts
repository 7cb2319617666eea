/**
 * The record delimiter as csv-parse discovers it: unknown until the first unquoted CR or LF, then
 * `\n`, `\r` or `\r\n` for the rest of the input. A lone CR in a `\n` file is not a delimiter.
 */

/** Byte values the scanner looks for. */
export const LF = 10;
export const CR = 13;
export const QUOTE = 34;
export const SPACE = 32;

const RD_UNKNOWN = 0;
const RD_LF = 1;
const RD_CR = 2;
const RD_CRLF = 3;

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

  /** Its length in bytes once known (0 while unknown). */
  get length(): number {
    return this.#kind === RD_UNKNOWN ? 0 : this.#kind === RD_CRLF ? 2 : 1;
  }

  /** Length of the record delimiter at `i` (discovering it if unknown): 0 when none, -1 when more bytes are needed. */
  at(buf: Buffer, i: number, len: number, final: boolean): number {
    const c = buf[i];
    switch (this.#kind) {
      case RD_LF:
        return c === LF ? 1 : 0;
      case RD_CR:
        return c === CR ? 1 : 0;
      case RD_CRLF:
        if (c !== CR) return 0;
        if (i + 1 >= len) return final ? 0 : -1;
        return buf[i + 1] === LF ? 2 : 0;
      default:
        return this.#discover(buf, i, len, final);
    }
  }

  #discover(buf: Buffer, i: number, len: number, final: boolean): number {
    const c = buf[i];
    if (c === LF) {
      this.#kind = RD_LF;
      return 1;
    }
    if (c !== CR) return 0;
    if (i + 1 >= len) {
      if (!final) return -1;
      this.#kind = RD_CR;
      return 1;
    }
    this.#kind = buf[i + 1] === LF ? RD_CRLF : RD_CR;
    return this.#kind === RD_CRLF ? 2 : 1;
  }
}
