/**
 * Thrift encoding of page headers and of the footer (FileMetaData with schema, row groups, column
 * chunks, statistics and column orders). Row group metadata is kept as plain JSON-able objects
 * ({@link RowGroupMeta}) so that a checkpoint can hold it and a resumed run writes the same footer.
 */
import { ThriftWriter, T } from './thrift.ts';
import { elementType, type ColumnKind, type DecimalSpec } from './schema.ts';
import { elementCount, writeNestedElements } from './nested-elements.ts';
import { nestedLeaves, type NestedNode } from './nested-schema.ts';
import type { ChunkPageIndex, PageIndexLocation } from './page-index.ts';

/** Metadata of one written column chunk (JSON-able: statistics as base64). */
export interface ChunkMeta {
  encodings: number[];
  codec: number;
  numValues: number;
  uncompressedBytes: number;
  compressedBytes: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  nullCount: number;
  min?: string;
  max?: string;
  /** The chunk's page index, written after the last row group (encode/page-index.ts). */
  pageIndex?: ChunkPageIndex;
  /** Where that index was written (set when the footer is written). */
  indexLocation?: PageIndexLocation;
}

/** Metadata of one written row group. */
export interface RowGroupMeta {
  numRows: number;
  fileOffset: number;
  uncompressedBytes: number;
  compressedBytes: number;
  columns: ChunkMeta[];
}

/** A column of the file schema. */
export interface SchemaColumn {
  name: string;
  kind: ColumnKind;
  nullable: boolean;
  /** A nested column's type (then `kind` is unused and the column has one chunk per leaf). */
  nested?: NestedNode;
  /** A `decimal` column's precision and scale. */
  decimal?: DecimalSpec;
}

/** A column chunk's column: its path in the schema and kind. */
interface LeafColumn {
  path: string[];
  kind: ColumnKind;
}

/** The leaf columns of the schema, in chunk order. */
function leafColumns(columns: readonly SchemaColumn[]): LeafColumn[] {
  return columns.flatMap((c) =>
    c.nested === undefined
      ? [{ path: [c.name], kind: c.kind }]
      : nestedLeaves(c.name, c.nested, c.nullable).map((leaf) => ({ path: leaf.path, kind: leaf.node.kind })),
  );
}

/** Serialises a DataPage V1 or dictionary page header. */
export function pageHeader(
  type: number,
  uncompressed: number,
  compressed: number,
  numValues: number,
  encoding: number,
  crc: number,
): Uint8Array {
  const w = new ThriftWriter(48);
  w.begin();
  w.i32(1, type);
  w.i32(2, uncompressed);
  w.i32(3, compressed);
  // CRC-32 of the page's bytes as stored (after compression), which readers may check
  w.i32(4, crc | 0);
  if (type === 0) {
    w.struct(5);
    w.i32(1, numValues);
    w.i32(2, encoding);
    w.i32(3, 3); // definition levels: RLE
    w.i32(4, 3); // repetition levels: RLE
    w.end();
  } else {
    w.struct(7);
    w.i32(1, numValues);
    w.i32(2, encoding);
    w.end();
  }
  w.end();
  return w.result();
}

function schemaElement(
  w: ThriftWriter,
  column: { name: string; kind: ColumnKind; nullable: boolean; decimal?: DecimalSpec; local?: true },
): void {
  const t = elementType(column.kind, column.local === true);
  w.begin();
  w.i32(1, t.physical);
  w.i32(3, column.nullable ? 1 : 0);
  w.string(4, column.name);
  if (t.converted !== undefined) w.i32(6, t.converted);
  if (column.decimal !== undefined) decimalAnnotation(w, column.decimal);
  const logical = t.logical;
  if (logical !== undefined) {
    w.struct(10);
    switch (logical.type) {
      case 'STRING':
        w.struct(1);
        w.end();
        break;
      case 'DATE':
        w.struct(6);
        w.end();
        break;
      case 'JSON':
        w.struct(12);
        w.end();
        break;
      case 'TIMESTAMP':
      case 'TIME':
        // TimeType has TimestampType's fields: isAdjustedToUTC, then the unit union
        w.struct(logical.type === 'TIME' ? 7 : 8);
        w.bool(1, logical.utc);
        w.struct(2);
        w.struct(logical.unit === 'MILLIS' ? 1 : logical.unit === 'MICROS' ? 2 : 3);
        w.end();
        w.end();
        w.end();
        break;
      case 'INTEGER':
        w.struct(10);
        w.field(1, T.I8);
        w.byte(logical.bitWidth);
        w.bool(2, logical.signed);
        w.end();
        break;
    }
    w.end();
  }
  w.end();
}

/** Scale, precision and the DECIMAL logical type of a decimal element. */
function decimalAnnotation(w: ThriftWriter, decimal: DecimalSpec): void {
  w.i32(7, decimal.scale);
  w.i32(8, decimal.precision);
  w.struct(10);
  w.struct(5);
  w.i32(1, decimal.scale);
  w.i32(2, decimal.precision);
  w.end();
  w.end();
}

function columnChunk(w: ThriftWriter, column: LeafColumn, c: ChunkMeta): void {
  w.begin();
  w.i64(2, c.dictionaryPageOffset ?? c.dataPageOffset);
  w.struct(3);
  w.i32(1, elementType(column.kind).physical);
  w.list(2, T.I32, c.encodings.length);
  for (const e of c.encodings) w.rawI32(e);
  w.list(3, T.BINARY, column.path.length);
  for (const part of column.path) w.rawBinary(new TextEncoder().encode(part));
  w.i32(4, c.codec);
  w.i64(5, c.numValues);
  w.i64(6, c.uncompressedBytes);
  w.i64(7, c.compressedBytes);
  w.i64(9, c.dataPageOffset);
  if (c.dictionaryPageOffset !== undefined) w.i64(11, c.dictionaryPageOffset);
  w.struct(12);
  w.i64(3, c.nullCount);
  if (c.max !== undefined) w.binary(5, Buffer.from(c.max, 'base64'));
  if (c.min !== undefined) w.binary(6, Buffer.from(c.min, 'base64'));
  w.end();
  w.end();
  const at = c.indexLocation;
  if (at !== undefined) {
    w.i64(4, at.offsetIndex[0]);
    w.i32(5, at.offsetIndex[1]);
    if (at.columnIndex !== undefined) {
      w.i64(6, at.columnIndex[0]);
      w.i32(7, at.columnIndex[1]);
    }
  }
  w.end();
}

/** Serialises the footer's FileMetaData (without the length and magic that follow it). */
export function fileMetadata(
  columns: readonly SchemaColumn[],
  rowGroups: readonly RowGroupMeta[],
  createdBy: string,
): Uint8Array {
  const leaves = leafColumns(columns);
  const w = new ThriftWriter(1024 + rowGroups.length * leaves.length * 96);
  w.begin();
  w.i32(1, 1);
  const elements = columns.reduce((sum, c) => sum + (c.nested ? elementCount(c.nested) : 1), 0);
  w.list(2, T.STRUCT, elements + 1);
  w.begin();
  w.string(4, 'schema');
  w.i32(5, columns.length);
  w.end();
  for (const column of columns) {
    if (column.nested) writeNestedElements(w, column.name, column.nested, column.nullable, schemaElement);
    else schemaElement(w, column);
  }
  w.i64(
    3,
    rowGroups.reduce((sum, g) => sum + g.numRows, 0),
  );
  w.list(4, T.STRUCT, rowGroups.length);
  rowGroups.forEach((g, ordinal) => {
    w.begin();
    w.list(1, T.STRUCT, g.columns.length);
    g.columns.forEach((c, k) => columnChunk(w, leaves[k]!, c));
    w.i64(2, g.uncompressedBytes);
    w.i64(3, g.numRows);
    w.i64(5, g.fileOffset);
    w.i64(6, g.compressedBytes);
    if (ordinal < 32768) {
      w.field(7, T.I16);
      w.rawI32(ordinal);
    }
    w.end();
  });
  w.string(6, createdBy);
  // min_value/max_value follow each type's defined order
  w.list(7, T.STRUCT, leaves.length);
  for (let k = 0; k < leaves.length; k++) {
    w.begin();
    w.struct(1);
    w.end();
    w.end();
  }
  w.end();
  return w.result();
}
