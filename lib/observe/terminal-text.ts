/**
 * Text for a terminal from names spillway does not choose: stage names, column names, file
 * names and error messages can hold escape sequences (from a hostile CSV header, or a stage
 * named by user code) that would move the cursor, rewrite earlier lines, change the window title
 * or worse when printed raw. Control characters become visible `\xNN` / `\u{...}` escapes.
 */

// C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides (which reorder what follows)
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control character but tab and newline (ESC, CR, BEL, C1, bidi overrides)
 * shown as an escape: `\x1b[2J` prints as the 7 characters `\x1b[2J`, not as a screen clear.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/**
 * `json` (JSON.stringify output, which escapes C0 controls itself) with the other characters
 * {@link terminalSafe} escapes (DEL, C1 controls, bidi overrides) as JSON `\uXXXX` escapes: the
 * same text once parsed, harmless on a terminal.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
