/**
 * Splits a buffered column chunk into DataPage V1 pages of about `pageBytes` uncompressed bytes:
 * definition levels (OPTIONAL columns: RLE/bit-packed hybrid, 4-byte length prefix) then the
 * values, PLAIN or dictionary indices (bit width byte + hybrid). A dictionary chunk starts with
 * its PLAIN dictionary page. Page headers are written later, once the compressed size is known.
 */
import { Bytes } from './bytes.ts';
import type { ColumnBuffer } from './column-buffer.ts';
import { buildDictionary, type Dictionary } from './dictionary.ts';
import { bitWidth, encodeDefinitionLevels, encodeHybrid } from './rle.ts';
import { bytesMinMax, fixedStatistics, type ChunkStatistics } from './statistics.ts';
import { widthOf } from './schema.ts';
import { alignToRecords, encodeNestedLevels, recordsBefore } from './levels.ts';

/** Thrift Encoding ids. */
export const Encoding = { PLAIN: 0, PLAIN_DICTIONARY: 2, RLE: 3 } as const;
/** Thrift PageType ids. */
export const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

/** One page before compression. */
export interface RawPage {
  type: number;
  /** Values in the page (data pages: rows, nulls included; dictionary pages: entries). */
  numValues: number;
  /** Encoding of the values. */
  encoding: number;
  body: Uint8Array;
  /** Data pages: rows (records) in the chunk before this page (a page holds whole rows). */
  firstRow?: number;
}

/** A column chunk's pages and statistics. */
export interface RawChunk {
  pages: RawPage[];
  statistics: ChunkStatistics;
  numValues: number;
  /** Encodings used, for the column metadata. */
  encodings: number[];
  hasDictionary: boolean;
}

/** Default uncompressed size of a page. */
export const DEFAULT_PAGE_BYTES = 1 << 20;

/**
 * Encodes the buffered rows of `col` into pages (the column is left as it is). `statistics`
 * false: a PLAIN chunk gets only its null count, its min/max left to the caller (encoded-chunk.ts
 * takes them from the page index's statistics rather than pass over every value twice).
 */
export function encodeChunk(col: ColumnBuffer, pageBytes = DEFAULT_PAGE_BYTES, statistics = true): RawChunk {
  const dict = col.storage === 'bytes' && col.kind === 'string' && col.n > col.nulls ? buildDictionary(col) : undefined;
  if (dict !== undefined) return dictionaryChunk(col, dict, pageBytes);
  const pages: RawPage[] = [];
  const n = col.n;
  const ranges = atRecords(
    col,
    col.storage === 'bytes'
      ? byteRanges(col, pageBytes)
      : fixedRanges(n, Math.max(1, Math.floor(pageBytes / widthOf(col.storage)))),
  );
  const firstRows = recordsBefore(ranges, col.levels);
  for (let r = 0; r + 1 < ranges.length; r++)
    pages.push({ ...plainPage(col, ranges[r]!, ranges[r + 1]!), firstRow: firstRows[r]! });
  return {
    pages,
    statistics: statistics ? fixedStatistics(col) : { nullCount: col.nulls },
    numValues: n,
    encodings: col.nullable ? [Encoding.PLAIN, Encoding.RLE] : [Encoding.PLAIN],
    hasDictionary: false,
  };
}

/** Page boundaries of a nested leaf moved to record starts (flat columns: as they are). */
function atRecords(col: ColumnBuffer, ranges: number[]): number[] {
  return col.levels === undefined ? ranges : alignToRecords(ranges, col.levels);
}

function fixedRanges(n: number, perPage: number): number[] {
  const ranges = [0];
  for (let at = perPage; at < n; at += perPage) ranges.push(at);
  ranges.push(n);
  return ranges;
}

function byteRanges(col: ColumnBuffer, pageBytes: number): number[] {
  const ranges = [0];
  const offsets = col.offsets;
  let start = 0;
  for (let i = 0; i < col.n; i++) {
    if (offsets[i + 1]! - offsets[start]! + 4 * (i + 1 - start) >= pageBytes) {
      ranges.push(i + 1);
      start = i + 1;
    }
  }
  if (ranges[ranges.length - 1] !== col.n || col.n === 0) ranges.push(col.n);
  return ranges;
}

function nullsIn(defs: Uint8Array, start: number, end: number): number {
  let nulls = 0;
  for (let i = start; i < end; i++) nulls += 1 - defs[i]!;
  return nulls;
}

function levels(out: Bytes, col: ColumnBuffer, start: number, end: number): number {
  if (!col.nullable) return 0;
  const nulls = col.nulls === 0 ? 0 : nullsIn(col.defs, start, end);
  if (col.levels !== undefined) {
    encodeNestedLevels(out, col.levels, start, end);
    return nulls;
  }
  encodeDefinitionLevels(out, col.defs, start, end, nulls);
  return nulls;
}

function plainPage(col: ColumnBuffer, start: number, end: number): RawPage {
  const count = end - start;
  const w = widthOf(col.storage);
  const estimate = col.storage === 'bytes' ? col.offsets[end]! - col.offsets[start]! + 4 * count : count * w;
  const out = new Bytes(estimate + 64);
  const nulls = levels(out, col, start, end);
  const defs = nulls > 0 ? col.defs : undefined;
  switch (col.storage) {
    case 'bytes':
      plainBytes(out, col, start, end, defs);
      break;
    case 'bool':
      plainBooleans(out, col.bool, start, end, defs);
      break;
    default: {
      const a =
        col.storage === 'i32' ? col.i32 : col.storage === 'i64' ? col.i64 : col.storage === 'f32' ? col.f32 : col.f64;
      if (defs === undefined) out.bytes(new Uint8Array(a.buffer, a.byteOffset + start * w, count * w));
      else {
        // gather the non-null values (same element type), then copy their bytes
        const dense = new (a.constructor as new (n: number) => typeof a)(count - nulls);
        let j = 0;
        for (let i = start; i < end; i++) if (defs[i] === 1) (dense as Float64Array)[j++] = (a as Float64Array)[i]!;
        out.bytes(new Uint8Array(dense.buffer, 0, dense.byteLength));
      }
    }
  }
  return { type: PageType.DATA_PAGE, numValues: count, encoding: Encoding.PLAIN, body: out.result() };
}

function plainBytes(out: Bytes, col: ColumnBuffer, start: number, end: number, defs: Uint8Array | undefined): void {
  const offsets = col.offsets;
  const data = col.data;
  out.reserve(offsets[end]! - offsets[start]! + 4 * (end - start));
  const buf = out.buf;
  let at = out.length;
  for (let i = start; i < end; i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    const len = e - s;
    buf[at] = len & 0xff;
    buf[at + 1] = (len >> 8) & 0xff;
    buf[at + 2] = (len >> 16) & 0xff;
    buf[at + 3] = len >>> 24;
    at += 4;
    if (len < 48) for (let p = s; p < e; p++) buf[at++] = data[p]!;
    else {
      data.copy(buf, at, s, e);
      at += len;
    }
  }
  out.length = at;
}

function plainBooleans(out: Bytes, values: Uint8Array, start: number, end: number, defs: Uint8Array | undefined): void {
  out.reserve(((end - start) >> 3) + 1);
  const buf = out.buf;
  let at = out.length;
  let acc = 0;
  let bits = 0;
  for (let i = start; i < end; i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    acc |= values[i]! << bits;
    if (++bits === 8) {
      buf[at++] = acc;
      acc = 0;
      bits = 0;
    }
  }
  if (bits > 0) buf[at++] = acc;
  out.length = at;
}

function dictionaryChunk(col: ColumnBuffer, dict: Dictionary, pageBytes: number): RawChunk {
  const data = col.data;
  const dictPage = new Bytes(dict.plainBytes + 16);
  for (let k = 0; k < dict.count; k++) {
    dictPage.u32(dict.ends[k]! - dict.starts[k]!);
    dictPage.bytes(data, dict.starts[k]!, dict.ends[k]!);
  }
  const pages: RawPage[] = [
    {
      type: PageType.DICTIONARY_PAGE,
      numValues: dict.count,
      encoding: Encoding.PLAIN_DICTIONARY,
      body: dictPage.result(),
    },
  ];
  const width = Math.max(1, bitWidth(dict.count - 1));
  const perPage = Math.max(1024, Math.min(1 << 19, Math.floor((pageBytes * 8) / width)));
  const ranges = atRecords(col, fixedRanges(col.n, perPage));
  const firstRows = recordsBefore(ranges, col.levels);
  let j = 0;
  for (let r = 0; r + 1 < ranges.length; r++) {
    const start = ranges[r]!;
    const end = ranges[r + 1]!;
    const out = new Bytes(((end - start) * width) / 8 + 64);
    const nulls = levels(out, col, start, end);
    const values = end - start - nulls;
    out.byte(width);
    encodeHybrid(out, dict.indices, j, j + values, width);
    j += values;
    pages.push({
      type: PageType.DATA_PAGE,
      numValues: end - start,
      encoding: Encoding.PLAIN_DICTIONARY,
      body: out.result(),
      firstRow: firstRows[r]!,
    });
  }
  // min/max over the distinct values only
  const offsets = new Int32Array(2 * dict.count);
  const entries = new Int32Array(dict.count + 1);
  let total = 0;
  for (let k = 0; k < dict.count; k++) {
    offsets[k] = total;
    total += dict.ends[k]! - dict.starts[k]!;
  }
  const flat = new Uint8Array(total);
  for (let k = 0; k < dict.count; k++) {
    flat.set(data.subarray(dict.starts[k]!, dict.ends[k]!), offsets[k]!);
    entries[k] = offsets[k]!;
  }
  entries[dict.count] = total;
  return {
    pages,
    statistics: { nullCount: col.nulls, ...bytesMinMax(flat, entries, dict.count, undefined) },
    numValues: col.n,
    encodings: col.nullable ? [Encoding.PLAIN_DICTIONARY, Encoding.RLE] : [Encoding.PLAIN_DICTIONARY],
    hasDictionary: true,
  };
}
