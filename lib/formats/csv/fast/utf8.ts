/**
 * UTF-8 validity of CSV bytes. Node decodes invalid UTF-8 to U+FFFD without a word, which would
 * change values silently; fromCsv refuses such bytes by default (as DuckDB does) and replaces them
 * only when asked (`invalidUtf8: 'replace'`). One SIMD pass (`isUtf8`) checks a whole window; a
 * field is looked at on its own only when its window fails.
 */
import { isUtf8 } from 'node:buffer';

/**
 * How many bytes from the start of `buf` are known to be valid UTF-8: all of them, or, when `buf`
 * ends inside a multi-byte character (a chunk boundary), the bytes before that character; -1 when
 * the bytes before it are not valid.
 */
export function validUtf8Prefix(buf: Uint8Array): number {
  let end = buf.length;
  // step back over at most 3 continuation bytes to the lead byte of the last character
  let lead = end - 1;
  while (lead >= 0 && lead > end - 4 && (buf[lead]! & 0xc0) === 0x80) lead--;
  if (lead >= 0) {
    const b = buf[lead]!;
    const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (lead + size > end) end = lead;
  }
  return isUtf8(buf.subarray(0, end)) ? end : -1;
}

/** True when `bytes` is valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return isUtf8(bytes);
}

/** The message for invalid UTF-8 in `where` (a column, or a line), with the first bytes in hex. */
export function invalidUtf8Message(where: string, bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 16)).toString('hex');
  return (
    `invalid UTF-8 in ${where} (bytes ${shown}${bytes.byteLength > 16 ? '...' : ''}): the file is not UTF-8 ` +
    "(pass encoding: 'latin1' if it is Latin-1), or pass invalidUtf8: 'replace' to read it with U+FFFD"
  );
}
