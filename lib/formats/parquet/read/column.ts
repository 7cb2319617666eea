/**
 * One top-level column of one row group, handed out `n` rows at a time.
 *
 * A flat column (one leaf, not repeated) is decoded page by page: `take(n)` decodes only the pages
 * it needs, so memory holds one window of raw bytes and at most one decoded page beyond the rows
 * asked for, whatever the row group's size. A nested column (list, map, struct) is read page by
 * page too, every leaf at once, and assembled batch by batch (`nested.ts`).
 */
import { readPage } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { isFlatColumn } from 'hyparquet/src/schema.js';
import type {
  ColumnChunk,
  ColumnMetaData,
  Compressors,
  DecodedArray,
  ParquetParsers,
  SchemaElement,
  SchemaTree,
} from 'hyparquet';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { FormatError } from '../../../core/errors.ts';
import { pageDecodeError } from './page-error.ts';
import type { FileBuffer } from '../fileBuffer.ts';
import { openPageStream } from './pages.ts';
import { readFlatPage } from './flat-page.ts';
import { checkDictionaryFits, checkFlatPageRows } from './page-counts.ts';
import { nestedCursor } from './nested.ts';
import type { PageStream } from './pages.ts';
import { chunksNamed, topColumn, treePath } from './column-index.ts';

/**
 * Default bound on the values of one nested page: a page is decoded into level and value arrays
 * of a few bytes a value (read/nested-page.ts), about 12 bytes a value at most for numbers.
 */
export const DEFAULT_MAX_NESTED_PAGE_VALUES = 32_000_000;

/** How a column's leaves are decoded. */
export interface DecodeSettings {
  readonly file: FileBuffer;
  readonly path: string;
  readonly compressors: Compressors;
  readonly parsers: Partial<ParquetParsers>;
  /** The reader's int64 mode (nested pages of safe 64-bit integers become numbers unless it is `bigint`). */
  readonly int64?: 'auto' | 'bigint' | 'number';
  /** Largest nested page decoded (values); a bigger one is refused (default {@link DEFAULT_MAX_NESTED_PAGE_VALUES}). */
  readonly maxNestedPageValues?: number;
  /** Check page CRCs (default true). */
  readonly verifyCrc?: boolean;
  /** Replaces a flat leaf's schema element and parsers (the Arrow path decodes raw values). */
  readonly raw?: { element: SchemaElement; parsers?: Partial<ParquetParsers> };
  /** The same for the leaves of a nested column, by dotted path (the Arrow path). */
  readonly rawLeaves?: ReadonlyMap<string, { element: SchemaElement; parsers?: Partial<ParquetParsers> }>;
}

/** Rows of one column, `n` at a time, in order. */
export interface ColumnCursor {
  /** The next `n` values (n >= 1); throws FormatError when the chunk holds fewer. */
  take(n: number): Promise<DecodedArray>;
}

/**
 * Byte range of a column chunk, as hyparquet computes it, checked against the file: a footer
 * without the chunk's offset or size (one flipped bit can drop both) made the page loop spin.
 */
function chunkRange(meta: ColumnMetaData, fileBytes: number, where: string, file: string): [number, number] {
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const size = Number(meta.total_compressed_size);
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(size) ||
    start < 4 ||
    size < 0 ||
    start + size > fileBytes - 8
  ) {
    throw new FormatError(
      `Parquet ${where} has an invalid column chunk (offset ${String(meta.dictionary_page_offset ?? meta.data_page_offset)}, ${String(meta.total_compressed_size)} bytes) in a ${fileBytes}-byte file`,
      { file, byteOffset: Number.isSafeInteger(start) ? start : undefined },
    );
  }
  return [start, start + size];
}

function leafDecoder(tree: SchemaTree, meta: ColumnMetaData, s: DecodeSettings, flat: boolean): ColumnDecoder {
  const schemaPath = treePath(tree, meta.path_in_schema);
  const element = schemaPath[schemaPath.length - 1]!.element;
  const raw = flat ? s.raw : s.rawLeaves?.get(meta.path_in_schema.join('.'));
  return {
    pathInSchema: meta.path_in_schema,
    element: raw ? raw.element : element,
    schemaPath,
    type: meta.type,
    codec: meta.codec,
    parsers: { ...DEFAULT_PARSERS, ...s.parsers, ...raw?.parsers },
    compressors: s.compressors,
    utf8: false,
  };
}

function readerOf(bytes: Uint8Array): { view: DataView; offset: number } {
  return { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
}

/** Copies `a[from, to)`: a view for typed arrays (no copy), a slice for arrays. */
export function sliceValues(a: DecodedArray, from: number, to: number): DecodedArray {
  if (from === 0 && to === a.length) return a;
  return Array.isArray(a) ? a.slice(from, to) : (a as Exclude<DecodedArray, unknown[]>).subarray(from, to);
}

/** Joins decoded parts into one array of `n` values (typed when every part has one type). */
export function concatValues(parts: DecodedArray[], n: number): DecodedArray {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  if (!Array.isArray(first) && parts.every((p) => p.constructor === first.constructor)) {
    const Ctor = first.constructor as new (n: number) => Exclude<DecodedArray, unknown[]>;
    const out = new Ctor(n);
    let at = 0;
    for (const p of parts) {
      (out as Float64Array).set(p as Float64Array, at);
      at += p.length;
    }
    return out;
  }
  const out = new Array<unknown>(n);
  let at = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) out[at++] = p[i];
  return out;
}

/** A flat column decoded page by page. `skip` rows at the start of the chunk are dropped. */
function flatCursor(
  pages: PageStream,
  decoder: ColumnDecoder,
  where: string,
  file: string,
  skip: number,
  rows: number,
): ColumnCursor {
  let delivered = 0;
  let dictionary: DecodedArray | undefined;
  let pending: DecodedArray | undefined;
  let pendingAt = 0;
  let toSkip = skip;

  async function nextPage(): Promise<DecodedArray | undefined> {
    for (;;) {
      const page = await pages.next();
      if (!page) return undefined;
      let result;
      try {
        if (page.header.type === 'DICTIONARY_PAGE') {
          checkDictionaryFits(page.header, decoder.type, decoder.element.type_length);
          const dict = readPage(readerOf(page.bytes), page.header, decoder, dictionary, undefined, toSkip);
          if (dict.data) dictionary = convert(dict.data, decoder);
          continue;
        }
        checkFlatPageRows(page.header, rows + skip);
        result =
          page.header.type === 'DATA_PAGE' || page.header.type === 'DATA_PAGE_V2'
            ? readFlatPage(page.bytes, page.header, decoder, dictionary, toSkip)
            : { data: undefined, skipped: 0 };
      } catch (error) {
        throw pageDecodeError(error, where, file, page.offset);
      }
      if (result.skipped) {
        toSkip -= result.skipped;
        continue;
      }
      let data = result.data;
      if (!data || data.length === 0) continue;
      if (toSkip > 0) {
        const drop = Math.min(toSkip, data.length);
        data = sliceValues(data, drop, data.length);
        toSkip -= drop;
        if (data.length === 0) continue;
      }
      return data;
    }
  }

  return {
    async take(n: number): Promise<DecodedArray> {
      const parts: DecodedArray[] = [];
      let need = n;
      while (need > 0) {
        if (!pending || pendingAt >= pending.length) {
          pending = await nextPage();
          pendingAt = 0;
          if (!pending)
            throw new FormatError(`Parquet ${where} holds fewer values than its row group's rows`, { file });
        }
        const k = Math.min(need, pending.length - pendingAt);
        parts.push(sliceValues(pending, pendingAt, pendingAt + k));
        pendingAt += k;
        need -= k;
      }
      delivered += n;
      if (pendingAt >= (pending?.length ?? 0))
        pending = undefined; // let the page go as soon as it is used up
      else if (delivered >= rows) {
        throw new FormatError(`Parquet ${where} holds more values than its row group's ${rows + skip} rows`, { file });
      }
      return concatValues(parts, n);
    },
  };
}

/**
 * Reads a column through some of its pages only (page pushdown, read/page-selection.ts): given a
 * leaf chunk's bytes, a way to open a page stream over part of them and the leaf's index among
 * the column's leaves, the pages to decode and the rows they hold (for a nested column, the same
 * rows in every leaf).
 */
export type NarrowChunk = (
  chunk: { start: number; end: number; open: (from: number, to: number) => PageStream },
  leaf: number,
) => {
  pages: PageStream;
  rows: number;
};

/**
 * Opens the cursor of top-level column `name` in a row group.
 * @param chunks the row group's column chunks
 * @param groupRows the row group's row count
 * @param skip rows to drop at the start (resume inside a row group)
 * @param narrow for a flat column, read only some pages (then `skip` must be 0)
 */
export function openColumn(
  tree: SchemaTree,
  chunks: readonly ColumnChunk[],
  name: string,
  rowGroup: number,
  groupRows: number,
  skip: number,
  s: DecodeSettings,
  narrow?: NarrowChunk,
): ColumnCursor {
  const leaves = chunksNamed(chunks, name).map((c) => c.meta_data!);
  const where = `row group ${rowGroup}, column \`${name}\``;
  const chunkOf = (meta: ColumnMetaData): Parameters<NarrowChunk>[0] => {
    const [start, end] = chunkRange(
      meta,
      s.file.byteLength,
      `row group ${rowGroup}, column \`${meta.path_in_schema.join('.')}\``,
      s.path,
    );
    const known = (n: number): number | undefined => (Number.isSafeInteger(n) && n >= 0 ? n : undefined);
    const where = {
      file: s.path,
      rowGroup,
      column: meta.path_in_schema.join('.'),
      codec: meta.codec,
      chunkValues: known(Number(meta.num_values)),
      chunkBytes: known(Number(meta.total_uncompressed_size)),
    };
    return { start, end, open: (from, to) => openPageStream(s.file, from, to, where, s.verifyCrc ?? true) };
  };
  const stream = (meta: ColumnMetaData): PageStream => {
    const chunk = chunkOf(meta);
    return chunk.open(chunk.start, chunk.end);
  };
  const first = leaves[0];
  if (!first) throw new FormatError(`Parquet ${where} has no column chunk`, { file: s.path });
  if (leaves.length === 1 && isFlatColumn(treePath(tree, first.path_in_schema))) {
    if (narrow !== undefined) {
      const { pages, rows } = narrow(chunkOf(first), 0);
      return flatCursor(pages, leafDecoder(tree, first, s, true), where, s.path, 0, rows);
    }
    return flatCursor(stream(first), leafDecoder(tree, first, s, true), where, s.path, skip, groupRows - skip);
  }
  // nested: every leaf page by page, rows assembled batch by batch (read/nested.ts)
  const node = topColumn(tree, name);
  if (!node) throw new FormatError(`Parquet ${where} is not in the schema`, { file: s.path });
  let rows = groupRows;
  const nested = leaves.map((leaf, k) => {
    let pages: PageStream;
    if (narrow === undefined) pages = stream(leaf);
    else ({ pages, rows } = narrow(chunkOf(leaf), k));
    return { path: leaf.path_in_schema.join('.'), pages, decoder: leafDecoder(tree, leaf, s, false) };
  });
  return nestedCursor(
    node,
    nested,
    where,
    s.path,
    narrow === undefined ? skip : 0,
    rows,
    s.int64 !== 'bigint',
    s.maxNestedPageValues ?? DEFAULT_MAX_NESTED_PAGE_VALUES,
    narrow !== undefined,
  );
}
