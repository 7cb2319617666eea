/**
 * Batches from a parser thread to the main thread without copying their columns: the Arrow
 * columns the fast reader builds (Utf8, Float64, Int32, Int64, Bool, Null) travel as their
 * buffers, which are transferred (moved, not copied) when large, and are rebuilt as Arrow data
 * on arrival. A batch the reader had to deliver as rows (a column mixing kinds) is cloned.
 */
import {
  Bool,
  Field,
  Float64,
  Int32,
  Int64,
  Null,
  Schema,
  Struct,
  Type,
  Utf8,
  makeData,
  type Data,
  type DataType,
  type RecordBatch,
} from 'apache-arrow';
import type { Row } from '../../../core/batch.ts';
import { makeRecordBatchFast } from '../../arrow/record-batch.ts';
import type { FastCsvBatch } from '../fast/reader.ts';

/** The column types the fast reader makes. */
type ColumnType = 'utf8' | 'f64' | 'i32' | 'i64' | 'bool' | 'null';

/** One column as posted. */
interface PostedColumn {
  name: string;
  type: ColumnType;
  length: number;
  nullCount: number;
  validity: Uint8Array | undefined;
  values: Uint8Array | Float64Array | Int32Array | BigInt64Array | undefined;
  offsets: Int32Array | undefined;
}

/** A batch as posted: Arrow columns, or rows; with where it ends (relative to its range). */
export interface PostedBatch {
  numRows: number;
  endLine: number;
  endByte: number;
  metadata: [string, string][];
  columns: PostedColumn[] | undefined;
  rows: Row[] | undefined;
}

/** Buffers at most this size are copied, not transferred (they may be slices of Node's shared Buffer pool). */
const TRANSFER_MIN = 16 * 1024;

function typeName(type: DataType): ColumnType {
  switch (type.typeId) {
    case Type.Utf8:
      return 'utf8';
    case Type.Float:
      return 'f64';
    case Type.Int:
      return (type as Int32 | Int64).bitWidth === 64 ? 'i64' : 'i32';
    case Type.Bool:
      return 'bool';
    case Type.Null:
      return 'null';
    default:
      throw new TypeError(`parallel CSV: unexpected column type ${String(type)}`);
  }
}

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'utf8':
      return new Utf8();
    case 'f64':
      return new Float64();
    case 'i32':
      return new Int32();
    case 'i64':
      return new Int64();
    case 'bool':
      return new Bool();
    default:
      return new Null();
  }
}

/** `batch` ready to post, and the buffers to transfer with it. */
export function postBatch(batch: FastCsvBatch): { posted: PostedBatch; transfer: ArrayBuffer[] } {
  const base = { numRows: batch.numRows, endLine: batch.endLine, endByte: batch.endByte };
  if (batch.arrow === undefined)
    return { posted: { ...base, metadata: [], columns: undefined, rows: batch.rows }, transfer: [] };
  const arrow: RecordBatch = batch.arrow;
  const transfer = new Set<ArrayBuffer>();
  const keep = <T extends ArrayBufferView | undefined>(view: T): T => {
    if (view !== undefined && view.buffer.byteLength > TRANSFER_MIN && view.buffer instanceof ArrayBuffer)
      transfer.add(view.buffer);
    return view;
  };
  const columns = arrow.schema.fields.map((field, c): PostedColumn => {
    const data = arrow.data.children[c]!;
    const type = typeName(field.type);
    return {
      name: field.name,
      type,
      length: data.length,
      nullCount: data.nullCount,
      validity: keep(data.nullBitmap as Uint8Array | undefined),
      values: type === 'null' ? undefined : keep(data.values as PostedColumn['values']),
      offsets: type === 'utf8' ? keep(data.valueOffsets as Int32Array) : undefined,
    };
  });
  return {
    posted: { ...base, metadata: [...arrow.schema.metadata], columns, rows: undefined },
    transfer: [...transfer],
  };
}

/** A posted batch back as the fast reader made it. */
export function receiveBatch(posted: PostedBatch): FastCsvBatch {
  const { numRows, endLine, endByte } = posted;
  if (posted.columns === undefined) return { rows: posted.rows!, numRows, endLine, endByte };
  const fields = posted.columns.map((c) => new Field(c.name, arrowType(c.type), true));
  const children = posted.columns.map((c, i): Data => {
    const type = fields[i]!.type;
    if (c.type === 'null') return makeData({ type: type as Null, length: c.length, nullCount: c.length });
    const common = { length: c.length, nullCount: c.nullCount, nullBitmap: c.validity };
    if (c.type === 'utf8')
      return makeData({ ...common, type: type as Utf8, valueOffsets: c.offsets!, data: c.values as Uint8Array });
    return makeData({ ...common, type: type as Float64, data: c.values as Float64Array }) as Data;
  });
  const schema = new Schema(fields, posted.metadata.length > 0 ? new Map(posted.metadata) : null);
  const struct = makeData({ type: new Struct(fields), length: numRows, nullCount: 0, children });
  return { arrow: makeRecordBatchFast(schema, struct), numRows, endLine, endByte };
}
