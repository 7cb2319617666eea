/**
 * Where each format keeps its structure, read from a valid file: the offsets the mutations of
 * `mutate.ts` aim at (page headers and the footer of a Parquet file, message prefixes, metadata
 * and blocks of an Arrow IPC file or stream, line ends of a CSV file). A file the parser here
 * cannot walk gets a generic structure (its ends only): bad corpus files are still mutated.
 */
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { parseBatchLayout, parseFooter, parseMessage, readPrefix } from '../../lib/formats/arrow/ipc-metadata.ts';
import type { Structure } from './mutate.ts';

type Field = Structure['sizeFields'][number];

function generic(n: number): Structure {
  return {
    boundaries: [0, 4, 8, n - 8, n - 4],
    sizeFields: [],
    metadata: [
      [0, Math.min(n, 16)],
      [Math.max(0, n - 16), n],
    ],
  };
}

/** Thrift compact: skips a varint at `at`, returns the offset after it. */
function skipVarint(bytes: Uint8Array, at: number): number {
  while (at < bytes.length && (bytes[at]! & 0x80) !== 0) at++;
  return at + 1;
}

/** Varint fields of a Thrift compact struct region: i32/i64 fields (short form headers) and list sizes. */
function thriftSizeFields(bytes: Uint8Array, from: number, to: number): Field[] {
  const out: Field[] = [];
  for (let i = from; i < to - 1; i++) {
    const b = bytes[i]!;
    const type = b & 0x0f;
    const delta = b >> 4;
    if (delta >= 1 && delta <= 4 && (type === 5 || type === 6)) out.push({ offset: i + 1, kind: 'varint' });
    if (type === 9 && b >> 4 === 0x0f) out.push({ offset: i + 1, kind: 'varint' });
  }
  return out;
}

/** Structure of a Parquet file: magic, footer (length and Thrift fields), column chunks, page headers. */
export function parquetStructure(bytes: Uint8Array): Structure {
  const n = bytes.length;
  const base = generic(n);
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, n);
    const footerLength = view.getUint32(n - 8, true);
    const footerStart = n - 8 - footerLength;
    const boundaries = [...base.boundaries, footerStart];
    const sizeFields: Field[] = [{ offset: n - 8, kind: 'int32' }, ...thriftSizeFields(bytes, footerStart, n - 8)];
    const metadata: [number, number][] = [[footerStart, n - 8]];
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n) as ArrayBuffer);
    for (const group of meta.row_groups) {
      for (const chunk of group.columns) {
        const m = chunk.meta_data;
        if (!m) continue;
        const start = Number(m.dictionary_page_offset || m.data_page_offset);
        const end = start + Number(m.total_compressed_size);
        boundaries.push(start, end);
        for (let pos = start, pages = 0; pos < end - 1 && pages < 64; pages++) {
          const reader = { view: new DataView(bytes.buffer, bytes.byteOffset + pos, end - pos), offset: 0 };
          const header = parquetHeader(reader);
          metadata.push([pos, pos + reader.offset]);
          boundaries.push(pos + reader.offset);
          // page header: field 1 type, field 2 uncompressed size, field 3 compressed size (i32 varints)
          let at = pos;
          if (bytes[at] === 0x15) {
            at = skipVarint(bytes, at + 1);
            if (bytes[at] === 0x15) {
              sizeFields.push({ offset: at + 1, kind: 'varint' });
              at = skipVarint(bytes, at + 1);
              if (bytes[at] === 0x15) sizeFields.push({ offset: at + 1, kind: 'varint' });
            }
          }
          sizeFields.push(...thriftSizeFields(bytes, pos, pos + reader.offset));
          pos += reader.offset + header.compressed_page_size;
          boundaries.push(pos);
        }
      }
    }
    return { boundaries, sizeFields, metadata };
  } catch {
    return base;
  }
}

/** int64 candidates of a flatbuffer region (its 8-byte aligned words), and its int32 words. */
function flatbufferFields(from: number, to: number): Field[] {
  const out: Field[] = [];
  for (let i = from; i + 8 <= to; i += 8) out.push({ offset: i, kind: 'int64' }, { offset: i + 4, kind: 'int32' });
  return out;
}

/** Structure of an Arrow IPC file or stream: message prefixes, metadata flatbuffers, bodies, footer. */
export function arrowStructure(bytes: Uint8Array, format: 'file' | 'stream'): Structure {
  const n = bytes.length;
  const base = generic(n);
  const boundaries = [...base.boundaries];
  const sizeFields: Field[] = [];
  const metadata: [number, number][] = [];
  const message = (pos: number): number => {
    const { metadataLength, prefix } = readPrefix(bytes.subarray(pos, pos + 8));
    sizeFields.push({ offset: pos + prefix - 4, kind: 'int32' });
    boundaries.push(pos + prefix, pos + prefix + metadataLength);
    if (metadataLength === 0) return 0;
    const from = pos + prefix;
    metadata.push([from, from + metadataLength]);
    sizeFields.push(...flatbufferFields(from, from + metadataLength));
    const info = parseMessage(bytes.subarray(from, from + metadataLength));
    boundaries.push(from + metadataLength + info.bodyLength);
    // a compressed buffer's int64 uncompressed length (zstd or LZ4): what a decoder must not trust
    if (info.compressed) {
      const body = from + metadataLength;
      for (const buffer of parseBatchLayout(bytes.subarray(from, from + metadataLength))?.buffers ?? [])
        if (buffer.length >= 8) sizeFields.push({ offset: body + buffer.offset, kind: 'int64' });
    }
    return prefix + metadataLength + info.bodyLength;
  };
  try {
    if (format === 'stream') {
      for (let pos = 0, k = 0; pos < n - 4 && k < 256; k++) {
        const step = message(pos);
        if (step === 0) break;
        pos += step;
      }
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, n);
      const footerLength = view.getInt32(n - 10, true);
      const footerStart = n - 10 - footerLength;
      sizeFields.push({ offset: n - 10, kind: 'int32' }, ...flatbufferFields(footerStart, n - 10));
      metadata.push([footerStart, n - 10]);
      boundaries.push(footerStart);
      message(8);
      const footer = parseFooter(bytes.subarray(footerStart, n - 10));
      for (const block of [...footer.dictionaries, ...footer.recordBatches]) {
        boundaries.push(block.offset);
        message(block.offset);
      }
    }
  } catch {
    // a bad corpus file: whatever was found before the parse failed
  }
  return { boundaries, sizeFields, metadata: metadata.length > 0 ? metadata : base.metadata };
}

/** Structure of a CSV file: line ends (cuts inside records and quoted fields) and the header line. */
export function csvStructure(bytes: Uint8Array): Structure {
  const boundaries: number[] = [0];
  for (let i = 0; i < bytes.length && boundaries.length < 512; i++)
    if (bytes[i] === 10 || bytes[i] === 34) boundaries.push(i, i + 1);
  const firstLine = bytes.indexOf(10);
  return { boundaries, sizeFields: [], metadata: [[0, firstLine < 0 ? Math.min(bytes.length, 64) : firstLine]] };
}

/** zstd blocks: the 3-byte header of each block of the first frame (a size a decoder reads), at most 64. */
function zstdBlocks(bytes: Uint8Array): number[] {
  const descriptor = bytes[4]!;
  const single = (descriptor >> 5) & 1;
  const contentSize = [single, 2, 4, 8][descriptor >> 6]!;
  let at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]! + contentSize;
  const headers: number[] = [];
  while (at + 3 <= bytes.length && headers.length < 64) {
    headers.push(at);
    const header = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
    const type = (header >> 1) & 3;
    at += 3 + (type === 1 ? 1 : header >> 3);
    if (header & 1) break;
  }
  return headers;
}

/**
 * Structure of a gzip or zstd file: its header and trailer (gzip: the CRC-32 and the stated
 * length of the data, written over with absurd values), and zstd's block headers (their sizes).
 */
export function compressedStructure(bytes: Uint8Array, codec: 'gzip' | 'zstd'): Structure {
  const n = bytes.length;
  if (codec === 'gzip' && n >= 18)
    return {
      boundaries: [10, n - 8, n - 4],
      sizeFields: [{ offset: n - 4, kind: 'int32' }],
      metadata: [
        [0, 10],
        [n - 8, n],
      ],
    };
  if (codec === 'zstd' && n >= 8) {
    const blocks = zstdBlocks(bytes);
    return {
      boundaries: [4, ...blocks, ...blocks.map((b) => b + 3)],
      sizeFields: blocks.map((offset) => ({ offset, kind: 'int32' as const })),
      metadata: [[0, blocks[0] ?? Math.min(n, 16)], ...blocks.map((b): [number, number] => [b, b + 3])],
    };
  }
  return generic(n);
}
