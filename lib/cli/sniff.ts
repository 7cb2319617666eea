/**
 * A data file's format from its first bytes, for the commands given a file whose extension names
 * none (Arrow's own test files end in `.stream`, `.arrow_file`): `convert` and `inspect` share
 * it, so a file one of them recognises the other does too.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { detectArrowFormat } from '../formats/arrow/ipc-reader.ts';

/** The binary formats told by content; text formats (CSV, JSON lines) have no magic. */
export type SniffedFormat = 'parquet' | 'arrow';

/** Bytes {@link dataFormatOf} looks at. */
export const SNIFF_BYTES = 8;

/**
 * The format the first bytes of a file name: `PAR1` (Parquet) or `PARE` (encrypted Parquet,
 * which the Parquet reader then refuses by name), `ARROW1` (Arrow IPC file), a continuation
 * marker 0xFFFFFFFF and a metadata length (Arrow IPC stream); else undefined.
 */
export function dataFormatOf(head: Uint8Array): SniffedFormat | undefined {
  const magic = Buffer.from(head.buffer, head.byteOffset, Math.min(4, head.byteLength)).toString('latin1');
  if (magic === 'PAR1' || magic === 'PARE') return 'parquet';
  const arrow = detectArrowFormat(head);
  if (arrow === 'file') return 'arrow';
  // a stream before Arrow 0.15 starts with a bare metadata length: any text file would pass for
  // one, so only the continuation marker counts here
  const marked = head.byteLength >= 4 && new DataView(head.buffer, head.byteOffset).getUint32(0, true) === 0xffffffff;
  return arrow === 'stream' && marked ? 'arrow' : undefined;
}

/**
 * {@link dataFormatOf} of a local file's first bytes; undefined also when it cannot be read (the
 * reader that opens it then reports that, with its own coded error).
 */
export function sniffDataFile(path: string): SniffedFormat | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    return dataFormatOf(head.subarray(0, readSync(fd, head, 0, SNIFF_BYTES, 0)));
  } catch {
    return undefined; // a directory, or a read error
  } finally {
    closeSync(fd);
  }
}
