/**
 * What a data page's bytes can encode, counted before anything is sized from its header's
 * `num_values` (issue 19). Level arrays, index arrays and value arrays were allocated from that
 * claim, so a 200-byte page claiming 30 million values cost hundreds of MB before its decoder
 * noticed the bytes end. Here the run headers of every level, index and delta stream are walked
 * (nothing is decoded or allocated), and fixed-width values are counted against the bytes left:
 * a claim the bytes cannot back throws before the caller allocates. Claims that RLE runs do back
 * (millions of nulls in a few bytes) are real data, bounded by `maxNestedPageValues` and the chunk.
 */
import type { DataPageHeader, Encoding, PageHeader, ParquetType } from 'hyparquet';
import type { DataPageHeaderV2 } from 'hyparquet/src/types.js';
import { bitWidthOf } from './levels.ts';

/** What the run headers of an RLE / bit-packed hybrid stream encode. */
export interface HybridScan {
  /** Values the runs encode, counted up to the number asked for. */
  readonly total: number;
  /** Of those, how many equal the value asked about. */
  readonly matching: number;
  /** How far the last RLE run reaches past the values asked for (hyparquet writes them all). */
  readonly overrun: number;
}

/** A page's level and value layout, as its column gives it. */
export interface PageShape {
  readonly maxRep: number;
  readonly maxDef: number;
  readonly type: ParquetType;
  /** FIXED_LEN_BYTE_ARRAY width. */
  readonly typeLength?: number | undefined;
}

/** Reads a ULEB128 varint at `p` (at most 10 bytes); undefined when it passes `end`. */
function varint(bytes: Uint8Array, p: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (p >= end) return undefined;
    const b = bytes[p++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: p };
  }
  return undefined;
}

/** Set bits of each byte value. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

/** How many of the `take` `width`-bit values packed from `bytes[p]` on equal `value`. */
function countPacked(bytes: Uint8Array, p: number, width: number, take: number, value: number): number {
  if (width === 1) {
    // one bit a value (the definition levels of most optional columns): a popcount
    let ones = 0;
    const whole = take >> 3;
    for (let i = 0; i < whole; i++) ones += POPCOUNT[bytes[p + i]!]!;
    if (take & 7) ones += POPCOUNT[bytes[p + whole]! & ((1 << (take & 7)) - 1)]!;
    return value === 1 ? ones : value === 0 ? take - ones : 0;
  }
  let n = 0;
  let buffer = 0;
  let bits = 0;
  // arithmetic, not bitwise: up to 32 + 7 bits are held
  for (let i = 0; i < take; i++) {
    while (bits < width) {
      buffer += bytes[p++]! * 2 ** bits;
      bits += 8;
    }
    const v = buffer % 2 ** width;
    buffer = Math.floor(buffer / 2 ** width);
    bits -= width;
    if (v === value) n++;
  }
  return n;
}

/**
 * Walks the run headers of the hybrid stream `bytes[start, end)` of `width`-bit values, until
 * `want` values are counted or the stream ends. Only RLE run values are read, and bit-packed
 * values when `value` is asked about (a page's definition levels: how many values it has).
 * @param value the value counted in {@link HybridScan.matching}
 */
export function scanHybrid(
  bytes: Uint8Array,
  start: number,
  end: number,
  width: number,
  want: number,
  value = -1,
): HybridScan {
  // width 0: every value is 0 and nothing is stored
  if (width === 0) return { total: want, matching: value === 0 ? want : 0, overrun: 0 };
  const valueBytes = (width + 7) >> 3;
  let p = start;
  let total = 0;
  let matching = 0;
  let overrun = 0;
  while (total < want && p < end) {
    const header = varint(bytes, p, end);
    if (!header) break;
    p = header.next;
    if (header.value % 2 === 0) {
      if (p + valueBytes > end) break;
      let v = 0;
      for (let i = 0; i < valueBytes; i++) v += bytes[p + i]! * 2 ** (8 * i);
      p += valueBytes;
      const take = Math.min(header.value / 2, want - total);
      overrun = header.value / 2 - take;
      total += take;
      if (v === value) matching += take;
    } else {
      const groups = Math.floor(header.value / 2);
      const take = Math.min(groups * 8, want - total);
      // the last bit-packed run may stop after the values it needs
      if (p + Math.ceil((take * width) / 8) > end) break;
      if (value >= 0) matching += countPacked(bytes, p, width, take, value);
      overrun = 0;
      total += take;
      p += groups * width;
    }
  }
  return { total, matching, overrun };
}

/**
 * Throws when `scan` found fewer than `want` values, or a last RLE run reaching far past them:
 * hyparquet's run decoder writes a whole run into a JS array, so a run header claiming 2^31
 * values in a page of 3 grew an array to gigabytes. A run a little past the end is tolerated.
 */
export function checkScan(scan: HybridScan, want: number, what: string): void {
  if (scan.total < want) throw new Error(`${what} encode ${scan.total} of the ${want} values the page claims`);
  if (scan.overrun > Math.max(1024, want))
    throw new Error(`a run of ${what} reaches ${scan.overrun} values past the ${want} the page claims`);
}

/**
 * Walks the block headers of a DELTA_BINARY_PACKED stream from `bytes[at]`, counting the values
 * it encodes up to `want` (the bytes each miniblock needs are skipped, not decoded).
 * @throws Error for a header no writer produces
 */
export function scanDelta(bytes: Uint8Array, at: number, end: number, want: number): number {
  const block = varint(bytes, at, end);
  const mini = block && varint(bytes, block.next, end);
  const declared = mini && varint(bytes, mini.next, end);
  const first = declared && varint(bytes, declared.next, end);
  if (!block || !mini || !declared || !first) return 0;
  if (block.value === 0 || mini.value === 0 || block.value % mini.value !== 0 || (block.value / mini.value) % 8 !== 0)
    throw new Error(`delta header declares blocks of ${block.value} values in ${mini.value} miniblocks`);
  const perMini = block.value / mini.value;
  let left = Math.min(declared.value, want);
  let count = left > 0 ? 1 : 0;
  left -= count;
  let p = first.next;
  while (left > 0) {
    const minDelta = varint(bytes, p, end);
    if (!minDelta || minDelta.next + mini.value > end) break;
    const widths = minDelta.next;
    p = widths + mini.value;
    for (let m = 0; m < mini.value && left > 0; m++) {
      const take = Math.min(perMini, left);
      const need = Math.ceil((take * bytes[widths + m]!) / 8);
      if (p + need > end) return count;
      p += take === perMini ? (perMini * bytes[widths + m]!) / 8 : need;
      count += take;
      left -= take;
    }
  }
  return count;
}

function fixedWidth(type: ParquetType, typeLength: number | undefined): number {
  switch (type) {
    case 'INT32':
    case 'FLOAT':
      return 4;
    case 'INT64':
    case 'DOUBLE':
      return 8;
    case 'INT96':
      return 12;
    case 'FIXED_LEN_BYTE_ARRAY':
      return typeLength ?? 0;
    default:
      return 0;
  }
}

/** The physical types each value encoding may store (the Parquet format's Encodings.md). */
const ENCODING_TYPES: Partial<Record<Encoding, readonly ParquetType[]>> = {
  RLE: ['BOOLEAN'],
  BIT_PACKED: [],
  DELTA_BINARY_PACKED: ['INT32', 'INT64'],
  DELTA_LENGTH_BYTE_ARRAY: ['BYTE_ARRAY'],
  DELTA_BYTE_ARRAY: ['BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'],
  BYTE_STREAM_SPLIT: ['FLOAT', 'DOUBLE', 'INT32', 'INT64', 'FIXED_LEN_BYTE_ARRAY'],
};

/**
 * Throws when a data page stores `type` values in an encoding the format does not define for that
 * type (checked with the values' size, before any decoding: {@link checkValuesFit}). parquetjs-lite writes INT32 pages as `RLE` with a bit width the file does not record;
 * hyparquet took them for dictionary indices without a dictionary, and 1, 2, 3 were read as
 * true, false, false (rows) or 1, 0, 0 (Arrow), silently. DuckDB refuses them too.
 */
export function checkValueEncoding(encoding: Encoding, type: ParquetType): void {
  const allowed = ENCODING_TYPES[encoding];
  if (allowed === undefined || allowed.includes(type)) return;
  throw new Error(
    allowed.length === 0
      ? `page stores its values in ${encoding} encoding, which Parquet defines for levels only: the values cannot be read`
      : `page stores ${type} values in ${encoding} encoding, which Parquet defines for ${allowed.join(', ')} values only: the writer did not record how to read them (parquetjs-lite writes such pages for \`encoding: 'RLE'\`)`,
  );
}

/**
 * Throws when `bytes[at, end)` cannot hold `n` values in `encoding`: fixed-width values need
 * their bytes, byte arrays their 4-byte lengths, index and delta streams their runs.
 */
export function checkValuesFit(
  bytes: Uint8Array,
  at: number,
  end: number,
  encoding: Encoding,
  shape: PageShape,
  n: number,
): void {
  checkValueEncoding(encoding, shape.type);
  if (n <= 0) return;
  const left = Math.max(0, end - at);
  const fail = (what: string): never => {
    throw new Error(`page claims ${n} values but its ${left} value bytes ${what}`);
  };
  const { type } = shape;
  if (encoding === 'PLAIN' || encoding === 'BYTE_STREAM_SPLIT') {
    const need =
      type === 'BOOLEAN' ? Math.ceil(n / 8) : type === 'BYTE_ARRAY' ? 4 * n : n * fixedWidth(type, shape.typeLength);
    if (need > left) fail(`hold at most ${need > 0 ? Math.floor((left * n) / need) : 0}`);
  } else if (encoding === 'RLE' && type === 'BOOLEAN') {
    checkScan(scanHybrid(bytes, at + 4, end, 1, n), n, 'boolean values');
  } else if (encoding === 'RLE' || encoding === 'RLE_DICTIONARY' || encoding === 'PLAIN_DICTIONARY') {
    if (left < 1) fail('hold no index width');
    checkScan(scanHybrid(bytes, at + 1, end, bytes[at]!, n), n, 'dictionary indices');
  } else if (
    encoding === 'DELTA_BINARY_PACKED' ||
    encoding === 'DELTA_LENGTH_BYTE_ARRAY' ||
    encoding === 'DELTA_BYTE_ARRAY'
  ) {
    // the first stream of each delta encoding holds one entry per value
    const got = scanDelta(bytes, at, end, n);
    if (got < n) fail(`encode ${got} deltas`);
  }
}

/**
 * Throws when a data page of a flat column claims more rows than its row group has: one entry of
 * a flat column is one row, so RLE levels of millions of nulls cannot belong to a group of three.
 */
export function checkFlatPageRows(header: PageHeader, groupRows: number): void {
  const entries = header.data_page_header?.num_values ?? header.data_page_header_v2?.num_rows ?? 0;
  if (entries > groupRows) throw new Error(`page claims ${entries} rows, more than the ${groupRows} of its row group`);
}

/**
 * Throws when a DICTIONARY_PAGE declares more entries than its uncompressed bytes hold PLAIN
 * (at least 4 bytes an entry for all but booleans), before hyparquet sizes the dictionary by it.
 */
export function checkDictionaryFits(header: PageHeader, type: ParquetType, typeLength: number | undefined): void {
  const n = header.dictionary_page_header?.num_values ?? 0;
  const size = Number(header.uncompressed_page_size);
  const width = type === 'BOOLEAN' ? 1 / 8 : type === 'BYTE_ARRAY' ? 4 : fixedWidth(type, typeLength);
  if (n * width > size)
    throw new Error(
      `dictionary page claims ${n} ${type} entries in ${size} bytes, which hold at most ${Math.floor(size / width)}`,
    );
}

/**
 * Checks a decompressed DATA_PAGE (v1) before its arrays are sized from `daph.num_values`:
 * each level stream must encode that many levels, and the values must fit the bytes after them.
 * @returns where the values start in `page` (after the levels)
 * @throws Error naming what the bytes cannot hold (the caller adds file and column)
 */
export function checkPageV1(page: Uint8Array, daph: DataPageHeader, shape: PageShape): number {
  const count = daph.num_values;
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  let at = 0;
  // values present: all entries without definition levels, else those at the maximum level
  let defined = count;
  const levels = [
    [shape.maxRep, daph.repetition_level_encoding, 'repetition level'],
    [shape.maxDef, daph.definition_level_encoding, 'definition level'],
  ] as const;
  for (const [max, encoding, what] of levels) {
    if (max === 0) continue;
    if (encoding !== 'RLE') {
      // (deprecated BIT_PACKED levels: the nested decoder refuses them before allocating)
      defined = 0;
      break;
    }
    if (at + 4 > page.length) throw new Error(`page ends before its ${what}s`);
    const length = view.getUint32(at, true);
    const end = Math.min(page.length, at + 4 + length);
    const scan = scanHybrid(page, at + 4, end, bitWidthOf(max), count, max);
    checkScan(scan, count, `${what}s`);
    if (what === 'definition level') defined = scan.matching;
    at = end;
  }
  checkValuesFit(page, at, page.length, daph.encoding, shape, defined);
  return at;
}

/**
 * Checks the (uncompressed) levels of a DATA_PAGE_V2 `bytes` before arrays are sized from its
 * `num_values`; the values are checked with {@link checkValuesFit} once decompressed.
 * @returns how many values the page has (its count less its nulls)
 */
export function checkLevelsV2(bytes: Uint8Array, v2: DataPageHeaderV2, shape: PageShape): number {
  const count = v2.num_values;
  const repBytes = Number(v2.repetition_levels_byte_length);
  const defBytes = Number(v2.definition_levels_byte_length);
  if (repBytes + defBytes > bytes.length) throw new Error('page levels pass the page end');
  if (shape.maxRep > 0) {
    checkScan(scanHybrid(bytes, 0, repBytes, bitWidthOf(shape.maxRep), count), count, 'repetition levels');
  }
  if (shape.maxDef > 0) {
    // (the header's null count says how many values there are; hyparquet sizes by it)
    const def = scanHybrid(bytes, repBytes, repBytes + defBytes, bitWidthOf(shape.maxDef), count);
    checkScan(def, count, 'definition levels');
  }
  return count - v2.num_nulls;
}
