/**
 * UTF-16LE input transcoded to UTF-8 before either reader sees it. csv-parse's own UTF-16 decoding
 * loses its alignment on malformed quoting: text after a closing quote (`"ab"c`) came out
 * garbled, a dead letter's raw text was decoded one byte off, and after a bad record in strict
 * mode the records behind it were lost. Read as UTF-8, a UTF-16 file takes the same paths as any
 * other (the fast scanner, its quote handling, its parser threads excepted: their byte ranges are
 * the file's). Byte positions (resume points, a sniffed preamble) are then positions in the UTF-8
 * text: like a compressed file, the input is transcoded from its start to reach one.
 *
 * A lone surrogate or an odd final byte is refused with the byte offset in the file, as invalid
 * UTF-8 is, unless `invalidUtf8: 'replace'` asks for U+FFFD.
 */
import { Transform } from 'node:stream';
import { CsvParseError } from '../../../core/errors.ts';
import type { CsvEncoding } from './encoding.ts';
import type { CsvReadSpec } from './reader.ts';

/** The transcoding pass: UTF-16LE bytes in, UTF-8 bytes out; see the module comment. */
export function utf16leToUtf8(stage: string, file: string, invalid: 'error' | 'replace'): Transform {
  // the byte order mark is kept (as U+FEFF in UTF-8): the readers drop it, and offsets stay exact
  const decoder = new TextDecoder('utf-16le', { fatal: invalid === 'error', ignoreBOM: true });
  let offset = 0;
  const refuse = (chunk: Buffer | undefined): CsvParseError => {
    const at = chunk === undefined ? offset : offset + firstInvalidUnit(chunk, offset % 2);
    return new CsvParseError(
      `CSV_INVALID_UTF16: the input is not valid UTF-16LE at byte ${at} (a lone surrogate, or an odd number of bytes); pass invalidUtf8: 'replace' to read such characters as U+FFFD`,
      { stage, file, byteOffset: at },
    );
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        return callback(refuse(chunk));
      }
      offset += chunk.byteLength;
      callback(null, text.length > 0 ? Buffer.from(text, 'utf8') : undefined);
    },
    flush(callback) {
      let text: string;
      try {
        text = decoder.decode();
      } catch {
        return callback(refuse(undefined));
      }
      callback(null, text.length > 0 ? Buffer.from(text, 'utf8') : undefined);
    },
  });
}

/**
 * Where in `chunk` the first unpaired surrogate is, its code units starting at `from` (the
 * chunk's length when the fault is a pair cut by the chunk's end).
 */
function firstInvalidUnit(chunk: Buffer, from: number): number {
  for (let i = from; i + 1 < chunk.byteLength; i += 2) {
    const unit = chunk.readUInt16LE(i);
    if (unit >= 0xdc00 && unit <= 0xdfff) return i;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      if (i + 3 >= chunk.byteLength) return chunk.byteLength;
      const next = chunk.readUInt16LE(i + 2);
      if (next < 0xdc00 || next > 0xdfff) return i;
      i += 2;
    }
  }
  return chunk.byteLength;
}

/** The encoding the readers see: UTF-16LE arrives transcoded (see the module comment). */
export function readEncoding(encoding: CsvEncoding): 'utf8' | 'latin1' {
  return encoding === 'utf16le' ? 'utf8' : encoding;
}

/** The transcoding pass a read of `spec` needs, or undefined. */
export function transcoderFor(spec: CsvReadSpec): Transform | undefined {
  return spec.encoding === 'utf16le'
    ? utf16leToUtf8(spec.plan.stageName, spec.plan.where, spec.plan.invalidUtf8)
    : undefined;
}
