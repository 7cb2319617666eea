/**
 * Decodes one data page (v1 or v2) of a nested leaf into compact arrays: repetition and
 * definition levels as bytes (`levels.ts`), values as hyparquet's value decoders give them
 * (typed arrays for numbers), and dictionary-encoded values as an Int32Array of indices beside
 * the dictionary, looked up only when a row is assembled. No row is built here: rows are
 * assembled a batch at a time (`assemble.ts`), so a page of millions of values costs a few bytes
 * a value, not the 80 of nested JS arrays.
 */
import { decompressPage } from 'hyparquet/src/datapage.js';
import { convert } from 'hyparquet/src/convert.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { byteStreamSplit } from 'hyparquet/src/encoding.js';
import { deltaBinaryUnpack, deltaByteArray, deltaLengthByteArray } from 'hyparquet/src/delta.js';
import type { DecodedArray, Encoding, PageHeader } from 'hyparquet';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { UnsupportedError } from '../../../core/errors.ts';
import { bitWidthOf, decodeHybrid, levelArray } from './levels.ts';
import type { LevelArray } from './levels.ts';
import { checkLevelsV2, checkPageV1, checkValuesFit } from './page-counts.ts';
import { fixDeltaInt32 } from './delta-int32.ts';
import type { PageShape } from './page-counts.ts';

/** One decoded page of a nested leaf. */
export interface LeafPage {
  /** Level entries (num_values). */
  readonly count: number;
  /** Repetition levels (all 0 when the leaf has none). */
  readonly rep: LevelArray;
  /** Definition levels (all 0 when the leaf has none). */
  readonly def: LevelArray;
  /** Values of the entries defined at the leaf's maximum level, or indices into `dictionary`. */
  readonly values: DecodedArray | Uint16Array;
  /** Set when `values` are dictionary indices. */
  readonly dictionary: DecodedArray | undefined;
  /** Entries that start a row (repetition level 0). */
  readonly rows: number;
}

/** What a nested leaf's pages are decoded with. */
export interface LeafLevels {
  readonly decoder: ColumnDecoder;
  readonly maxRep: number;
  readonly maxDef: number;
  /** Called on every non-dictionary page's values (64-bit narrowing). */
  readonly shape?: (values: DecodedArray) => DecodedArray;
}

const DICTIONARY: ReadonlySet<Encoding> = new Set(['PLAIN_DICTIONARY', 'RLE_DICTIONARY']);

function shapeOf(leaf: LeafLevels): PageShape {
  const { type, element } = leaf.decoder;
  return { maxRep: leaf.maxRep, maxDef: leaf.maxDef, type, typeLength: element.type_length };
}

function readerAt(bytes: Uint8Array, offset: number): { view: DataView; offset: number } {
  return { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset };
}

/** Decodes `n` values stored from `bytes[at]` on in `encoding`. */
function decodeValues(
  bytes: Uint8Array,
  at: number,
  encoding: Encoding,
  n: number,
  leaf: LeafLevels,
  dictionary: DecodedArray | undefined,
): { values: DecodedArray | Uint16Array; dictionary: DecodedArray | undefined } {
  const { type, element } = leaf.decoder;
  const shape = leaf.shape ?? ((v: DecodedArray) => v);
  if (DICTIONARY.has(encoding) || (encoding === 'RLE' && type !== 'BOOLEAN')) {
    if (!dictionary) throw new Error('dictionary-encoded page without a dictionary page');
    // indices as narrow as the dictionary allows: a byte each for up to 256 entries
    const indices = levelArray(n, Math.max(0, dictionary.length - 1));
    if (n > 0) {
      if (at >= bytes.length) throw new Error('dictionary-encoded page without its bit width');
      decodeHybrid(bytes, at + 1, bytes.length, bytes[at]!, indices, dictionary.length - 1, 'dictionary index');
    }
    return { values: indices, dictionary };
  }
  const reader = readerAt(bytes, at);
  let raw: DecodedArray;
  if (encoding === 'PLAIN') raw = readPlain(reader, type, n, element.type_length);
  else if (encoding === 'RLE') {
    // booleans: a 4-byte length, then 1-bit runs
    if (at + 4 > bytes.length) throw new Error('boolean page ends before its length');
    const bits = new Uint8Array(n);
    decodeHybrid(bytes, at + 4, bytes.length, 1, bits, 1, 'boolean');
    raw = Array.from(bits, (b) => b === 1);
  } else if (encoding === 'BYTE_STREAM_SPLIT') raw = byteStreamSplit(reader, n, type, element.type_length);
  else if (encoding === 'DELTA_BINARY_PACKED') {
    raw = type === 'INT32' ? new Int32Array(n) : new BigInt64Array(n);
    deltaBinaryUnpack(reader, n, raw as Int32Array);
    if (raw instanceof Int32Array) fixDeltaInt32(raw, bytes, at);
  } else if (encoding === 'DELTA_LENGTH_BYTE_ARRAY' || encoding === 'DELTA_BYTE_ARRAY') {
    raw = new Array<Uint8Array>(n);
    if (encoding === 'DELTA_BYTE_ARRAY') deltaByteArray(reader, n, raw);
    else deltaLengthByteArray(reader, n, raw);
  } else {
    throw new UnsupportedError(`Unsupported Parquet encoding ${encoding} in a nested column`, {});
  }
  if (raw.length !== n) throw new Error(`page holds ${raw.length} values for ${n} defined entries`);
  return { values: shape(convert(raw, leaf.decoder)), dictionary: undefined };
}

/** Counts the entries at the maximum definition level (those with a value) and at repetition level 0. */
function tally(rep: LevelArray, def: LevelArray, maxDef: number): { defined: number; rows: number } {
  let defined = 0;
  let rows = 0;
  for (let i = 0; i < def.length; i++) {
    if (def[i] === maxDef) defined++;
    if (rep[i] === 0) rows++;
  }
  return { defined, rows };
}

/** Decodes a DATA_PAGE (v1): levels each behind a 4-byte length, then values, all compressed together. */
function pageV1(
  bytes: Uint8Array,
  header: PageHeader,
  leaf: LeafLevels,
  dictionary: DecodedArray | undefined,
): LeafPage {
  const daph = header.data_page_header;
  if (!daph) throw new Error('parquet data page header is undefined');
  const { maxRep, maxDef, decoder } = leaf;
  const count = daph.num_values;
  const page = decompressPage(bytes, Number(header.uncompressed_page_size), decoder.codec, decoder.compressors);
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  // what the bytes encode is counted before any array is sized from the header's claim
  for (const [max, encoding, what] of [
    [maxRep, daph.repetition_level_encoding, 'repetition level'],
    [maxDef, daph.definition_level_encoding, 'definition level'],
  ] as const) {
    if (max > 0 && encoding === 'BIT_PACKED')
      throw new UnsupportedError(`deprecated BIT_PACKED ${what}s are not supported`, {});
  }
  checkPageV1(page, daph, shapeOf(leaf));
  let at = 0;
  const levels = (max: number, what: string): LevelArray => {
    const out = levelArray(count, max);
    if (max === 0) return out;
    if (at + 4 > page.length) throw new Error(`page ends before its ${what}s`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > page.length) throw new Error(`${what}s of ${length} bytes pass the page end`);
    decodeHybrid(page, at, at + length, bitWidthOf(max), out, max, what);
    at += length;
    return out;
  };
  const rep = levels(maxRep, 'repetition level');
  const def = levels(maxDef, 'definition level');
  const { defined, rows } = tally(rep, def, maxDef);
  const values = decodeValues(page, at, daph.encoding, defined, leaf, dictionary);
  return { count, rep, def, rows, ...values };
}

/** Decodes a DATA_PAGE_V2: uncompressed levels of known lengths, then values (compressed or not). */
function pageV2(
  bytes: Uint8Array,
  header: PageHeader,
  leaf: LeafLevels,
  dictionary: DecodedArray | undefined,
): LeafPage {
  const daph2 = header.data_page_header_v2;
  if (!daph2) throw new Error('parquet data page header v2 is undefined');
  const { maxRep, maxDef, decoder } = leaf;
  const count = daph2.num_values;
  const repBytes = Number(daph2.repetition_levels_byte_length);
  const defBytes = Number(daph2.definition_levels_byte_length);
  const shape = shapeOf(leaf);
  // what the levels encode is counted before any array is sized from the header's claim
  checkLevelsV2(bytes, daph2, shape);
  const rep = levelArray(count, maxRep);
  const def = levelArray(count, maxDef);
  if (maxRep > 0) decodeHybrid(bytes, 0, repBytes, bitWidthOf(maxRep), rep, maxRep, 'repetition level');
  if (maxDef > 0)
    decodeHybrid(bytes, repBytes, repBytes + defBytes, bitWidthOf(maxDef), def, maxDef, 'definition level');
  // the values are what the levels define: the header's num_nulls is not checked against them
  // (Arrow C++ counts it otherwise under a list of structs; DuckDB reads those pages by their levels),
  // and the values must still fit the page (checkValuesFit below)
  const { defined, rows } = tally(rep, def, maxDef);
  let page = bytes.subarray(repBytes + defBytes);
  if (daph2.is_compressed !== false) {
    const size = Number(header.uncompressed_page_size) - repBytes - defBytes;
    page = decompressPage(page, size, decoder.codec, decoder.compressors);
  }
  checkValuesFit(page, 0, page.length, daph2.encoding, shape, defined);
  const values = decodeValues(page, 0, daph2.encoding, defined, leaf, dictionary);
  return { count, rep, def, rows, ...values };
}

/**
 * Decodes the data page `bytes` (the stored page body after its header) of a nested leaf.
 * @throws Error for a corrupt page (the caller adds file and column), UnsupportedError for an encoding not read
 */
export function readLeafPage(
  bytes: Uint8Array,
  header: PageHeader,
  leaf: LeafLevels,
  dictionary: DecodedArray | undefined,
): LeafPage {
  const page =
    header.type === 'DATA_PAGE_V2' ? pageV2(bytes, header, leaf, dictionary) : pageV1(bytes, header, leaf, dictionary);
  return leaf.maxRep > 0 ? withoutOrphans(page, repeatedDefinitionLevels(leaf.decoder)) : page;
}

/** Per leaf decoder: the definition level at which each repeated ancestor is present, by repetition level. */
const repeatedLevels = new WeakMap<ColumnDecoder, readonly number[]>();

/**
 * `at[r]` is the definition level an entry of repetition level `r` (r >= 1) needs: the level at
 * which the r-th repeated node of the leaf's path holds an element.
 */
function repeatedDefinitionLevels(decoder: ColumnDecoder): readonly number[] {
  let at = repeatedLevels.get(decoder);
  if (at) return at;
  const levels = [0];
  let def = 0;
  for (const node of decoder.schemaPath.slice(1)) {
    const repetition = node.element.repetition_type;
    if (repetition !== 'REQUIRED') def++;
    if (repetition === 'REPEATED') levels.push(def);
  }
  at = levels;
  repeatedLevels.set(decoder, at);
  return at;
}

/**
 * `page` without the entries that continue a list that holds no element (repetition level r > 0
 * with a definition level below the r-th list's). DuckDB writes a NULL fixed-size ARRAY (`INT[3]`)
 * as three such entries, one a slot; the format has one entry for a null list, and these were
 * refused ("levels that do not line up", "does not start at a row"). DuckDB reads them as one null
 * list, and so does this: such an entry is below the leaf's maximum level, so it holds no value.
 */
function withoutOrphans(page: LeafPage, at: readonly number[]): LeafPage {
  const { rep, def } = page;
  let orphans = 0;
  for (let i = 0; i < rep.length; i++) if (rep[i]! > 0 && def[i]! < at[rep[i]!]!) orphans++;
  if (orphans === 0) return page;
  const keptRep = new (rep.constructor as new (n: number) => LevelArray)(rep.length - orphans);
  const keptDef = new (def.constructor as new (n: number) => LevelArray)(def.length - orphans);
  let k = 0;
  for (let i = 0; i < rep.length; i++) {
    if (rep[i]! > 0 && def[i]! < at[rep[i]!]!) continue;
    keptRep[k] = rep[i]!;
    keptDef[k++] = def[i]!;
  }
  return { ...page, count: k, rep: keptRep, def: keptDef };
}
