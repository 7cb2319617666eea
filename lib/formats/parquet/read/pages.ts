/**
 * Pages of one column chunk, read through a small sliding window of the file: the chunk is
 * never fetched whole, so raw bytes in memory are one window (or one page, when a page is
 * bigger). Each page whose header carries a CRC is checked before it is decoded.
 */
import { parquetHeader } from 'hyparquet/src/column.js';
import type { PageHeader } from 'hyparquet';
import { crc32 } from '../../checksum.ts';
import { FormatError } from '../../../core/errors.ts';
import type { FileBuffer } from '../fileBuffer.ts';
import { checkPageHeader } from './page-bounds.ts';

/** One page: its parsed header and its bytes as stored (compressed), after the header. */
export interface RawPage {
  readonly header: PageHeader;
  readonly bytes: Uint8Array;
  /** File offset of the page header. */
  readonly offset: number;
}

/** Where a chunk is, for error messages. */
export interface ChunkWhere {
  readonly file: string;
  readonly rowGroup: number;
  readonly column: string;
  /** The chunk's codec and value count: each page header is checked against them before use. */
  readonly codec?: string;
  readonly chunkValues?: number;
  /** The chunk's uncompressed size from the footer: no page may declare more. */
  readonly chunkBytes?: number;
}

/** Sequential page reader over one column chunk. */
export interface PageStream {
  /** The next page, or undefined at the end of the chunk. */
  next(): Promise<RawPage | undefined>;
}

/** Bytes fetched per read when pages are smaller (a few pages of a typical 1 MB-page writer). */
export const WINDOW_BYTES = 1 << 20;
const FIRST_HEADER_GUESS = 1 << 10;
/** A page header (statistics included) larger than this is corrupt: writers cap statistics far below. */
const MAX_HEADER_BYTES = 16 << 20;

/**
 * Opens a page stream over bytes `[start, end)` of `file`.
 * @param verifyCrc check page CRCs when present (default true)
 */
export function openPageStream(
  file: FileBuffer,
  start: number,
  end: number,
  where: ChunkWhere,
  verifyCrc = true,
): PageStream {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > file.byteLength) {
    throw new FormatError(`Parquet column chunk bytes ${start}-${end} lie outside the ${file.byteLength}-byte file`, {
      file: where.file,
    });
  }
  let window = new Uint8Array(0);
  let windowStart = start;
  let pos = start;
  const describe = `row group ${where.rowGroup}, column \`${where.column}\``;

  /** Makes bytes [pos, pos + n) available in the window; false when they pass the chunk end. */
  async function ensure(n: number): Promise<boolean> {
    if (pos + n > end) return false;
    if (pos >= windowStart && pos + n <= windowStart + window.length) return true;
    const stop = Math.min(end, pos + Math.max(n, WINDOW_BYTES));
    window = new Uint8Array(await file.slice(pos, stop));
    windowStart = pos;
    return true;
  }

  async function readHeader(): Promise<{ header: PageHeader; length: number }> {
    let want = Math.min(end - pos, FIRST_HEADER_GUESS);
    for (;;) {
      await ensure(want);
      const at = pos - windowStart;
      const available = window.length - at;
      const reader = { view: new DataView(window.buffer, window.byteOffset + at, available), offset: 0 };
      try {
        const header = parquetHeader(reader);
        return { header, length: reader.offset };
      } catch (error) {
        // a header cut by the window end: fetch more, unless the chunk has no more
        if (pos + available >= end) {
          throw new FormatError(
            `Corrupt Parquet page header in ${describe}: ${(error as Error).message}`,
            { file: where.file, byteOffset: pos },
            { cause: error },
          );
        }
        const more = Math.min(end - pos, Math.max(available, want) * 4);
        // every retry reads more bytes, or the loop ends: never spin on the same window
        if (!(more > want) || more > MAX_HEADER_BYTES) {
          throw new FormatError(
            `Corrupt Parquet page header in ${describe}: ${(error as Error).message}`,
            { file: where.file, byteOffset: pos },
            { cause: error },
          );
        }
        want = more;
      }
    }
  }

  return {
    async next(): Promise<RawPage | undefined> {
      // hyparquet treats a single trailing byte as the end of a chunk; so do we
      if (end - pos <= 1) return undefined;
      const offset = pos;
      const { header, length } = await readHeader();
      const size = header.compressed_page_size;
      if (!Number.isInteger(size) || size < 0 || !(await ensure(length + size))) {
        throw new FormatError(`Parquet page in ${describe} claims ${size} bytes, past the end of its column chunk`, {
          file: where.file,
          byteOffset: offset,
        });
      }
      if (where.codec !== undefined)
        checkPageHeader(
          header,
          { codec: where.codec, chunkValues: where.chunkValues, chunkBytes: where.chunkBytes },
          describe,
          { file: where.file, byteOffset: offset },
        );
      const at = pos - windowStart + length;
      const bytes = window.subarray(at, at + size);
      if (verifyCrc && header.crc !== undefined && header.crc !== null) {
        const actual = crc32(bytes);
        if (actual !== header.crc >>> 0) {
          throw new FormatError(
            `Parquet page checksum mismatch in ${describe}: the header says CRC-32 ${(header.crc >>> 0).toString(16).padStart(8, '0')}, the page bytes give ${actual.toString(16).padStart(8, '0')}`,
            { file: where.file, byteOffset: offset },
          );
        }
      }
      pos += length + size;
      return { header, bytes, offset };
    },
  };
}
