/**
 * Options of the Parquet writer: the declared schema (column types and nullability), codec and
 * row group bounds, validated synchronously (sinks call {@link checkWriteOptions} in their
 * factory, before any file is created).
 */
import { ValidationError, describeValue } from '../../../core/errors.ts';
import { expectInteger, expectOneOf, expectOptions, optionKeys, parseBytes } from '../../../core/validate.ts';
import type { ByteSize } from '../../../core/validate.ts';
import { CODEC_NAMES } from '../encode/compress.ts';
import type { ParquetCompression } from '../encode/compress.ts';
import type { EncoderThreadOption } from '../encode/row-group-encoder.ts';
import type { ColumnKind, DecimalSpec } from '../encode/schema.ts';
import type { NestedNode } from '../encode/nested-schema.ts';
import { DEFAULT_PAGE_BYTES } from '../encode/page.ts';

/** A column type the writer can declare. See the module's table. */
export type ParquetWriteType =
  | 'boolean'
  | 'int32'
  | 'int64'
  | 'double'
  | 'string'
  | 'binary'
  | 'timestamp'
  | 'date'
  | 'json';

/** A declared column: a type, or a type with nullability (default nullable). */
export type ParquetFieldSpec = ParquetWriteType | { type: ParquetWriteType; nullable?: boolean };

/** Options of `ParquetFileWriter.open`. */
export interface ParquetWriteOptions {
  /** Column name -> type, in column order. When omitted, inferred from the first rows or Arrow batch. */
  schema?: Record<string, ParquetFieldSpec>;
  /** Page compression (default `'snappy'`). */
  compression?: ParquetCompression;
  /** Most rows per row group (default 100000). */
  rowGroupSize?: number;
  /**
   * Most buffered bytes of one row group (default `'32MB'`): values, byte-array offsets and
   * definition levels as held before encoding. A row group ends at `rowGroupSize` rows or at this
   * size, whichever comes first. Peak memory is about twice this (one group filling, one being
   * compressed and written).
   */
  rowGroupBytes?: ByteSize;
  /**
   * Encode and compress row groups on a thread of the writer's own, beside the pipeline's work
   * (default `'auto'`: when the machine has two cores or more and a row group has 16,384 rows or
   * more). `false` keeps all the work on the main thread (compression still uses the libuv pool).
   */
  encoderThread?: EncoderThreadOption;
  /**
   * Uncompressed bytes of a data page, about (default `'1MB'`). Smaller pages let a filtered read
   * skip more precisely through the page index (every chunk gets one), at some cost in size.
   */
  pageBytes?: ByteSize;
}

/** Default of {@link ParquetWriteOptions.rowGroupSize}. */
export const DEFAULT_ROW_GROUP_SIZE = 100_000;
/** Default of {@link ParquetWriteOptions.rowGroupBytes}, in bytes. */
export const DEFAULT_ROW_GROUP_BYTES = 32e6;

const TYPES: readonly ParquetWriteType[] = [
  'boolean',
  'int32',
  'int64',
  'double',
  'string',
  'binary',
  'timestamp',
  'date',
  'json',
];

/** A column of the file: its name, kind and nullability. */
export interface Field {
  name: string;
  /** `json` for a nested column (its JSON-text fallback kind); `nested` then has its type. */
  type: ColumnKind;
  nullable: boolean;
  /** A column written as LIST, STRUCT or MAP groups (see encode/nested-schema.ts). */
  nested?: NestedNode;
  /** Precision and scale of a `decimal` column. */
  decimal?: DecimalSpec;
  /** A timestamp column of wall-clock times (not adjusted to UTC): from an Arrow Timestamp without a zone. */
  local?: true;
}

function parseSchema(schema: Record<string, ParquetFieldSpec>): Field[] {
  const fields: Field[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    const path = `options.schema.${name}`;
    const type = typeof spec === 'string' ? spec : spec?.type;
    const nullable = typeof spec === 'object' && spec !== null ? (spec.nullable ?? true) : true;
    expectOneOf(type, typeof spec === 'string' ? path : `${path}.type`, TYPES, 'string');
    if (type === undefined)
      throw new ValidationError(`Expected \`${path}\` to be a column type, got ${describeValue(spec)}`);
    if (typeof nullable !== 'boolean')
      throw new ValidationError(`Expected \`${path}.nullable\` to be a boolean, got ${describeValue(nullable)}`);
    fields.push({ name, type, nullable });
  }
  if (fields.length === 0)
    throw new ValidationError('Expected `options.schema` to declare at least one column, got `{}` (object)');
  return fields;
}

/** Options of `ParquetFileWriter` after validation. */
export interface CheckedWriteOptions {
  fields: Field[] | undefined;
  compression: ParquetCompression;
  rowGroupSize: number;
  rowGroupBytes: number;
  encoderThread: EncoderThreadOption;
  pageBytes: number;
}

/** Every option of ParquetWriteOptions, for strict validation. */
const KNOWN_PARQUET_WRITE_OPTIONS = optionKeys<ParquetWriteOptions>({
  schema: true,
  compression: true,
  rowGroupSize: true,
  rowGroupBytes: true,
  encoderThread: true,
  pageBytes: true,
});
/**
 * Validates writer options synchronously (sinks call it in their factory, before any file is
 * created).
 * @throws ValidationError naming the option
 */
export function checkWriteOptions(options: ParquetWriteOptions | undefined): CheckedWriteOptions {
  const opts = expectOptions(options, 'options', KNOWN_PARQUET_WRITE_OPTIONS);
  const compression = expectOneOf(opts.compression, 'options.compression', CODEC_NAMES, 'snappy');
  const rowGroupSize = expectInteger(opts.rowGroupSize, 'options.rowGroupSize', DEFAULT_ROW_GROUP_SIZE);
  const rowGroupBytes =
    opts.rowGroupBytes === undefined
      ? DEFAULT_ROW_GROUP_BYTES
      : parseBytes(opts.rowGroupBytes, 'options.rowGroupBytes');
  if (rowGroupBytes < 1)
    throw new ValidationError(
      `Expected \`options.rowGroupBytes\` to be at least 1 byte, got ${describeValue(opts.rowGroupBytes)}`,
    );
  if (
    opts.schema !== undefined &&
    (typeof opts.schema !== 'object' || opts.schema === null || Array.isArray(opts.schema))
  ) {
    throw new ValidationError(
      `Expected \`options.schema\` to be an object of column types, got ${describeValue(opts.schema)}`,
    );
  }
  const fields = opts.schema === undefined ? undefined : parseSchema(opts.schema);
  const encoderThread = opts.encoderThread ?? 'auto';
  if (encoderThread !== true && encoderThread !== false && encoderThread !== 'auto') {
    throw new ValidationError(
      `Expected \`options.encoderThread\` to be true, false or 'auto', got ${describeValue(opts.encoderThread)}`,
    );
  }
  const pageBytes = opts.pageBytes === undefined ? DEFAULT_PAGE_BYTES : parseBytes(opts.pageBytes, 'options.pageBytes');
  if (pageBytes < 1)
    throw new ValidationError(
      `Expected \`options.pageBytes\` to be at least 1 byte, got ${describeValue(opts.pageBytes)}`,
    );
  return { fields, compression, rowGroupSize, rowGroupBytes, encoderThread, pageBytes };
}
