/**
 * The line of a JSON Lines read whose newline has not come yet. It is kept as the pieces it
 * arrived in and joined once, when it ends: joining it to each new chunk and searching the whole
 * for a newline made a line cost the square of its length (a 64 MB line took 17 s and 480 MB). A
 * line is held whole until it ends, so it is bounded as a CSV record is, by the same bound
 * ({@link maxRecordBytes}: 128 MiB, lowered by tests through `setMaxRecordBytes`): past it the
 * read is refused rather than grown without end.
 */
import { maxRecordBytes } from '../../csv/fast/limits.ts';

/** True when `line` is longer than {@link maxRecordBytes} in UTF-8 (counted only for a line long enough to be). */
export function overLimit(line: string): boolean {
  const bound = maxRecordBytes();
  // a UTF-16 code unit is at most 3 UTF-8 bytes: a shorter line cannot pass the bound
  return line.length * 3 > bound && Buffer.byteLength(line) > bound;
}

/** The unfinished line; see the module comment. */
export class PendingLine {
  #parts: string[] = [];
  #bytes = 0;

  /** The held line ended by `head` (the text before the next newline), as one string; nothing is held after. */
  end(head: string): string {
    if (this.#parts.length === 0) return head;
    this.#parts.push(head);
    const line = this.#parts.join('');
    this.#parts = [];
    this.#bytes = 0;
    return line;
  }

  /** Holds `tail` (the text after a chunk's last newline); false when the line is now past the bound. */
  add(tail: string): boolean {
    if (tail.length === 0) return true;
    this.#parts.push(tail);
    this.#bytes += Buffer.byteLength(tail);
    return this.#bytes <= maxRecordBytes();
  }
}
