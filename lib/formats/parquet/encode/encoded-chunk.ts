/**
 * Encoding a row group's columns into compressed pages: the work the main thread or the encoder
 * thread does, the same code either way.
 */
import { crc32 } from '../../checksum.ts';
import type { ColumnBuffer } from './column-buffer.ts';
import { compressPage, compressPageSync, type ParquetCompression } from './compress.ts';
import { DEFAULT_PAGE_BYTES, encodeChunk, PageType, type RawChunk } from './page.ts';
import { chunkStatisticsFromPages, pageStatistics, type PageStats } from './page-index.ts';
import { fixedStatistics, type ChunkStatistics } from './statistics.ts';

/** A page ready for its header: `body` is compressed, `uncompressedBytes` is its size before. */
export interface EncodedPage {
  type: number;
  numValues: number;
  encoding: number;
  uncompressedBytes: number;
  body: Uint8Array;
  /** CRC-32 of `body`. */
  crc: number;
  /** Data pages: rows in the chunk before this page. */
  firstRow?: number;
}

/** A column chunk's compressed pages and metadata. */
export interface EncodedChunk extends Omit<RawChunk, 'pages'> {
  pages: EncodedPage[];
  /** Statistics of each data page, for the page index (encode/page-index.ts). */
  pageStats?: PageStats[];
}

/**
 * Encodes a column chunk and the statistics of its data pages (a page's slots are its values,
 * nulls included; `RawPage.firstRow` says where its rows start). A nested column's leaf has one
 * slot per level entry and its pages start at a row's start, each knowing the rows before it, so
 * it gets a page index too (min/max over the page's values, null counts over its slots). A chunk
 * whose pages do not add up to its slots, or a leaf page without its first row, gets none rather
 * than a wrong one.
 */
function encodeIndexed(col: ColumnBuffer, pageBytes: number): RawChunk & { pageStats?: PageStats[] } {
  const chunk = encodeChunk(col, pageBytes, false);
  // a dictionary chunk's statistics are over its entries; a PLAIN chunk's from its pages' when they have them all
  const whole = (pageStats?: PageStats[]): ChunkStatistics =>
    chunk.hasDictionary
      ? chunk.statistics
      : ((pageStats && chunkStatisticsFromPages(col, pageStats)) ?? fixedStatistics(col));
  const nested = col.levels !== undefined;
  let slots = 0;
  const pages = chunk.pages
    .filter((p) => p.type === PageType.DATA_PAGE)
    .map((p) => {
      // a flat column's slots are its rows
      const page = { entries: p.numValues, firstRow: p.firstRow ?? (nested ? -1 : slots) };
      slots += p.numValues;
      return page;
    });
  if (slots !== col.n || pages.some((p) => p.firstRow < 0)) return { ...chunk, statistics: whole() };
  // one data page (most dictionary chunks): its statistics are the chunk's
  if (pages.length === 1) {
    const statistics = whole();
    return { ...chunk, statistics, pageStats: [onePage(statistics, col.n)] };
  }
  const pageStats = pageStatistics(col, pages);
  return { ...chunk, statistics: whole(pageStats), pageStats };
}

/** The statistics of a chunk's only page, from the chunk's. */
function onePage(statistics: ChunkStatistics, slots: number): PageStats {
  const { nullCount, min, max } = statistics;
  return {
    firstRow: 0,
    nullCount,
    nullPage: nullCount === slots,
    ...(min !== undefined && max !== undefined ? { min, max } : {}),
  };
}

/** Encodes `columns` now and compresses their pages on the libuv pool (snappy, gzip). */
export function encodeColumnsAsync(
  columns: readonly ColumnBuffer[],
  codec: ParquetCompression,
  pageBytes = DEFAULT_PAGE_BYTES,
): Promise<EncodedChunk[]> {
  // encoded synchronously: the caller resets the columns as soon as this returns
  const chunks = columns.map((col) => encodeIndexed(col, pageBytes));
  return Promise.all(
    chunks.map(async (chunk) => {
      const bodies = await Promise.all(chunk.pages.map((page) => compressPage(codec, page.body)));
      return withBodies(chunk, bodies);
    }),
  );
}

/** Encodes and compresses `columns` on the calling thread. */
export function encodeColumnsSync(
  columns: readonly ColumnBuffer[],
  codec: ParquetCompression,
  pageBytes = DEFAULT_PAGE_BYTES,
): EncodedChunk[] {
  return columns.map((col) => {
    const chunk = encodeIndexed(col, pageBytes);
    return withBodies(
      chunk,
      chunk.pages.map((page) => compressPageSync(codec, page.body)),
    );
  });
}

function withBodies(chunk: RawChunk & { pageStats?: PageStats[] }, bodies: Uint8Array[]): EncodedChunk {
  return {
    ...chunk,
    pages: chunk.pages.map((page, p) => ({
      type: page.type,
      numValues: page.numValues,
      encoding: page.encoding,
      uncompressedBytes: page.body.length,
      body: bodies[p]!,
      crc: crc32(bodies[p]!),
      ...(page.firstRow !== undefined ? { firstRow: page.firstRow } : {}),
    })),
  };
}
