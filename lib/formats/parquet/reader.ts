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
import type { RecordBatch } from 'apache-arrow';
import type { DecodedArray, FileMetaData, RowGroup } from 'hyparquet';
import { cappedCompressors as compressors } from './read/decompress.ts';
import { FormatError, SpillwayError, UnsupportedError, ValidationError, describeValue } from '../../core/errors.ts';
import { expectInteger, expectOneOf, expectOptions } from '../../core/validate.ts';
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
import { DEFAULT_MAX_NESTED_PAGE_VALUES, openColumn } from './read/column.ts';
import type { ColumnCursor, DecodeSettings } from './read/column.ts';
import { makeRecordBatch, planArrowColumn } from './read/arrow.ts';
import type { ArrowColumnPlan } from './read/arrow.ts';

/** Options of {@link openParquet}. */
export interface ParquetReadOptions {
  /** Top-level columns to read, in this order (default: all). Unknown names are rejected. */
  columns?: readonly string[];
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

/** One batch of rows from a Parquet file. */
export interface ParquetBatch {
  /** 0-based row group the rows come from. */
  readonly rowGroup: number;
  /** 0-based index, in the whole file, of the first row. */
  readonly rowStart: number;
  /** The rows, keyed by column name. */
  readonly rows: Record<string, unknown>[];
}

/** One batch of a Parquet file as an Arrow RecordBatch (types as in `read/arrow.ts`). */
export interface ParquetArrowBatch {
  /** 0-based row group the rows come from. */
  readonly rowGroup: number;
  /** 0-based index, in the whole file, of the first row. */
  readonly rowStart: number;
  /** The rows, as Arrow columns built straight from the decoded pages. */
  readonly batch: RecordBatch;
}

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

/** Turns a decoder failure into a FormatError or UnsupportedError naming the file. */
export function translateError(error: unknown, file: string, extra: { batch?: number } = {}): SpillwayError {
  if (error instanceof SpillwayError) {
    if (error.context.file !== undefined) return error;
    const Ctor = error instanceof UnsupportedError ? UnsupportedError : FormatError;
    return new Ctor(error.message, { file, ...extra }, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported|not supported/i.test(message)) {
    return new UnsupportedError(`Unsupported Parquet feature: ${message}`, { file, ...extra }, { cause: error });
  }
  return new FormatError(`Corrupt or invalid Parquet file: ${message}`, { file, ...extra }, { cause: error });
}

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
  if (opts.columns !== undefined) {
    if (!Array.isArray(opts.columns) || opts.columns.some((c) => typeof c !== 'string')) {
      throw new ValidationError(
        `Expected \`options.columns\` to be an array of column names, got ${describeValue(opts.columns)}`,
      );
    }
  }
  if (opts.rowGroupFilter !== undefined && typeof opts.rowGroupFilter !== 'function') {
    throw new ValidationError(
      `Expected \`options.rowGroupFilter\` to be a function, got ${describeValue(opts.rowGroupFilter)}`,
    );
  }
  return open(path, opts.columns, int64, batchSize, invalidUtf8, maxNestedPageValues, opts.rowGroupFilter);
}

async function open(
  path: string,
  wanted: readonly string[] | undefined,
  int64: Int64Mode,
  batchSize: number,
  invalidUtf8: InvalidUtf8,
  maxNestedPageValues: number,
  filter?: ParquetReadOptions['rowGroupFilter'],
): Promise<ParquetReader> {
  // https:// and s3:// URLs: ranged requests (lib/dataset/remote/); everything else: a local file
  const file = isRemoteUrl(path) ? await openRemoteBuffer(path) : await openFileBuffer(path);
  try {
    // a URL's query (signed URLs) never reaches error messages
    return await prepare(
      isRemoteUrl(path) ? redactUrl(path) : path,
      file,
      wanted,
      int64,
      batchSize,
      invalidUtf8,
      maxNestedPageValues,
      filter,
    );
  } catch (error) {
    await file.close().catch(() => undefined);
    throw error;
  }
}

async function prepare(
  path: string,
  file: FileBuffer,
  wanted: readonly string[] | undefined,
  int64: Int64Mode,
  batchSize: number,
  invalidUtf8: InvalidUtf8,
  maxNestedPageValues: number,
  filter?: ParquetReadOptions['rowGroupFilter'],
): Promise<ParquetReader> {
  if (file.byteLength >= 8) {
    const magic = new TextDecoder().decode(await file.slice(file.byteLength - 4));
    if (magic === 'PARE')
      throw new UnsupportedError('Encrypted Parquet file (Parquet Modular Encryption footer) is not supported', {
        file: path,
      });
  }
  let raw: FileMetaData;
  let statisticsIgnored: boolean;
  let renamed: RenamedColumn[];
  try {
    const read = await readMetadata(file, parsers);
    statisticsIgnored = read.statisticsDropped;
    ({ metadata: raw, renamed } = withUniqueNames(read.metadata));
  } catch (error) {
    throw translateError(error, path);
  }
  let prepared: ReturnType<typeof prepareSchema>;
  let all: ParquetColumn[];
  try {
    prepared = prepareSchema(raw, int64, path);
    all = describeColumns(parquetSchema(raw));
  } catch (error) {
    throw translateError(error, path);
  }
  const byName = new Map(all.map((c) => [c.name, c]));
  const names = wanted ?? all.map((c) => c.name);
  for (const [i, name] of names.entries()) {
    if (!byName.has(name)) {
      throw new ValidationError(
        `Expected \`options.columns[${i}]\` to be a column of ${path} (${all.map((c) => c.name).join(', ')}), got ${describeValue(name)}`,
      );
    }
  }
  checkSupported(prepared.metadata, path, new Set(names));
  const metadata = prepared.metadata;
  const groups = metadata.row_groups.map((g) => Number(g.num_rows));
  const columns = names.map((n) => byName.get(n)!);
  let closed = false;

  const tree = parquetSchema(metadata);
  const rawTree = parquetSchema(raw);
  const settings: DecodeSettings = {
    file,
    path,
    compressors,
    parsers: { ...parsers, ...stringParsers(invalidUtf8) },
    int64,
    maxNestedPageValues,
  };
  let arrowPlans: ArrowColumnPlan[] | undefined;
  const plansFor = (): ArrowColumnPlan[] =>
    (arrowPlans ??= names.map((n) => {
      const rawNode = rawTree.children.find((c) => c.element.name === n)!;
      const node = tree.children.find((c) => c.element.name === n)!;
      return planArrowColumn(rawNode, node, prepared.finishers.get(n), invalidUtf8, path);
    }));

  /** Decoded columns, batch by batch: one row group at a time, each column page by page. */
  async function* columnBatches(
    fromRow: number,
    arrow: boolean,
  ): AsyncGenerator<{ rowGroup: number; rowStart: number; n: number; values: DecodedArray[] }> {
    const plans = arrow ? plansFor() : undefined;
    let groupStart = 0;
    for (let g = 0; g < groups.length; g++) {
      if (closed) throw new FormatError('Parquet reader was closed', { file: path });
      const rowCount = groups[g]!;
      if (groupStart + rowCount <= fromRow || (filter !== undefined && !filter(g, raw.row_groups[g]!, raw))) {
        groupStart += rowCount;
        continue;
      }
      const skip = Math.max(0, fromRow - groupStart);
      const chunks = metadata.row_groups[g]!.columns;
      let cursors: ColumnCursor[];
      try {
        cursors = names.map((n, c) => {
          const plan = plans?.[c];
          if (!plan) return openColumn(tree, chunks, n, g, rowCount, skip, settings);
          return openColumn(tree, chunks, n, g, rowCount, skip, { ...settings, raw: plan.raw, rawLeaves: plan.rawLeaves });
        });
      } catch (error) {
        throw translateError(error, path, { batch: g });
      }
      for (let start = skip; start < rowCount; start += batchSize) {
        const n = Math.min(rowCount, start + batchSize) - start;
        let values: DecodedArray[];
        try {
          values = await Promise.all(cursors.map((c) => c.take(n)));
        } catch (error) {
          throw translateError(error, path, { batch: g });
        }
        yield { rowGroup: g, rowStart: groupStart + start, n, values };
      }
      groupStart += rowCount;
    }
  }

  async function* batches(fromRow = 0): AsyncGenerator<ParquetBatch> {
    const finishers = names.map((n) => prepared.finishers.get(n));
    for await (const part of columnBatches(fromRow, false)) {
      const { n, values } = part;
      const rows: Record<string, unknown>[] = new Array(n);
      try {
        for (let r = 0; r < n; r++) {
          const row: Record<string, unknown> = {};
          for (let c = 0; c < names.length; c++) {
            const v: unknown = values[c]![r];
            const finish = finishers[c];
            row[names[c]!] = finish ? finish(v, names[c]!) : (v ?? null);
          }
          rows[r] = row;
        }
      } catch (error) {
        throw translateError(error, path, { batch: part.rowGroup });
      }
      yield { rowGroup: part.rowGroup, rowStart: part.rowStart, rows };
    }
  }

  async function* recordBatches(fromRow = 0): AsyncGenerator<ParquetArrowBatch> {
    const plans = plansFor();
    const fields = plans.map((p) => p.field);
    for await (const part of columnBatches(fromRow, true)) {
      let batch: RecordBatch;
      try {
        batch = makeRecordBatch(
          fields,
          plans.map((p, c) => p.build(part.values[c]!, part.n)),
          part.n,
        );
      } catch (error) {
        throw translateError(error, path, { batch: part.rowGroup });
      }
      yield { rowGroup: part.rowGroup, rowStart: part.rowStart, batch };
    }
  }

  return {
    path,
    numRows: groups.reduce((a, b) => a + b, 0),
    numRowGroups: groups.length,
    byteLength: file.byteLength,
    columns,
    renamed,
    statisticsIgnored,
    get bytesRead() {
      return file.bytesRead;
    },
    batches,
    recordBatches,
    async close() {
      closed = true;
      await file.close();
    },
  };
}
