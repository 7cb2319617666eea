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

/** Pages of one chunk through a sliding window of the file. */
class ChunkPages implements PageStream {
  private window = new Uint8Array(0);
  private windowStart: number;
  private pos: number;
  private readonly describe: string;
  private readonly file: FileBuffer;
  private readonly end: number;
  private readonly where: ChunkWhere;
  private readonly verifyCrc: boolean;

  constructor(file: FileBuffer, start: number, end: number, where: ChunkWhere, verifyCrc: boolean) {
    this.file = file;
    this.end = end;
    this.where = where;
    this.verifyCrc = verifyCrc;
    this.windowStart = this.pos = start;
    this.describe = `row group ${where.rowGroup}, column \`${where.column}\``;
  }

  /** Makes bytes [pos, pos + n) available in the window; false when they pass the chunk end. */
  private async ensure(n: number): Promise<boolean> {
    const { pos, end } = this;
    if (pos + n > end) return false;
    if (pos >= this.windowStart && pos + n <= this.windowStart + this.window.length) return true;
    const stop = Math.min(end, pos + Math.max(n, WINDOW_BYTES));
    this.window = new Uint8Array(await this.file.slice(pos, stop));
    this.windowStart = pos;
    return true;
  }

  private corruptHeader(error: unknown): FormatError {
    return new FormatError(
      `Corrupt Parquet page header in ${this.describe}: ${(error as Error).message}`,
      { file: this.where.file, byteOffset: this.pos },
      { cause: error },
    );
  }

  private async readHeader(): Promise<{ header: PageHeader; length: number }> {
    const end = this.end;
    let want = Math.min(end - this.pos, FIRST_HEADER_GUESS);
    for (;;) {
      await this.ensure(want);
      const at = this.pos - this.windowStart;
      const available = this.window.length - at;
      const reader = { view: new DataView(this.window.buffer, this.window.byteOffset + at, available), offset: 0 };
      try {
        const header = parquetHeader(reader);
        return { header, length: reader.offset };
      } catch (error) {
        // a header cut by the window end: fetch more, unless the chunk has no more
        if (this.pos + available >= end) throw this.corruptHeader(error);
        const more = Math.min(end - this.pos, Math.max(available, want) * 4);
        // every retry reads more bytes, or the loop ends: never spin on the same window
        if (!(more > want) || more > MAX_HEADER_BYTES) throw this.corruptHeader(error);
        want = more;
      }
    }
  }

  private checkCrc(header: PageHeader, bytes: Uint8Array, offset: number): void {
    if (!this.verifyCrc || header.crc === undefined || header.crc === null) return;
    const actual = crc32(bytes);
    if (actual !== header.crc >>> 0) {
      throw new FormatError(
        `Parquet page checksum mismatch in ${this.describe}: the header says CRC-32 ${(header.crc >>> 0).toString(16).padStart(8, '0')}, the page bytes give ${actual.toString(16).padStart(8, '0')}`,
        { file: this.where.file, byteOffset: offset },
      );
    }
  }

  async next(): Promise<RawPage | undefined> {
    const where = this.where;
    // hyparquet treats a single trailing byte as the end of a chunk; so do we
    if (this.end - this.pos <= 1) return undefined;
    const offset = this.pos;
    const { header, length } = await this.readHeader();
    const size = header.compressed_page_size;
    if (!Number.isInteger(size) || size < 0 || !(await this.ensure(length + size))) {
      throw new FormatError(`Parquet page in ${this.describe} claims ${size} bytes, past the end of its column chunk`, {
        file: where.file,
        byteOffset: offset,
      });
    }
    if (where.codec !== undefined)
      checkPageHeader(
        header,
        { codec: where.codec, chunkValues: where.chunkValues, chunkBytes: where.chunkBytes },
        this.describe,
        { file: where.file, byteOffset: offset },
      );
    const at = this.pos - this.windowStart + length;
    const bytes = this.window.subarray(at, at + size);
    this.checkCrc(header, bytes, offset);
    this.pos += length + size;
    return { header, bytes, offset };
  }
}

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
  return new ChunkPages(file, start, end, where, verifyCrc);
}
