/**
 * A row group's place in the file: its encoded column chunks laid out page after page (each page
 * header before its body), the metadata the footer keeps for each chunk, and the writing of those
 * bytes through a FileHandle.
 */
import type { FileHandle } from 'node:fs/promises';
import { CODEC_IDS } from '../encode/compress.ts';
import type { ParquetCompression } from '../encode/compress.ts';
import type { EncodedChunk } from '../encode/encoded-chunk.ts';
import { pageHeader } from '../encode/metadata.ts';
import { chunkPageIndex } from '../encode/page-index.ts';
import type { ChunkMeta, RowGroupMeta } from '../encode/metadata.ts';

/** A row group ready to write: its bytes in order and its footer metadata. */
export interface LaidOutGroup {
  readonly parts: Uint8Array[];
  /** Bytes of `parts` together. */
  readonly length: number;
  readonly meta: RowGroupMeta;
}

/** Lays out the encoded chunks of a row group of `rows` rows starting at file offset `groupStart`. */
export function layOutRowGroup(
  chunks: readonly EncodedChunk[],
  rows: number,
  groupStart: number,
  codec: ParquetCompression,
): LaidOutGroup {
  const parts: Uint8Array[] = [];
  let at = groupStart;
  let uncompressedTotal = 0;
  const metas: ChunkMeta[] = chunks.map((chunk) => {
    const chunkStart = at;
    let dataPageOffset = -1;
    let uncompressed = 0;
    const offsets: number[] = [];
    const sizes: number[] = [];
    for (const page of chunk.pages) {
      const body = page.body;
      const header = pageHeader(
        page.type,
        page.uncompressedBytes,
        body.length,
        page.numValues,
        page.encoding,
        page.crc,
      );
      if (page.type === 0 && dataPageOffset < 0) dataPageOffset = at;
      if (page.type === 0) {
        offsets.push(at);
        sizes.push(header.length + body.length);
      }
      parts.push(header, body);
      at += header.length + body.length;
      uncompressed += header.length + page.uncompressedBytes;
    }
    uncompressedTotal += uncompressed;
    const s = chunk.statistics;
    return {
      encodings: chunk.encodings,
      codec: CODEC_IDS[codec],
      numValues: chunk.numValues,
      uncompressedBytes: uncompressed,
      compressedBytes: at - chunkStart,
      dataPageOffset,
      ...(chunk.hasDictionary ? { dictionaryPageOffset: chunkStart } : {}),
      nullCount: s.nullCount,
      ...(s.min !== undefined && s.max !== undefined
        ? { min: Buffer.from(s.min).toString('base64'), max: Buffer.from(s.max).toString('base64') }
        : {}),
      ...(chunk.pageStats?.length === offsets.length && offsets.length > 0
        ? { pageIndex: chunkPageIndex(chunk.pageStats, offsets, sizes) }
        : {}),
    };
  });
  const length = at - groupStart;
  return {
    parts,
    length,
    meta: {
      numRows: rows,
      fileOffset: groupStart,
      uncompressedBytes: uncompressedTotal,
      compressedBytes: length,
      columns: metas,
    },
  };
}

/** Writes all of `bytes` at the handle's position (a short write continues). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
}

/** Writes the parts back to back (one writev; a short write finishes part by part). */
export async function writeParts(handle: FileHandle, parts: readonly Uint8Array[], total: number): Promise<void> {
  const { bytesWritten } = await handle.writev(parts as Uint8Array[]);
  if (bytesWritten === total) return;
  let skip = bytesWritten;
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    await writeAll(handle, part.subarray(skip));
    skip = 0;
  }
}
