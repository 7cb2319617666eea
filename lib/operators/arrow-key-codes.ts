/**
 * Key codes read straight from Arrow columns, for a group table fed Arrow batches: a key column
 * is read with the same reader a row view uses (so values are those `Batch.rows` gives), except
 * Utf8 columns, which the column's {@link KeyDictionary} codes by their UTF-8 bytes: a value seen
 * before costs a hash of its bytes, not a decoded string; a new one is held as its bytes when they
 * are ASCII (decoded when output), else decoded once.
 */
import { Type, type Data, type Field, type RecordBatch } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import { JSON_METADATA_KEY, ROWS_METADATA_KEY } from '../formats/arrow/convert.ts';
import { int64ModeOf } from '../formats/arrow/metadata-keys.ts';
import { valueReader } from '../formats/arrow/to-rows.ts';
import { combineHashes, hashKey, seededTextHash, type KeyDictionary } from './key-dictionary.ts';
import { rowsInput, type BatchInput } from './agg-columns.ts';
import { hashedAscii, hashUtf8 } from './string-codes.ts';

/** Writes the code of each of the `n` values of Utf8 `data` to `out`, by their bytes (string-codes.ts). */
function utf8Codes(data: Data, n: number, dict: KeyDictionary, out: Int32Array): void {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const read = valueReader(data);
  const nulls = data.nullCount > 0;
  for (let i = 0; i < n; i++) {
    if (nulls && !data.getValid(i)) {
      out[i] = dict.code(null);
      continue;
    }
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    const h = hashUtf8(bytes, s, e);
    const ascii = hashedAscii();
    const code = dict.findUtf8(bytes, s, e, h);
    if (code >= 0) out[i] = code;
    // ASCII is well-formed: held as bytes, decoded when output; other text decoded now (U+FFFD)
    else out[i] = ascii ? dict.addUtf8Bytes(bytes, s, e, h) : dict.addUtf8(bytes, s, e, h, read(i) as string);
  }
}

/** A key column of an Arrow batch: its field and data. */
export interface KeyColumn {
  field: Field;
  data: Data;
}

/**
 * Each key column of `batch` (by name, the last column of a repeated name, as rows show it), or
 * undefined when a key is missing, the batch holds array rows, or a key column is JSON text
 * (rows show it parsed): then the caller reads keys through rows.
 */
export function keyColumnsOf(batch: RecordBatch, names: readonly string[]): KeyColumn[] | undefined {
  if (batch.schema.metadata.get(ROWS_METADATA_KEY) === 'array') return undefined;
  const fields = batch.schema.fields;
  const out: KeyColumn[] = [];
  for (const name of names) {
    let c = -1;
    for (let f = 0; f < fields.length; f++) if (fields[f]!.name === name) c = f;
    if (c < 0 || fields[c]!.metadata.get(JSON_METADATA_KEY) === 'true') return undefined;
    const data = batch.data.children[c];
    if (data === undefined) return undefined;
    out.push({ field: fields[c]!, data: data as Data });
  }
  return out;
}

/**
 * The reader of a key column's values, those rows show: a marked Int64 column (metadata-keys.ts)
 * reads as bigints, so that the key values a table keeps and outputs keep the input's type.
 */
export function keyReader(column: KeyColumn): (i: number) => unknown {
  return valueReader(column.data, { int64: int64ModeOf(column.field) }, column.field.name);
}

/** Codes of a key column's values: by their bytes for Utf8, else the values rows show. */
export function columnCodes(column: KeyColumn, n: number, dict: KeyDictionary, out: Int32Array): void {
  const data = column.data;
  if ((data.type as { typeId: Type }).typeId === Type.Utf8) {
    utf8Codes(data, n, dict, out);
    return;
  }
  const read = keyReader(column);
  for (let i = 0; i < n; i++) out[i] = dict.code(read(i));
}

/** A plain numeric column (integers up to 32 bits, 32- and 64-bit floats): rows show its values as they are stored. */
function isPlainNumber(type: { typeId: Type; bitWidth?: number; precision?: number }): boolean {
  if (type.typeId === Type.Int) return (type.bitWidth ?? 64) <= 32;
  return type.typeId === Type.Float && type.precision !== 0;
}

/**
 * The rows of an Arrow batch as aggregates read them (agg-columns.ts): a plain numeric column is
 * read from its data, with the reader row views use; any other column, and the rows themselves,
 * through `rowAt` (views).
 */
export function arrowInput(batch: RecordBatch, rowAt: (i: number) => Row): BatchInput {
  const rows = rowsInput(rowAt);
  return {
    row: rowAt,
    column(name) {
      const column = keyColumnsOf(batch, [name])?.[0];
      if (column === undefined || !isPlainNumber(column.data.type as never)) return rows.column(name);
      return valueReader(column.data, {}, name);
    },
    isDouble(name) {
      return (keyColumnsOf(batch, [name])?.[0]?.data.type as { typeId?: Type } | undefined)?.typeId === Type.Float;
    },
  };
}

/**
 * The partition (0..fanout-1) under hash `seed` of each row's group, keys read from `columns`: the
 * one a group table gives that group when it writes it out ({@link KeyDictionary.hashes}, each
 * value by {@link hashKey}), so rows that skip the table meet their group's chunks. ASCII text is
 * hashed from its bytes; any other value as rows hold it.
 */
export function groupPartitions(columns: readonly KeyColumn[], n: number, seed: number, fanout: number): Int32Array {
  const hashes = new Int32Array(n);
  columns.forEach((column, c) => {
    const data = column.data;
    const read = keyReader(column);
    const text = (data.type as { typeId: Type }).typeId === Type.Utf8;
    const nulls = data.nullCount > 0;
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < n; i++) {
      let h: number;
      if (text && (!nulls || data.getValid(i))) {
        // ASCII text from its bytes; other text as rows hold it (bytes not valid UTF-8 decode with U+FFFD)
        h = hashUtf8(bytes, offsets[i]!, offsets[i + 1]!);
        h = hashedAscii() ? seededTextHash(h, seed) : hashKey(read(i), seed);
      } else h = hashKey(read(i), seed);
      hashes[i] = c === 0 ? h : combineHashes(hashes[i]!, h);
    }
  });
  for (let i = 0; i < n; i++) hashes[i] = (hashes[i]! >>> 0) % fanout;
  return hashes;
}
