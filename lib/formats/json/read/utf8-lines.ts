/**
 * Which lines of JSON Lines text hold bytes that are not UTF-8. The decoder would turn them into
 * U+FFFD silently; fromJsonl makes such a line a bad line (its error policy decides) unless
 * `invalidUtf8: 'replace'`. A chunk is checked whole with one `isUtf8` pass; only a chunk that
 * fails is split into lines to find the bad ones. A `\n` byte is a newline wherever it is, so the
 * k-th newline of a chunk ends the k-th line the reader takes from it.
 */
import { isValidUtf8, validUtf8Prefix } from '../../csv/fast/utf8.ts';

/** Tracks invalid UTF-8 by line across chunks; see the module comment. */
export class Utf8Lines {
  /** An incomplete character at the end of the last chunk (checked with the next one). */
  #tail: Buffer | undefined;
  /** The line not yet ended holds invalid bytes. */
  #openBad = false;
  /** Lines ended in the current chunk that are bad, by their index in the chunk (0: the one begun before it). */
  #bad: Set<number> | undefined;

  /** Checks the next chunk (before its lines are taken); a string chunk (a caller's text stream) is text already. */
  chunk(chunk: Buffer | string): void {
    if (typeof chunk === 'string') {
      this.#bad = undefined;
      return;
    }
    const buf = this.#tail === undefined ? chunk : Buffer.concat([this.#tail, chunk]);
    const valid = validUtf8Prefix(buf);
    this.#bad = undefined;
    const firstNewline = buf.indexOf(10);
    if (valid >= 0) {
      this.#tail = valid < buf.length ? Buffer.from(buf.subarray(valid)) : undefined;
      if (this.#openBad && firstNewline >= 0) {
        this.#bad = new Set([0]);
        this.#openBad = false;
      }
      return;
    }
    this.#bad = new Set();
    let start = 0;
    let k = 0;
    for (let nl = firstNewline; nl >= 0; nl = buf.indexOf(10, start), k++) {
      if ((k === 0 && this.#openBad) || !isValidUtf8(buf.subarray(start, nl))) this.#bad.add(k);
      this.#openBad = false;
      start = nl + 1;
    }
    const rest = buf.subarray(start);
    const restValid = validUtf8Prefix(rest);
    if (restValid < 0) this.#openBad = true;
    this.#tail = restValid >= 0 && restValid < rest.length ? Buffer.from(rest.subarray(restValid)) : undefined;
  }

  /** True when the `k`-th line ended in the current chunk holds invalid bytes. */
  lineBad(k: number): boolean {
    return this.#bad !== undefined && this.#bad.has(k);
  }

  /** True when the text's last line (no newline after it) holds invalid bytes, or a character cut short. */
  lastBad(): boolean {
    return this.#openBad || this.#tail !== undefined;
  }
}
