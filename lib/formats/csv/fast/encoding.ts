/** The fast path reads UTF-8 only: a UTF-16 input is refused before it is read as garbage. */
import { UnsupportedError } from '../../../core/errors.ts';

/** Throws when `buf` (the input's first bytes) starts with a UTF-16 byte order mark. */
export function refuseUtf16(buf: Buffer): void {
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
    throw new UnsupportedError(
      "the input is UTF-16 (it starts with a UTF-16 byte order mark); the fast CSV path reads UTF-8: pass parser: 'csv-parse'",
      {},
    );
  }
}
