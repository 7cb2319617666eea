/**
 * Invalid UTF-8 refused on the csv-parse path: csv-parse decodes fields with Buffer#toString, which
 * turns bad bytes into U+FFFD silently. This pass-through checks the bytes before the parser (one
 * `isUtf8` pass a chunk, a character cut by a chunk boundary carried to the next) and fails with
 * the line the bad bytes are on. It cannot name the column (the bytes are not parsed yet): the
 * fast path, which checks field by field, does.
 */
import { Transform } from 'node:stream';
import { CsvParseError } from '../../../core/errors.ts';
import { invalidUtf8Message, isValidUtf8, validUtf8Prefix } from '../fast/utf8.ts';

/**
 * A pass-through refusing invalid UTF-8. `lineBase`: lines before the first byte (a resumed
 * read); `byteBase`: the first byte's offset in the file.
 */
export function utf8Guard(stage: string, file: string, lineBase: number, byteBase: number): Transform {
  let carry: Buffer | undefined;
  let lines = 0;
  let offset = byteBase;
  const refuse = (buf: Buffer): CsvParseError => {
    const at = firstInvalid(buf);
    const line = lineBase + lines + 1 + countNewlines(buf.subarray(0, at));
    return new CsvParseError(`CSV_INVALID_UTF8: ${invalidUtf8Message('a field', buf.subarray(at, at + 8))}`, {
      stage,
      file,
      line,
      byteOffset: offset + at,
    });
  };
  const pass = (buf: Buffer, valid: number): Buffer => {
    lines += countNewlines(buf.subarray(0, valid));
    offset += valid;
    return buf.subarray(0, valid);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
      const valid = validUtf8Prefix(buf);
      if (valid < 0) return callback(refuse(buf));
      carry = valid < buf.length ? Buffer.from(buf.subarray(valid)) : undefined;
      callback(null, pass(buf, valid));
    },
    flush(callback) {
      if (carry === undefined || isValidUtf8(carry)) return callback(null, carry);
      callback(refuse(carry));
    },
  });
}

/** The offset of the first byte of `buf` that starts no valid UTF-8 sequence (bisecting with isUtf8 over prefixes). */
function firstInvalid(buf: Buffer): number {
  let lo = 0;
  let hi = buf.length;
  // invariant: buf[0, lo) holds whole valid characters; the first bad one starts before hi
  while (hi - lo > 4) {
    const mid = (lo + hi) >>> 1;
    const cut = validUtf8Prefix(buf.subarray(0, mid));
    if (cut >= 0) lo = Math.max(lo, cut);
    else hi = mid;
  }
  return lo;
}

function countNewlines(buf: Uint8Array): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
