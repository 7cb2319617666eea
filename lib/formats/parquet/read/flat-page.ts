/**
 * Decodes one data page of a flat column (one leaf, not repeated). hyparquet's `readPage` hands
 * every page of an OPTIONAL column to its general Dremel assembler, which builds a JS array value
 * by value even when the page has no nulls: on a DuckDB-written file that was a fifth of the read
 * time. Here a page without nulls keeps hyparquet's decoded array as it is (a typed array for
 * numbers), and a page with nulls gets them spread in one loop.
 */
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { convertWithDictionary } from 'hyparquet/src/convert.js';
import type { DecodedArray, Encoding, PageHeader } from 'hyparquet';
import type { DataPageHeaderV2 } from 'hyparquet/src/types.js';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';
import { fixDeltaInt32 } from './delta-int32.ts';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { checkLevelsV2, checkPageV1, checkValuesFit } from './page-counts.ts';
import type { PageShape } from './page-counts.ts';

/** A decoded page: its values (nulls in place), or how many rows it had when skipped whole. */
export type FlatPage = { data: DecodedArray; skipped: 0 } | { data: undefined; skipped: number };

/**
 * Decodes the data page `bytes` (the page body after its header). A page whose rows all come
 * before `skipRows` is not decompressed.
 */
export function readFlatPage(
  bytes: Uint8Array,
  header: PageHeader,
  decoder: ColumnDecoder,
  dictionary: DecodedArray | undefined,
  skipRows: number,
): FlatPage {
  let levels: number[] | undefined;
  let values: DecodedArray;
  let encoding: Encoding;
  if (header.type === 'DATA_PAGE') {
    const daph = header.data_page_header;
    if (!daph) throw new Error('parquet data page header is undefined');
    if (skipRows > daph.num_values) return { data: undefined, skipped: daph.num_values };
    const page = decompressPage(bytes, Number(header.uncompressed_page_size), decoder.codec, decoder.compressors);
    // hyparquet sizes its arrays from num_values: what the bytes encode is counted first
    const valuesAt = checkPageV1(page, daph, shapeOf(decoder));
    const decoded = readDataPage(page, daph, decoder);
    levels = decoded.definitionLevels;
    values = decoded.dataPage;
    encoding = daph.encoding;
    if (encoding === 'DELTA_BINARY_PACKED' && values instanceof Int32Array) fixDeltaInt32(values, page, valuesAt);
  } else if (header.type === 'DATA_PAGE_V2') {
    const daph2 = header.data_page_header_v2;
    if (!daph2) throw new Error('parquet data page header v2 is undefined');
    if (skipRows > daph2.num_rows) return { data: undefined, skipped: daph2.num_rows };
    const { page, plain } = checkedV2(bytes, header, daph2, decoder);
    const decoded = readDataPageV2(page, plain, decoder);
    levels = decoded.definitionLevels;
    values = decoded.dataPage;
    encoding = daph2.encoding;
    if (encoding === 'DELTA_BINARY_PACKED' && values instanceof Int32Array)
      fixDeltaInt32(values, page, daph2.repetition_levels_byte_length + daph2.definition_levels_byte_length);
  } else {
    throw new Error(`parquet page type ${header.type} is not a data page`);
  }
  const converted = convertWithDictionary(values, dictionary, encoding, decoder);
  return { data: spreadNulls(converted, levels), skipped: 0 };
}

/** A flat column's page layout: no repetition, its definition levels from the schema path. */
function shapeOf(decoder: ColumnDecoder): PageShape {
  return {
    maxRep: 0,
    maxDef: getMaxDefinitionLevel(decoder.schemaPath),
    type: decoder.type,
    typeLength: decoder.element.type_length,
  };
}

/**
 * Checks a DATA_PAGE_V2 before hyparquet sizes arrays from its num_values: levels as stored, values
 * once decompressed. A compressed page is handed on decompressed (marked so), not decompressed twice.
 */
function checkedV2(
  bytes: Uint8Array,
  header: PageHeader,
  daph2: DataPageHeaderV2,
  decoder: ColumnDecoder,
): { page: Uint8Array; plain: PageHeader } {
  const shape = shapeOf(decoder);
  const values = checkLevelsV2(bytes, daph2, shape);
  const levels = Number(daph2.repetition_levels_byte_length) + Number(daph2.definition_levels_byte_length);
  if (daph2.is_compressed === false) {
    checkValuesFit(bytes, levels, bytes.length, daph2.encoding, shape, values);
    return { page: bytes, plain: header };
  }
  const size = Number(header.uncompressed_page_size) - levels;
  const body = decompressPage(bytes.subarray(levels), size, decoder.codec, decoder.compressors);
  checkValuesFit(body, 0, body.length, daph2.encoding, shape, values);
  const page = new Uint8Array(levels + body.length);
  page.set(bytes.subarray(0, levels));
  page.set(body, levels);
  return { page, plain: { ...header, data_page_header_v2: { ...daph2, is_compressed: false } } };
}

/** Puts a null at every row whose definition level is below the maximum (1 for a flat column). */
function spreadNulls(values: DecodedArray, levels: number[] | undefined): DecodedArray {
  // no levels (a REQUIRED column), or as many values as rows: no nulls
  if (levels === undefined || levels.length === 0 || values.length === levels.length) return values;
  const out = new Array<unknown>(levels.length);
  let v = 0;
  for (let i = 0; i < levels.length; i++) out[i] = levels[i] ? values[v++] : null;
  if (v !== values.length) throw new Error(`parquet page has ${values.length} values for ${v} defined rows`);
  return out;
}
