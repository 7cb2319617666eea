/**
 * `inspectArrow(path)`: what an Arrow IPC file (or stream) holds without decoding its batches:
 * the schema (fields, types, nullability, metadata) and the rows of every record batch, from
 * the footer and message headers. Also for a file with no batches.
 */
import { stat } from 'node:fs/promises';
import type { Field } from 'apache-arrow';
import { IoError, ValidationError, describeValue } from '../../core/errors.ts';
import { expectOptions } from '../../core/validate.ts';
import { openArrowFile } from './ipc-reader.ts';
import type { ArrowFormat } from './ipc-reader.ts';

/** One field of an Arrow schema. */
export interface ArrowFieldInfo {
  readonly name: string;
  /** The Arrow type as apache-arrow prints it (`Int64`, `Timestamp<MICROSECOND, UTC>`, `List<Int32>`...). */
  readonly type: string;
  readonly nullable: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Children of a nested type (list item, struct fields, map entries). */
  readonly children?: readonly ArrowFieldInfo[];
}

/** What {@link inspectArrow} returns. */
export interface ArrowInspection {
  readonly format: 'arrow';
  /** IPC file (random access) or stream format. */
  readonly ipcFormat: ArrowFormat;
  readonly path: string;
  readonly byteLength: number;
  readonly numRows: number;
  readonly fields: readonly ArrowFieldInfo[];
  readonly schemaMetadata?: Readonly<Record<string, string>>;
  /** Rows of each record batch, in order. */
  readonly batches: readonly { index: number; rows: number }[];
}

/** Options of {@link inspectArrow} (none yet; unknown keys are rejected). */
export type InspectArrowOptions = Record<string, never>;

function metadataOf(map: Map<string, string> | undefined): Record<string, string> | undefined {
  return map && map.size > 0 ? Object.fromEntries(map) : undefined;
}

function field(f: Field): ArrowFieldInfo {
  const metadata = metadataOf(f.metadata);
  const children = (f.type.children ?? []) as Field[];
  return {
    name: f.name,
    type: String(f.type),
    nullable: f.nullable,
    ...(metadata ? { metadata } : {}),
    ...(children.length > 0 ? { children: children.map(field) } : {}),
  };
}

/**
 * Describes the Arrow IPC file at `path` (file or stream format).
 * @throws ValidationError for a bad argument; IoError, FormatError or UnsupportedError naming the file
 * @example
 * ```ts
 * const info = await inspectArrow('events.arrow');
 * console.log(info.numRows, info.fields.map((f) => `${f.name}: ${f.type}`));
 * ```
 */
export async function inspectArrow(path: string, options?: InspectArrowOptions): Promise<ArrowInspection> {
  if (typeof path !== 'string' || path.length === 0)
    throw new ValidationError(`Expected \`path\` to be a file path, got ${describeValue(path)}`);
  const opts = expectOptions(options);
  for (const key of Object.keys(opts)) throw new ValidationError(`Unknown option \`options.${key}\` of inspectArrow`);
  let byteLength: number;
  try {
    byteLength = (await stat(path)).size;
  } catch (error) {
    throw new IoError(`Cannot open Arrow file: ${(error as Error).message}`, { file: path }, { cause: error });
  }
  const handle = await openArrowFile(path);
  try {
    const schemaMetadata = metadataOf(handle.schema.metadata);
    return {
      format: 'arrow',
      ipcFormat: handle.format,
      path,
      byteLength,
      numRows: handle.numRows,
      fields: handle.schema.fields.map(field),
      ...(schemaMetadata ? { schemaMetadata } : {}),
      batches: handle.batchRows.map((rows, index) => ({ index, rows })),
    };
  } finally {
    await handle.close();
  }
}
