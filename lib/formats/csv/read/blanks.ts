/**
 * Blanks around a CSV value: the spaces and tabs that DuckDB's casts skip around a number, a date
 * or a timestamp (` 42`, `3.5\t`). Other whitespace (CR, LF inside quotes) is part of the value.
 */

/** True for a space or a tab (char code). */
export function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

/** `text` without the spaces and tabs at its start and end. */
export function trimBlanks(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** `text` without the spaces and tabs at its start. */
export function trimLeadingBlanks(text: string): string {
  let start = 0;
  while (start < text.length && isBlank(text.charCodeAt(start))) start++;
  return start === 0 ? text : text.slice(start);
}
