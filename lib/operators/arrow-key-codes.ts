/**
 * Key codes read straight from Arrow columns, for a group table fed Arrow batches: a key column
 * is read with the same reader a row view uses (so values are those `Batch.rows` gives), except
 * Utf8 columns, whose codes come from a hash table over the UTF-8 bytes of each value: a value
 * seen before costs a hash of its bytes, not a decoded string and a Map lookup. A new byte string
 * is decoded once and coded by the column's {@link KeyDictionary}, so both paths agree. The byte
 * table stops growing past {@link MAX_ENTRIES} values (a high-cardinality column gains nothing
 * from it and would hold its bytes twice).
 */
import { Type, type Data, type Field, type RecordBatch } from 'apache-arrow';
import { JSON_METADATA_KEY, ROWS_METADATA_KEY } from '../formats/arrow/convert.ts';
import { int64ModeOf } from '../formats/arrow/metadata-keys.ts';
import { valueReader } from '../formats/arrow/to-rows.ts';
import type { KeyDictionary } from './key-dictionary.ts';

/** Distinct values a byte table holds at most. */
export const MAX_ENTRIES = 1 << 16;
const EMPTY = -1;

/** Codes of Utf8 values by their bytes, for one key column of one table. */
export class Utf8Codes {
  #arena = new Uint8Array(1 << 12);
  #used = 0;
  #starts: number[] = [];
  #codes: number[] = [];
  #slots = new Int32Array(1 << 10).fill(EMPTY);
  /** Estimated bytes held. */
  get bytes(): number {
    return this.#arena.byteLength + this.#slots.byteLength + 16 * this.#codes.length;
  }

  /** Writes the code of each of the `n` values of Utf8 `data` to `out`. */
  codes(data: Data, n: number, dict: KeyDictionary, out: Int32Array): void {
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
      let h = 0x811c9dc5 ^ (e - s);
      for (let p = s; p < e; p++) h = Math.imul(h ^ bytes[p]!, 0x01000193);
      h ^= h >>> 15;
      out[i] = this.#find(h, bytes, s, e, dict, read, i);
    }
  }

  #find(
    h: number,
    bytes: Uint8Array,
    s: number,
    e: number,
    dict: KeyDictionary,
    read: (i: number) => unknown,
    i: number,
  ): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const arena = this.#arena;
    const len = e - s;
    let at = h & mask;
    for (;;) {
      const entry = slots[at]!;
      if (entry === EMPTY) break;
      const from = this.#starts[entry]!;
      if (this.#starts[entry + 1] === undefined ? this.#used - from === len : this.#starts[entry + 1]! - from === len) {
        let same = true;
        for (let k = 0; k < len; k++)
          if (arena[from + k] !== bytes[s + k]) {
            same = false;
            break;
          }
        if (same) return this.#codes[entry]!;
      }
      at = (at + 1) & mask;
    }
    const code = dict.code(read(i));
    if (this.#codes.length < MAX_ENTRIES) this.#insert(at, bytes, s, e, code);
    return code;
  }

  #insert(at: number, bytes: Uint8Array, s: number, e: number, code: number): void {
    const len = e - s;
    if (this.#used + len > this.#arena.length) {
      const next = new Uint8Array(Math.max(this.#arena.length * 2, this.#used + len));
      next.set(this.#arena.subarray(0, this.#used));
      this.#arena = next;
    }
    this.#arena.set(bytes.subarray(s, e), this.#used);
    const entry = this.#codes.length;
    this.#starts.push(this.#used);
    this.#used += len;
    this.#codes.push(code);
    this.#slots[at] = entry;
    if (this.#codes.length * 2 > this.#slots.length) this.#rehash();
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2).fill(EMPTY);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.#codes.length; entry++) {
      const s = this.#starts[entry]!;
      const e = entry + 1 < this.#starts.length ? this.#starts[entry + 1]! : this.#used;
      let h = 0x811c9dc5 ^ (e - s);
      for (let p = s; p < e; p++) h = Math.imul(h ^ this.#arena[p]!, 0x01000193);
      h ^= h >>> 15;
      let at = h & mask;
      while (slots[at] !== EMPTY) at = (at + 1) & mask;
      slots[at] = entry;
    }
    this.#slots = slots;
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

/** Codes of a key column's values: bytes for Utf8 (through `utf8`), else the values rows show. */
export function columnCodes(column: KeyColumn, n: number, dict: KeyDictionary, utf8: Utf8Codes, out: Int32Array): void {
  const data = column.data;
  if ((data.type as { typeId: Type }).typeId === Type.Utf8) {
    utf8.codes(data, n, dict, out);
    return;
  }
  const read = keyReader(column);
  for (let i = 0; i < n; i++) out[i] = dict.code(read(i));
}
