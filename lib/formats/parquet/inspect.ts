/**
 * `inspectParquet(path)`: what a Parquet file holds, without reading its data: the schema tree,
 * the top-level columns as `fromParquet` will name and type them, row groups with each column
 * chunk's codec, encodings, sizes and statistics, and the key-value metadata. A caller learns a
 * file's columns before reading it (also for a file with no rows). Statistics are decoded here
 * from the raw footer, defensively and exactly (decimals as exact strings; a value whose size
 * does not fit its type is reported as `invalid`, never an error).
 */
import { parquetSchema } from 'hyparquet';
import type { ColumnChunk, FileMetaData, SchemaElement, SchemaTree } from 'hyparquet';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { UnsupportedError, ValidationError, describeValue } from '../../core/errors.ts';
import { expectOptions } from '../../core/validate.ts';
import { openFileBuffer } from './fileBuffer.ts';
import { readFooterBytes, readMetadata } from './read/footer.ts';
import { withUniqueNames } from './read/names.ts';
import type { RenamedColumn } from './read/names.ts';
import { translateError } from './reader.ts';
import { describeColumns, parsers } from './types.ts';
import type { ParquetColumn } from './types.ts';
import { annotationOf, bytesToSignedBigInt, formatDecimal, formatTime } from './read/values.ts';

/** One node of the Parquet schema tree. */
export interface ParquetSchemaNode {
  /** Name (unique among its siblings, as the reader names it). */
  readonly name: string;
  /** Physical type of a leaf (`INT64`, `BYTE_ARRAY`...), `GROUP` for a group. */
  readonly physicalType: string;
  /** `REQUIRED`, `OPTIONAL` or `REPEATED`. */
  readonly repetition: string;
  /** Logical type, else converted type, when any (`DECIMAL`, `LIST`, `TIMESTAMP`...). */
  readonly annotation?: string;
  /** Details of the annotation: decimal precision/scale, time unit, UTC adjustment, integer width. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
  /** Children of a group. */
  readonly children?: readonly ParquetSchemaNode[];
}

/** Statistics of one column chunk, values as exact text (see the module comment). */
export interface ParquetChunkStatistics {
  readonly nullCount?: number;
  readonly distinctCount?: number;
  readonly min?: string;
  readonly max?: string;
  /** True when a min or max could not be decoded for its type (left out above). */
  readonly invalid?: boolean;
}

/** One column chunk of a row group. */
export interface ParquetChunkInfo {
  /** Dotted path of the leaf (`tags.list.element`). */
  readonly path: string;
  readonly physicalType: string;
  readonly codec: string;
  readonly encodings: readonly string[];
  readonly numValues: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly statistics?: ParquetChunkStatistics;
  /**
   * Sizes of the chunk's page index when the file has one: per-page min/max and null counts (the
   * column index) and page offsets with first rows (the offset index). A filtered `fromParquet`
   * uses them to skip pages; without them it can skip whole row groups only.
   */
  readonly pageIndex?: { readonly columnIndexBytes: number; readonly offsetIndexBytes: number };
}

/** One row group. */
export interface ParquetRowGroupInfo {
  readonly index: number;
  readonly numRows: number;
  /** Bytes of the row group's column chunks as stored. */
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly columns: readonly ParquetChunkInfo[];
}

/** What {@link inspectParquet} returns. */
export interface ParquetInspection {
  readonly format: 'parquet';
  readonly path: string;
  readonly byteLength: number;
  readonly numRows: number;
  /** Format version from the footer. */
  readonly version: number;
  /** The writer (`created_by`), when the file says. */
  readonly createdBy?: string;
  /** Top-level columns, named and typed as `fromParquet` reads them. */
  readonly columns: readonly ParquetColumn[];
  /** Columns renamed because their name was empty or repeated. */
  readonly renamed: readonly RenamedColumn[];
  /** The schema tree below the root. */
  readonly schema: readonly ParquetSchemaNode[];
  readonly rowGroups: readonly ParquetRowGroupInfo[];
  /** Codecs used by any column chunk. */
  readonly codecs: readonly string[];
  readonly keyValueMetadata: readonly { key: string; value?: string }[];
}

/** Options of {@link inspectParquet} (none yet; unknown keys are rejected). */
export type InspectParquetOptions = Record<string, never>;

function details(e: SchemaElement): Record<string, string | number | boolean> | undefined {
  const lt = e.logical_type;
  if (lt?.type === 'DECIMAL' || e.converted_type === 'DECIMAL') {
    return {
      precision: e.precision ?? (lt?.type === 'DECIMAL' ? lt.precision : 0),
      scale: e.scale ?? (lt?.type === 'DECIMAL' ? lt.scale : 0),
    };
  }
  if (lt?.type === 'TIMESTAMP' || lt?.type === 'TIME') return { unit: lt.unit, isAdjustedToUTC: lt.isAdjustedToUTC };
  if (lt?.type === 'INTEGER') return { bitWidth: lt.bitWidth, signed: lt.isSigned };
  if (e.type === 'FIXED_LEN_BYTE_ARRAY' && e.type_length !== undefined) return { length: e.type_length };
  return undefined;
}

function node(tree: SchemaTree): ParquetSchemaNode {
  const e = tree.element;
  const annotation = annotationOf(e);
  const d = details(e);
  return {
    name: e.name,
    physicalType: tree.children.length > 0 || e.type === undefined ? 'GROUP' : e.type,
    repetition: e.repetition_type ?? 'REQUIRED',
    ...(annotation === undefined ? {} : { annotation }),
    ...(d === undefined ? {} : { details: d }),
    ...(tree.children.length > 0 ? { children: tree.children.map(node) } : {}),
  };
}

const lenient = new TextDecoder('utf-8');

/** Exact text of one min/max statistic of leaf `e`, or undefined when its size does not fit the type. */
export function statisticText(bytes: Uint8Array, e: SchemaElement): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ann = annotationOf(e);
  const scale = e.scale ?? (e.logical_type?.type === 'DECIMAL' ? e.logical_type.scale : 0);
  const unsigned = ann?.startsWith('UINT_') || (e.logical_type?.type === 'INTEGER' && !e.logical_type.isSigned);
  switch (e.type) {
    case 'BOOLEAN':
      return bytes.length === 1 ? String(bytes[0] === 1) : undefined;
    case 'INT32': {
      if (bytes.length !== 4) return undefined;
      const v = unsigned ? view.getUint32(0, true) : view.getInt32(0, true);
      if (ann === 'DECIMAL') return formatDecimal(BigInt(v), scale);
      if (ann === 'DATE') {
        const date = new Date(v * 86_400_000);
        // past a JS Date's range (DuckDB's DATE goes to 5877642-06-25): not decoded, `invalid`
        if (Number.isNaN(date.getTime())) return undefined;
        // the day part whatever the year's width (`-000044-03-15`: a slice of 10 cut it to `-000044-03`)
        const iso = date.toISOString();
        return iso.slice(0, iso.indexOf('T'));
      }
      const time = timeText(e, BigInt(v));
      if (time !== null) return time;
      return String(v);
    }
    case 'INT64': {
      if (bytes.length !== 8) return undefined;
      const v = unsigned ? view.getBigUint64(0, true) : view.getBigInt64(0, true);
      if (ann === 'DECIMAL') return formatDecimal(v, scale);
      const time = timeText(e, v);
      if (time !== null) return time;
      if (ann === 'TIMESTAMP' || ann === 'TIMESTAMP_MILLIS' || ann === 'TIMESTAMP_MICROS') {
        const unit =
          e.logical_type?.type === 'TIMESTAMP' ? e.logical_type.unit : ann === 'TIMESTAMP_MILLIS' ? 'MILLIS' : 'MICROS';
        try {
          const date =
            unit === 'MILLIS'
              ? parsers.timestampFromMilliseconds!(v)
              : unit === 'MICROS'
                ? parsers.timestampFromMicroseconds!(v)
                : parsers.timestampFromNanoseconds!(v);
          return (date as Date).toISOString();
        } catch {
          return undefined;
        }
      }
      return String(v);
    }
    case 'FLOAT':
      return bytes.length === 4 ? String(view.getFloat32(0, true)) : undefined;
    case 'DOUBLE':
      return bytes.length === 8 ? String(view.getFloat64(0, true)) : undefined;
    case 'INT96':
      return bytes.length === 12 ? Buffer.from(bytes).toString('hex') : undefined;
    default: {
      if (ann === 'DECIMAL') return bytes.length === 0 ? undefined : formatDecimal(bytesToSignedBigInt(bytes), scale);
      if (ann === 'UTF8' || ann === 'STRING' || ann === 'ENUM' || ann === 'JSON') return lenient.decode(bytes);
      const hex = Buffer.from(bytes).toString('hex');
      // a UUID as the reader gives it (8-4-4-4-12)
      if (ann === 'UUID' && bytes.length === 16)
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      return hex;
    }
  }
}

/**
 * A TIME statistic as the reader gives the column's values (`HH:MM:SS[.fraction]`); null when the
 * column is not a TIME, undefined when the value is past 24:00:00 (not decoded, as a DATE past a
 * JS Date's range).
 */
function timeText(e: SchemaElement, v: bigint): string | undefined | null {
  const lt = e.logical_type;
  const unit =
    lt?.type === 'TIME'
      ? lt.unit
      : e.converted_type === 'TIME_MILLIS'
        ? 'MILLIS'
        : e.converted_type === 'TIME_MICROS'
          ? 'MICROS'
          : undefined;
  if (unit === undefined) return null;
  const perSecond = unit === 'MILLIS' ? 1000n : unit === 'MICROS' ? 1_000_000n : 1_000_000_000n;
  try {
    return formatTime(v, perSecond, e.name, '');
  } catch {
    return undefined;
  }
}

interface RawStats {
  field_1?: Uint8Array;
  field_2?: Uint8Array;
  field_3?: bigint | number;
  field_4?: bigint | number;
  field_5?: Uint8Array;
  field_6?: Uint8Array;
}

function statistics(raw: RawStats | undefined, e: SchemaElement | undefined): ParquetChunkStatistics | undefined {
  if (!raw || !e) return undefined;
  let invalid = false;
  const text = (bytes: unknown): string | undefined => {
    if (bytes === undefined) return undefined;
    // the footer is read without its schema here: a damaged one can put another type in the field
    const t = bytes instanceof Uint8Array ? statisticText(bytes, e) : undefined;
    if (t === undefined) invalid = true;
    return t;
  };
  const min = text(raw.field_6 ?? raw.field_2);
  const max = text(raw.field_5 ?? raw.field_1);
  return {
    ...(raw.field_3 === undefined ? {} : { nullCount: Number(raw.field_3) }),
    ...(raw.field_4 === undefined ? {} : { distinctCount: Number(raw.field_4) }),
    ...(min === undefined ? {} : { min }),
    ...(max === undefined ? {} : { max }),
    ...(invalid ? { invalid } : {}),
  };
}

/** One column chunk as {@link ParquetChunkInfo} describes it. */
function chunkInfo(c: ColumnChunk, stats: ParquetChunkStatistics | undefined): ParquetChunkInfo {
  const m = c.meta_data;
  const pageIndex =
    c.offset_index_length || c.column_index_length
      ? { columnIndexBytes: c.column_index_length ?? 0, offsetIndexBytes: c.offset_index_length ?? 0 }
      : undefined;
  return {
    path: m?.path_in_schema.join('.') ?? '',
    physicalType: m?.type ?? 'unknown',
    codec: m?.codec ?? 'unknown',
    encodings: m?.encodings ?? [],
    numValues: Number(m?.num_values ?? 0),
    compressedBytes: Number(m?.total_compressed_size ?? 0),
    uncompressedBytes: Number(m?.total_uncompressed_size ?? 0),
    ...(stats ? { statistics: stats } : {}),
    ...(pageIndex ? { pageIndex } : {}),
  };
}

/**
 * Describes the Parquet file at `path` from its footer (no data page is read).
 * @throws ValidationError for a bad argument; IoError, FormatError or UnsupportedError naming the file
 * @example
 * ```ts
 * const info = await inspectParquet('events.parquet');
 * console.log(info.numRows, info.columns.map((c) => `${c.name}: ${c.type}`));
 * ```
 */
export async function inspectParquet(path: string, options?: InspectParquetOptions): Promise<ParquetInspection> {
  if (typeof path !== 'string' || path.length === 0)
    throw new ValidationError(`Expected \`path\` to be a file path, got ${describeValue(path)}`);
  const opts = expectOptions(options);
  for (const key of Object.keys(opts)) throw new ValidationError(`Unknown option \`options.${key}\` of inspectParquet`);
  const file = await openFileBuffer(path);
  try {
    if (file.byteLength >= 8 && new TextDecoder().decode(await file.slice(file.byteLength - 4)) === 'PARE') {
      throw new UnsupportedError('Encrypted Parquet file (Parquet Modular Encryption footer) is not supported', {
        file: path,
      });
    }
    let metadata: FileMetaData;
    let renamed: RenamedColumn[];
    let rawStats: (RawStats | undefined)[][];
    try {
      ({ metadata, renamed } = withUniqueNames((await readMetadata(file, parsers)).metadata));
      const footer = await readFooterBytes(file);
      const thrift = deserializeTCompactProtocol({
        view: new DataView(footer.buffer, footer.byteOffset, footer.byteLength - 8),
        offset: 0,
      }) as {
        field_4?: { field_1?: { field_3?: { field_12?: RawStats } }[] }[];
      };
      rawStats = (thrift.field_4 ?? []).map((g) => (g.field_1 ?? []).map((c) => c.field_3?.field_12));
    } catch (error) {
      throw translateError(error, path);
    }
    let tree: SchemaTree;
    try {
      tree = parquetSchema(metadata);
    } catch (error) {
      // a footer that parses can still hold an impossible schema (children past its end)
      throw translateError(error, path);
    }
    const leaves = metadata.schema.filter((e) => e.type !== undefined && (e.num_children ?? 0) === 0);
    const codecs = new Set<string>();
    const rowGroups = metadata.row_groups.map((g, index): ParquetRowGroupInfo => {
      const columns = g.columns.map((c, k) => {
        if (c.meta_data) codecs.add(c.meta_data.codec);
        return chunkInfo(c, statistics(rawStats[index]?.[k], leaves[k]));
      });
      return {
        index,
        numRows: Number(g.num_rows),
        compressedBytes: columns.reduce((n, c) => n + c.compressedBytes, 0),
        uncompressedBytes: columns.reduce((n, c) => n + c.uncompressedBytes, 0),
        columns,
      };
    });
    return {
      format: 'parquet',
      path,
      byteLength: file.byteLength,
      numRows: Number(metadata.num_rows),
      version: metadata.version,
      ...(metadata.created_by ? { createdBy: metadata.created_by } : {}),
      columns: describeColumns(tree),
      renamed,
      schema: tree.children.map(node),
      rowGroups,
      codecs: [...codecs].sort(),
      keyValueMetadata: (metadata.key_value_metadata ?? []).map((kv) => ({
        key: kv.key,
        ...(kv.value === undefined ? {} : { value: kv.value }),
      })),
    };
  } finally {
    await file.close();
  }
}
