/**
 * Comments on the fast path, as DuckDB's `comment` reads them: a line of spaces then the comment
 * byte is skipped; outside quotes the comment byte ends the record (the field before it keeps its
 * bytes, spaces included), and after a closing quote spaces may come before it. Where a comment
 * ends is found here; the scanner (scanner.ts) decides what it ends.
 */
import { CR, LF, SPACE, type RecordDelimiter } from './record-delimiter.ts';

/** The fault code of a record DuckDB drops without a word: see {@link blankBeforeComment}. */
export const COMMENT_AFTER_BLANK = 'CSV_COMMENT_AFTER_BLANK_FIELD';

/** Where a comment's line ends: the record delimiter (`rdLength` > 0) or the end of input (0). */
export interface CommentEnd {
  at: number;
  rdLength: number;
  /** CR and LF bytes before it that are not the record delimiter (csv-parse counts each as a line). */
  newlines: number;
}

/**
 * Finds the end of the line of a comment byte at `from` into `out`; false when more bytes are
 * needed to know it.
 */
export function commentEnd(
  buf: Buffer,
  from: number,
  len: number,
  final: boolean,
  rd: RecordDelimiter,
  out: CommentEnd,
): boolean {
  out.newlines = 0;
  for (let e = from + 1; ; e++) {
    if (e >= len) {
      if (!final) return false;
      out.at = len;
      out.rdLength = 0;
      return true;
    }
    const c = buf[e]!;
    if (c !== LF && c !== CR) continue;
    const l = rd.at(buf, e, len, final);
    if (l < 0) return false;
    if (l > 0) {
      out.at = e;
      out.rdLength = l;
      return true;
    }
    out.newlines++;
  }
}

/** Where the spaces from `p` end. */
export function afterSpaces(buf: Buffer, p: number, len: number): number {
  while (p < len && buf[p] === SPACE) p++;
  return p;
}

/** True when `buf[from..to)` is only spaces. */
export function onlySpaces(buf: Buffer, from: number, to: number): boolean {
  return afterSpaces(buf, from, to) === to;
}

/**
 * A comment after a field of only spaces that is not the record's first (`1,  # note`): DuckDB
 * drops the whole record without an error (its rule for indented comment lines applies to the
 * field), so the record is refused rather than given differently or lost.
 */
export function blankBeforeComment(line: number): string {
  return `A comment follows a field of only spaces on line ${line}: DuckDB drops such a record, so it is refused (remove the spaces or the comment)`;
}

/**
 * A comment line at `start` (spaces, then the comment byte): where the next record starts (`end`
 * tells the lines it spans), `start` when the line is not a comment, -1 when more bytes are needed.
 */
export function skipCommentLine(
  buf: Buffer,
  start: number,
  len: number,
  final: boolean,
  comment: number,
  rd: RecordDelimiter,
  end: CommentEnd,
): number {
  const q = afterSpaces(buf, start, len);
  if (q >= len) return final ? start : -1;
  if (buf[q] !== comment) return start;
  if (!commentEnd(buf, q, len, final, rd, end)) return -1;
  return end.at + end.rdLength;
}

/**
 * After a closing quote, spaces then a comment byte from `p`: where the comment byte is, -1 when
 * more bytes are needed, -2 when something else follows.
 */
export function commentAfterQuote(buf: Buffer, p: number, len: number, final: boolean, comment: number): number {
  const e = afterSpaces(buf, p, len);
  if (e >= len) return final ? -2 : -1;
  return buf[e] === comment ? e : -2;
}
