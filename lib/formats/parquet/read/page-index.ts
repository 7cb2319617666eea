/**
 * Reading a row group's page index (parquet-format PageIndex.md): the OffsetIndex of a column
 * chunk (where each data page is and its first row) and its ColumnIndex (per-page null flags,
 * null counts and min/max). Both are read with as few reads as possible (neighbouring index
 * structures in one read) and parsed defensively: an index that is missing, inconsistent or fails
 * to parse is treated as absent, so the chunk is read as if the file had none.
 */
import { convertMetadata } from 'hyparquet/src/metadata.js';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import type { ColumnChunk, ParquetParsers, SchemaElement } from 'hyparquet';
import type { FileBuffer } from '../fileBuffer.ts';
import type { ColumnPages } from './page-filter.ts';

/** One data page of a chunk, from its OffsetIndex. */
export interface PageLocation {
  readonly offset: number;
  /** Compressed size, page header included. */
  readonly size: number;
  readonly firstRow: number;
}

/** Index structures closer than this are fetched in one read. */
const MERGE_GAP = 64 << 10;
/** A page index claiming more than this is not read (corrupt footers). */
const MAX_INDEX_BYTES = 64 << 20;

/** A byte range of the file: [offset, offset + length). */
export interface IndexRange {
  readonly offset: number;
  readonly length: number;
}

/** The range of a chunk's OffsetIndex or ColumnIndex, when its footer entry is sane. */
export function indexRange(chunk: ColumnChunk, kind: 'offset' | 'column', fileBytes: number): IndexRange | undefined {
  const offset = Number(kind === 'offset' ? chunk.offset_index_offset : chunk.column_index_offset);
  const length = Number(kind === 'offset' ? chunk.offset_index_length : chunk.column_index_length);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 4 || length <= 0) return undefined;
  if (length > MAX_INDEX_BYTES || offset + length > fileBytes - 8) return undefined;
  return { offset, length };
}

/** Reads `ranges` (any order), merging neighbours into one read; the bytes of each, in the same order. */
export async function readRanges(file: FileBuffer, ranges: readonly IndexRange[]): Promise<Uint8Array[]> {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.offset - ranges[b]!.offset);
  const out = new Array<Uint8Array>(ranges.length);
  let k = 0;
  while (k < order.length) {
    const first = ranges[order[k]!]!;
    let end = first.offset + first.length;
    let j = k + 1;
    while (j < order.length && ranges[order[j]!]!.offset <= end + MERGE_GAP) {
      const r = ranges[order[j]!]!;
      end = Math.max(end, r.offset + r.length);
      j++;
    }
    const bytes = new Uint8Array(await file.slice(first.offset, end));
    for (let i = k; i < j; i++) {
      const r = ranges[order[i]!]!;
      out[order[i]!] = bytes.subarray(r.offset - first.offset, r.offset - first.offset + r.length);
    }
    k = j;
  }
  return out;
}

function reader(bytes: Uint8Array): { view: DataView; offset: number } {
  return { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
}

/**
 * The page locations of an OffsetIndex, or undefined when it cannot be trusted: first rows must
 * start at 0 and increase below `groupRows`, pages must lie inside the chunk's bytes, in order.
 */
export function parseOffsetIndex(
  bytes: Uint8Array,
  groupRows: number,
  chunkStart: number,
  chunkEnd: number,
): PageLocation[] | undefined {
  try {
    const raw = deserializeTCompactProtocol(reader(bytes)).field_1 as unknown;
    if (!Array.isArray(raw) || raw.length === 0) return undefined;
    const pages: PageLocation[] = [];
    let previous: PageLocation | undefined;
    for (const loc of raw as Record<string, unknown>[]) {
      const page = { offset: Number(loc.field_1), size: Number(loc.field_2), firstRow: Number(loc.field_3) };
      if (![page.offset, page.size, page.firstRow].every(Number.isSafeInteger) || page.size <= 0) return undefined;
      if (page.offset < chunkStart || page.offset + page.size > chunkEnd || page.firstRow >= groupRows)
        return undefined;
      if (previous === undefined ? page.firstRow !== 0 : page.firstRow <= previous.firstRow) return undefined;
      if (previous !== undefined && page.offset < previous.offset + previous.size) return undefined;
      pages.push(page);
      previous = page;
    }
    return pages;
  } catch {
    return undefined;
  }
}

/**
 * A ColumnIndex as {@link ColumnPages} (first rows from the chunk's OffsetIndex), min/max typed
 * as footer statistics (`parsers`); undefined when it cannot be parsed or does not match the
 * OffsetIndex. A bound that fails to decode is left unknown.
 */
export function parseColumnIndex(
  bytes: Uint8Array,
  element: SchemaElement,
  parsers: Partial<ParquetParsers>,
  pages: readonly PageLocation[],
): ColumnPages | undefined {
  let raw: Record<string, unknown>;
  try {
    raw = deserializeTCompactProtocol(reader(bytes));
  } catch {
    return undefined;
  }
  const n = pages.length;
  const nullPages = raw.field_1;
  const mins = raw.field_2;
  const maxs = raw.field_3;
  const counts = raw.field_5;
  if (!Array.isArray(nullPages) || !Array.isArray(mins) || !Array.isArray(maxs)) return undefined;
  if (nullPages.length !== n || mins.length !== n || maxs.length !== n) return undefined;
  const all = { ...DEFAULT_PARSERS, ...parsers };
  const decode = (v: unknown, isNull: boolean): unknown => {
    if (isNull || !(v instanceof Uint8Array)) return undefined;
    try {
      return convertMetadata(v, element, all);
    } catch {
      return undefined;
    }
  };
  return {
    firstRows: pages.map((p) => p.firstRow),
    nullPages: nullPages.map((v) => v === true),
    nullCounts:
      Array.isArray(counts) && counts.length === n
        ? counts.map((c) => (typeof c === 'bigint' || typeof c === 'number' ? Number(c) : Number.NaN))
        : undefined,
    mins: mins.map((v, i) => decode(v, nullPages[i] === true)),
    maxs: maxs.map((v, i) => decode(v, nullPages[i] === true)),
  };
}
