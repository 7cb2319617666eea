/**
 * A nested column (list, map, struct, VARIANT) read page by page. Each leaf chunk has its own
 * page stream; pages are decoded one at a time into rows of that leaf (hyparquet's Dremel list
 * assembly, continuing the last row when a page starts inside it), and `take(n)` hands out the
 * first `n` complete rows of every leaf, assembled into the column's values. Memory holds, per
 * leaf, one window of raw bytes and the rows of at most one decoded page beyond the batch, not
 * the row group (which took gigabytes for a 2 MB file of nested lists). A page is decoded whole,
 * so a page of more values than `maxNestedPageValues` (DuckDB writes one page for thousands of
 * values a row) is refused with the memory it would take, instead of taking it.
 */
import { readPage } from 'hyparquet/src/column.js';
import { convert, convertWithDictionary, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { assembleLists, assembleNested } from 'hyparquet/src/assemble.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import type { PageHeader } from 'hyparquet';
import type { DecodedArray, ParquetParsers, SchemaTree } from 'hyparquet';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { FormatError, SpillwayError, UnsupportedError } from '../../../core/errors.ts';
import type { PageStream } from './pages.ts';

/**
 * 64-bit values as doubles when every one is a safe integer: the assembled lists then hold small
 * integers in place instead of one heap BigInt per value (a tenth of the memory and garbage).
 */
function narrow(values: DecodedArray): DecodedArray {
  if (!(values instanceof BigInt64Array || values instanceof BigUint64Array)) return values;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const n = Number(values[i]!);
    if (!Number.isSafeInteger(n)) return values;
    out[i] = n;
  }
  return out;
}

/** Decodes a data page of a nested leaf and appends its rows to `rows` (hyparquet's readPage, with {@link narrow}). */
function readNestedPage(
  bytes: Uint8Array,
  header: PageHeader,
  decoder: ColumnDecoder,
  dictionary: DecodedArray | undefined,
  rows: unknown[],
  narrowInt64: boolean,
): DecodedArray {
  let decoded: { definitionLevels: number[] | undefined; repetitionLevels: number[]; dataPage: DecodedArray };
  let encoding;
  if (header.type === 'DATA_PAGE') {
    const daph = header.data_page_header;
    if (!daph) throw new Error('parquet data page header is undefined');
    decoded = readDataPage(
      decompressPage(bytes, Number(header.uncompressed_page_size), decoder.codec, decoder.compressors),
      daph,
      decoder,
    );
    encoding = daph.encoding;
  } else {
    const daph2 = header.data_page_header_v2;
    if (!daph2) throw new Error('parquet data page header v2 is undefined');
    decoded = readDataPageV2(bytes, header, decoder);
    encoding = daph2.encoding;
  }
  let values = convertWithDictionary(decoded.dataPage, dictionary, encoding, decoder);
  if (narrowInt64) values = narrow(values);
  return assembleLists(rows, decoded.definitionLevels, decoded.repetitionLevels, values, decoder.schemaPath);
}

/** The rows of one leaf chunk, decoded a page at a time. */
class LeafRows {
  /** Assembled rows; the last one may continue on the next page. */
  private rows: unknown[] = [];
  /** Rows before this index were handed out. */
  private at = 0;
  private dictionary: DecodedArray | undefined;
  private done = false;

  constructor(
    private readonly pages: PageStream,
    private readonly decoder: ColumnDecoder,
    private readonly where: string,
    private readonly file: string,
    private readonly narrowInt64: boolean,
    private readonly maxPageValues: number,
  ) {}

  /** Decodes pages until more than `n` rows are held (the first `n` are then complete) or the chunk ends. */
  private async fill(n: number): Promise<void> {
    while (!this.done && this.rows.length - this.at <= n) {
      const page = await this.pages.next();
      if (!page) {
        this.done = true;
        break;
      }
      const header = page.header;
      if (header.type !== 'DATA_PAGE' && header.type !== 'DATA_PAGE_V2' && header.type !== 'DICTIONARY_PAGE') continue;
      const count = header.data_page_header?.num_values ?? header.data_page_header_v2?.num_values;
      if (header.type !== 'DICTIONARY_PAGE' && count === 0) continue;
      if (count !== undefined && count > this.maxPageValues) {
        // a page is decoded whole (levels, values, assembled lists): about 80 bytes a value
        throw new UnsupportedError(
          `Parquet ${this.where} has a nested page of ${count.toLocaleString('en-US')} values; decoding it would take about ${Math.round((count * 80) / 2 ** 20)} MB, above the bound of maxNestedPageValues = ${this.maxPageValues.toLocaleString('en-US')} (raise that option to read it)`,
          { file: this.file, byteOffset: page.offset },
        );
      }
      let result;
      try {
        const reader = {
          view: new DataView(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength),
          offset: 0,
        };
        if (header.type === 'DICTIONARY_PAGE') {
          const dict = readPage(reader, header, this.decoder, undefined, undefined, 0);
          if (dict.data) this.dictionary = convert(dict.data, this.decoder);
          continue;
        }
        result = {
          data: readNestedPage(page.bytes, header, this.decoder, this.dictionary, this.rows, this.narrowInt64),
        };
      } catch (error) {
        if (error instanceof SpillwayError) throw error;
        throw new FormatError(
          `Cannot decode Parquet page in ${this.where}: ${(error as Error).message}`,
          { file: this.file, byteOffset: page.offset },
          { cause: error },
        );
      }
      const data = result.data;
      // a leaf without levels returns its values as they are: rows, one a value
      if (data && data !== this.rows) for (let i = 0; i < data.length; i++) this.rows.push(data[i]);
    }
  }

  /** The next `n` rows. */
  async take(n: number): Promise<unknown[]> {
    await this.fill(n);
    if (this.rows.length - this.at < n) {
      throw new FormatError(`Parquet ${this.where} holds fewer values than its row group's rows`, { file: this.file });
    }
    const out = this.rows.slice(this.at, this.at + n);
    this.at += n;
    // drop handed-out rows once they are the larger part (the last row must stay in place for readPage)
    if (this.at > 4096 && this.at * 2 > this.rows.length) {
      this.rows = this.rows.slice(this.at);
      this.at = 0;
    }
    return out;
  }

  /** Throws when the chunk holds rows beyond those taken. */
  async finish(): Promise<void> {
    await this.fill(0);
    if (this.rows.length > this.at) {
      throw new FormatError(`Parquet ${this.where} holds more values than its row group's rows`, { file: this.file });
    }
  }
}

/** One leaf of a nested column: its dotted path, pages and decoder. */
export interface NestedLeaf {
  readonly path: string;
  readonly pages: PageStream;
  readonly decoder: ColumnDecoder;
}

/**
 * Reads the nested top-level column `node` (or a top-level repeated leaf) `n` rows at a time.
 * @param skip rows dropped at the start (resume inside a row group)
 * @param rows the row group's row count
 * @param narrowInt64 turn pages of safe 64-bit integers into numbers (not when bigints are asked for)
 * @param maxPageValues refuse (UnsupportedError) a page holding more values than this
 */
export function nestedCursor(
  node: SchemaTree,
  leaves: readonly NestedLeaf[],
  parsers: Partial<ParquetParsers>,
  where: string,
  file: string,
  skip: number,
  rows: number,
  narrowInt64: boolean,
  maxPageValues: number,
): { take(n: number): Promise<DecodedArray> } {
  const readers = leaves.map((l) => ({
    path: l.path,
    rows: new LeafRows(l.pages, l.decoder, where, file, narrowInt64, maxPageValues),
  }));
  const all = { ...DEFAULT_PARSERS, ...parsers };
  let delivered = 0;
  let skipped = skip === 0;

  async function next(n: number): Promise<DecodedArray> {
    const parts = await Promise.all(readers.map(async (r) => [r.path, await r.rows.take(n)] as const));
    if (node.children.length === 0) return parts[0]![1];
    const sub = new Map<string, DecodedArray>(parts);
    try {
      assembleNested(sub, node, all);
    } catch (error) {
      throw new FormatError(
        `Cannot assemble Parquet ${where}: ${(error as Error).message}`,
        { file },
        { cause: error },
      );
    }
    const values = sub.get(node.path.join('.'));
    if (!values || values.length !== n) {
      throw new FormatError(`Parquet ${where} assembled ${values?.length ?? 0} values for ${n} rows`, { file });
    }
    return values;
  }

  return {
    async take(n: number): Promise<DecodedArray> {
      if (!skipped) {
        // rows before the resume point are decoded a batch at a time and dropped
        for (let left = skip; left > 0; left -= Math.min(left, 10_000)) await next(Math.min(left, 10_000));
        skipped = true;
      }
      const values = await next(n);
      delivered += n;
      if (skip + delivered >= rows) await Promise.all(readers.map((r) => r.rows.finish()));
      return values;
    },
  };
}
