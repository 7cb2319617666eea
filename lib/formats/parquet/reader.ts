/**
 * Parquet reader: row group by row group, column chunk by column chunk, page by page, with column
 * projection, over positional file reads. hyparquet's page decoders (+ hyparquet-compressors) do
 * the decoding (`read/column.ts`); pages are fetched through a 1 MB window and CRC-checked
 * (`read/pages.ts`). Memory holds, per projected column, one window of raw bytes and one decoded
 * page beyond the current batch, nested columns (lists, maps, structs) too (`read/nested.ts`).
 * Column names are made unique (`read/names.ts`), values exact or refused (`read/values.ts`),
 * and footer statistics never stop a read (`read/footer.ts`). Rows follow the table in
 * `types.ts`, Arrow the table in `read/arrow.ts`.
 */
import { parquetSchema } from 'hyparquet';
import type { FileMetaData, RowGroup, SchemaTree } from 'hyparquet';
import { cappedCompressors as compressors } from './read/decompress.ts';
import { FormatError, UnsupportedError, ValidationError, describeValue } from '../../core/errors.ts';
import { expectColumnNames, expectInteger, expectOneOf, expectOptions } from '../../core/validate.ts';
import { readMetadata } from './read/footer.ts';
import { withUniqueNames } from './read/names.ts';
import type { RenamedColumn } from './read/names.ts';
import { stringParsers } from './read/values.ts';
import type { InvalidUtf8 } from './read/values.ts';
import { openFileBuffer } from './fileBuffer.ts';
import { isRemoteUrl, openRemoteBuffer, redactUrl } from '../../dataset/http-buffer.ts';
import type { FileBuffer } from './fileBuffer.ts';
import { describeColumns, parsers, prepareSchema } from './types.ts';
import type { Int64Mode, ParquetColumn } from './types.ts';
import { DEFAULT_MAX_NESTED_PAGE_VALUES } from './read/column.ts';
import { topColumn } from './read/column-index.ts';
import { planArrowColumn } from './read/arrow.ts';
import type { ArrowColumnPlan } from './read/arrow.ts';
import { arrowBatches, rowBatches } from './read/file-batches.ts';
import type { OpenFile, ParquetArrowBatch, ParquetBatch } from './read/file-batches.ts';
import { translateError } from './read/translate.ts';
import { emptyRecordBatch } from '../arrow/record-batch.ts';
import type { RecordBatch } from 'apache-arrow';
import type { PageFilter } from './read/page-filter.ts';

/** Options of {@link openParquet}. */
export interface ParquetReadOptions {
  /** Top-level columns to read, in this order (default: all). Unknown names are rejected. */
  columns?: readonly string[];
  /**
   * Without `columns`: read only these top-level columns, in the file's order, when the file has
   * all of them, else every column (projection pushdown, which format negotiation asks for).
   */
  projectIfPresent?: readonly string[];
  /** INT64 representation (default `'auto'`: number when safe, bigint otherwise). */
  int64?: Int64Mode;
  /** Rows per batch yielded by {@link ParquetReader.batches} (default 10000). */
  batchSize?: number;
  /**
   * Called once per row group before it is read, with the footer as parsed (statistics typed as
   * hyparquet types them); returning false skips the row group (pushdown, lib/dataset/).
   */
  rowGroupFilter?: (index: number, group: RowGroup, metadata: FileMetaData) => boolean;
  /**
   * Page-level pushdown: in each row group read, when the filter's columns have a page index,
   * only the rows the filter selects are read (the other pages are skipped; see
   * `read/page-filter.ts`). Batches then hold only those rows, and `rowStart + rows` is the row
   * after a batch's last one.
   */
  pageFilter?: PageFilter;
  /**
   * Invalid UTF-8 in a string column: `'error'` (default) refuses the file with a FormatError
   * naming the column; `'replace'` reads it with U+FFFD in place of the bad bytes.
   */
  invalidUtf8?: InvalidUtf8;
  /**
   * A nested column's page is decoded into compact level and value arrays (rows are assembled a
   * batch at a time): a page holding more values than this is refused with an UnsupportedError
   * (default 32,000,000, a few bytes a value).
   */
  maxNestedPageValues?: number;
}

export type { ParquetArrowBatch, ParquetBatch } from './read/file-batches.ts';
export { translateError } from './read/translate.ts';

/** An open Parquet file. Call {@link ParquetReader.close} when done (also after errors). */
export interface ParquetReader {
  /** The file path. */
  readonly path: string;
  /** Row count from the footer (sum of the row groups). */
  readonly numRows: number;
  /** Number of row groups. */
  readonly numRowGroups: number;
  /** Size of the file in bytes. */
  readonly byteLength: number;
  /** The columns that will be read (after projection), with unique names (see `read/names.ts`). */
  readonly columns: readonly ParquetColumn[];
  /** Bytes read from the file so far (footer, page headers and pages). */
  readonly bytesRead: number;
  /** Top-level columns renamed because their name was empty or repeated (all columns, before projection). */
  readonly renamed: readonly RenamedColumn[];
  /** True when the footer's column statistics could not be decoded and were ignored (data is unaffected). */
  readonly statisticsIgnored: boolean;
  /**
   * Yields batches of at most `batchSize` rows (never straddling a row group), from row `fromRow`
   * on (row groups before it are not read). Flat columns are decoded page by page, so memory
   * depends on the batch and page sizes, not on the row group's.
   */
  batches(fromRow?: number): AsyncIterable<ParquetBatch>;
  /** Same batches as {@link ParquetReader.batches}, as Arrow RecordBatches (no row objects). */
  recordBatches(fromRow?: number): AsyncIterable<ParquetArrowBatch>;
  /** A batch of no rows with the schema {@link ParquetReader.recordBatches} gives (for a file of no rows). */
  emptyRecordBatch(): RecordBatch;
  /**
   * The columns {@link ParquetReader.recordBatches} cannot plan, and why: a value inside a list,
   * struct or map that Arrow cannot hold as the rows path gives it (read/arrow-nested.ts). Empty
   * when every column has an Arrow form.
   */
  arrowRefusals(): { column: string; why: string }[];
  /** Closes the file. Idempotent. */
  close(): Promise<void>;
}

const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD', 'LZ4', 'LZ4_RAW']);
const ENCODINGS = new Set([
  'PLAIN',
  'PLAIN_DICTIONARY',
  'RLE_DICTIONARY',
  'RLE',
  'BIT_PACKED',
  'DELTA_BINARY_PACKED',
  'DELTA_LENGTH_BYTE_ARRAY',
  'DELTA_BYTE_ARRAY',
  'BYTE_STREAM_SPLIT',
]);

/** Rejects what hyparquet would misread or fail on late: encryption, unknown codecs/encodings. */
function checkSupported(metadata: FileMetaData, file: string, columns: ReadonlySet<string>): void {
  for (const [g, group] of metadata.row_groups.entries()) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) throw new UnsupportedError('Column chunk without metadata (encrypted columns?)', { file, batch: g });
      const top = meta.path_in_schema[0] ?? '';
      if (!columns.has(top)) continue;
      if (!CODECS.has(meta.codec)) {
        throw new UnsupportedError(
          `Unsupported Parquet compression codec ${meta.codec} in column \`${meta.path_in_schema.join('.')}\``,
          { file },
        );
      }
      for (const encoding of meta.encodings) {
        if (!ENCODINGS.has(encoding)) {
          throw new UnsupportedError(
            `Unsupported Parquet encoding ${encoding} in column \`${meta.path_in_schema.join('.')}\``,
            { file },
          );
        }
      }
    }
  }
}

/**
 * Opens a Parquet file and reads its footer. Options are validated synchronously (a bad option
 * throws a ValidationError before the file is touched).
 * @throws IoError (cannot open), FormatError (corrupt), UnsupportedError (encrypted, unknown codec...)
 */
export function openParquet(path: string, options?: ParquetReadOptions): Promise<ParquetReader> {
  const opts = expectOptions(options);
  const int64 = expectOneOf(opts.int64, 'options.int64', ['auto', 'bigint', 'number'] as const, 'auto');
  const batchSize = expectInteger(opts.batchSize, 'options.batchSize', 10_000);
  const invalidUtf8 = expectOneOf(opts.invalidUtf8, 'options.invalidUtf8', ['error', 'replace'] as const, 'error');
  const maxNestedPageValues = expectInteger(
    opts.maxNestedPageValues,
    'options.maxNestedPageValues',
    DEFAULT_MAX_NESTED_PAGE_VALUES,
  );
  expectColumnNames(opts.columns, 'options.columns');
  if (opts.rowGroupFilter !== undefined && typeof opts.rowGroupFilter !== 'function') {
    throw new ValidationError(
      `Expected \`options.rowGroupFilter\` to be a function, got ${describeValue(opts.rowGroupFilter)}`,
    );
  }
  if (opts.pageFilter !== undefined && typeof opts.pageFilter?.select !== 'function') {
    throw new ValidationError(
      `Expected \`options.pageFilter\` to be a page filter ({ columns, select, count }), got ${describeValue(opts.pageFilter)}`,
    );
  }
  return open(path, {
    wanted: opts.columns,
    maybe: opts.projectIfPresent,
    pageFilter: opts.pageFilter,
    int64,
    batchSize,
    invalidUtf8,
    maxNestedPageValues,
    filter: opts.rowGroupFilter,
  });
}

/** Options once validated. */
interface Resolved {
  readonly wanted: readonly string[] | undefined;
  /** See ParquetReadOptions.projectIfPresent. */
  readonly maybe?: readonly string[] | undefined;
  readonly int64: Int64Mode;
  readonly batchSize: number;
  readonly invalidUtf8: InvalidUtf8;
  readonly maxNestedPageValues: number;
  readonly filter: ParquetReadOptions['rowGroupFilter'];
  readonly pageFilter: PageFilter | undefined;
}

async function open(path: string, o: Resolved): Promise<ParquetReader> {
  // https:// and s3:// URLs: ranged requests (lib/dataset/remote/); everything else: a local file
  const file = isRemoteUrl(path) ? await openRemoteBuffer(path) : await openFileBuffer(path);
  try {
    // a URL's query (signed URLs) never reaches error messages
    return await prepare(isRemoteUrl(path) ? redactUrl(path) : path, file, o);
  } catch (error) {
    await file.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Checks the file's last four bytes: `PARE` (encryption) is unsupported; anything but `PAR1` is no
 * Parquet file at all, said so, where the footer's length read from it claimed a nonsense size.
 */
async function checkMagic(file: FileBuffer, path: string): Promise<void> {
  const magic = file.byteLength < 4 ? '' : Buffer.from(await file.slice(file.byteLength - 4)).toString('latin1');
  if (magic === 'PARE')
    throw new UnsupportedError('Encrypted Parquet file (Parquet Modular Encryption footer) is not supported', {
      file: path,
    });
  if (magic !== 'PAR1')
    throw new FormatError(
      file.byteLength === 0
        ? 'Not a Parquet file: it is empty (0 bytes)'
        : `Not a Parquet file: it does not end with the PAR1 magic bytes (${file.byteLength} bytes; a CSV, JSON or Arrow file, or one cut short)`,
      { file: path },
    );
}

/** The footer, read and checked: unique column names, the schema the rows path decodes with. */
interface Footer {
  readonly raw: FileMetaData;
  readonly statisticsIgnored: boolean;
  readonly renamed: RenamedColumn[];
  readonly prepared: ReturnType<typeof prepareSchema>;
  readonly all: ParquetColumn[];
}

async function readFooter(file: FileBuffer, path: string, int64: Int64Mode): Promise<Footer> {
  try {
    const read = await readMetadata(file, parsers);
    const { metadata: raw, renamed } = withUniqueNames(read.metadata);
    const prepared = prepareSchema(raw, int64, path);
    return {
      raw,
      renamed,
      statisticsIgnored: read.statisticsDropped,
      prepared,
      all: describeColumns(parquetSchema(raw)),
    };
  } catch (error) {
    throw translateError(error, path);
  }
}

/** The projected columns' names, each checked to be a column of the file (`maybe`: only when all are). */
function projection(
  all: readonly ParquetColumn[],
  wanted: readonly string[] | undefined,
  path: string,
  maybe?: readonly string[],
): string[] {
  const known = new Set(all.map((c) => c.name));
  if (wanted === undefined && maybe !== undefined && maybe.every((name) => known.has(name))) {
    const set = new Set(maybe);
    return all.filter((c) => set.has(c.name)).map((c) => c.name);
  }
  const names = wanted ? [...wanted] : all.map((c) => c.name);
  for (const [i, name] of names.entries()) {
    if (!known.has(name)) {
      throw new ValidationError(
        `Expected \`options.columns[${i}]\` to be a column of ${path} (${all.map((c) => c.name).join(', ')}), got ${describeValue(name)}`,
      );
    }
  }
  return names;
}

async function prepare(path: string, file: FileBuffer, o: Resolved): Promise<ParquetReader> {
  await checkMagic(file, path);
  const footer = await readFooter(file, path, o.int64);
  const { prepared, raw } = footer;
  const names = projection(footer.all, o.wanted, path, o.maybe);
  checkSupported(prepared.metadata, path, new Set(names));
  const groups = prepared.metadata.row_groups.map((g) => Number(g.num_rows));
  let closed = false;
  const tree = parquetSchema(prepared.metadata);
  const f: OpenFile = {
    path,
    footer: raw,
    metadata: prepared.metadata,
    tree,
    names,
    batchSize: o.batchSize,
    settings: {
      file,
      path,
      compressors,
      parsers: { ...parsers, ...stringParsers(o.invalidUtf8) },
      int64: o.int64,
      maxNestedPageValues: o.maxNestedPageValues,
    },
    finishers: prepared.finishers,
    ...(o.filter ? { filter: o.filter } : {}),
    ...(o.pageFilter ? { pageFilter: o.pageFilter } : {}),
    isClosed: () => closed,
  };
  let plans: ArrowColumnPlan[] | undefined;
  // the raw schema's tree once, not once a column (a 20,000-column file spent 300 s rebuilding it)
  let rawTree: SchemaTree | undefined;
  const planOf = (n: string): ArrowColumnPlan => {
    rawTree ??= parquetSchema(raw);
    return planArrowColumn(topColumn(rawTree, n)!, topColumn(tree, n)!, prepared.finishers.get(n), o.invalidUtf8, path);
  };
  const plansFor = (): ArrowColumnPlan[] => (plans ??= names.map(planOf));
  const byName = new Map(footer.all.map((c) => [c.name, c]));
  return {
    path,
    numRows: groups.reduce((a, b) => a + b, 0),
    numRowGroups: groups.length,
    byteLength: file.byteLength,
    columns: names.map((n) => byName.get(n)!),
    renamed: footer.renamed,
    statisticsIgnored: footer.statisticsIgnored,
    get bytesRead() {
      return file.bytesRead;
    },
    batches: (fromRow = 0) => rowBatches(f, fromRow),
    recordBatches: (fromRow = 0) => arrowBatches(f, fromRow, plansFor),
    emptyRecordBatch: () => emptyRecordBatch(plansFor().map((p) => p.field)),
    arrowRefusals: () =>
      names.flatMap((n) => {
        try {
          planOf(n);
          return [];
        } catch (error) {
          if (!(error instanceof UnsupportedError)) throw error;
          return [{ column: n, why: error.message }];
        }
      }),
    async close() {
      closed = true;
      await file.close();
    },
  };
}
