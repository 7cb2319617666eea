/**
 * The footer of a Parquet file, read so that column statistics can never stop a read. hyparquet
 * decodes every chunk's min/max while it parses the footer; a statistic stored with a size its
 * type does not allow (an empty min of a DATE column, say) throws "Offset is outside the bounds
 * of the DataView" although the data is fine. Statistics are not needed to read data, so when
 * parsing fails the footer is parsed again without them (the Thrift bytes are rewritten with
 * every ColumnMetaData.statistics field left out); `inspect` decodes them itself, defensively.
 */
import { parquetMetadata } from 'hyparquet';
import type { FileMetaData, ParquetParsers } from 'hyparquet';
import type { FileBuffer } from '../fileBuffer.ts';

/** Compact-protocol type ids. */
const BOOL_TRUE = 1,
  BOOL_FALSE = 2,
  BYTE = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  DOUBLE = 7,
  BINARY = 8,
  LIST = 9,
  SET = 10,
  MAP = 11,
  STRUCT = 12;

/** Reads the whole footer (metadata + length + magic) of `file`. */
export async function readFooterBytes(file: FileBuffer): Promise<Uint8Array> {
  if (file.byteLength < 12) throw new Error('parquet file is too short');
  const tail = new Uint8Array(await file.slice(file.byteLength - 8));
  const length = new DataView(tail.buffer, tail.byteOffset).getUint32(0, true);
  if (length > file.byteLength - 12) throw new Error(`parquet metadata length ${length} exceeds the file`);
  return new Uint8Array(await file.slice(file.byteLength - 8 - length));
}

/**
 * Parses the footer with hyparquet; should that fail, parses it again without column statistics
 * (and returns `statisticsDropped: true`). A footer that fails both ways throws the first error.
 */
export async function readMetadata(
  file: FileBuffer,
  parsers: Partial<ParquetParsers>,
): Promise<{ metadata: FileMetaData; statisticsDropped: boolean }> {
  const footer = await readFooterBytes(file);
  try {
    return { metadata: parquetMetadata(footer, { parsers, geoparquet: false }), statisticsDropped: false };
  } catch (error) {
    let stripped: Uint8Array;
    try {
      stripped = withoutStatistics(footer);
      return { metadata: parquetMetadata(stripped, { parsers, geoparquet: false }), statisticsDropped: true };
    } catch {
      throw error;
    }
  }
}

class Cursor {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.at >= this.bytes.length) throw new Error('thrift footer ends early');
    return this.bytes[this.at++]!;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      if (shift < 35) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 70) throw new Error('thrift varint too long');
    }
  }
  skip(n: number): void {
    if (n < 0 || this.at + n > this.bytes.length) throw new Error('thrift footer ends early');
    this.at += n;
  }
}

function zigzag(n: number): number {
  return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
}

function skipValue(c: Cursor, type: number, depth: number): void {
  if (depth > 64) throw new Error('thrift footer nests too deep');
  switch (type) {
    case BOOL_TRUE:
    case BOOL_FALSE:
      return; // in a struct field, the value is in the type
    case BYTE:
      c.skip(1);
      return;
    case I16:
    case I32:
    case I64:
      c.varint();
      return;
    case DOUBLE:
      c.skip(8);
      return;
    case BINARY:
      c.skip(c.varint());
      return;
    case LIST:
    case SET: {
      const head = c.byte();
      const size = head >> 4 === 15 ? c.varint() : head >> 4;
      const elem = head & 0x0f;
      for (let k = 0; k < size; k++) {
        if (elem === BOOL_TRUE || elem === BOOL_FALSE) c.skip(1);
        else skipValue(c, elem, depth + 1);
      }
      return;
    }
    case MAP: {
      const size = c.varint();
      if (size === 0) return;
      const kv = c.byte();
      for (let k = 0; k < size; k++) {
        skipValue(c, kv >> 4, depth + 1);
        skipValue(c, kv & 0x0f, depth + 1);
      }
      return;
    }
    case STRUCT: {
      for (;;) {
        const head = c.byte();
        if (head === 0) return;
        if (head >> 4 === 0) c.varint();
        skipValue(c, head & 0x0f, depth + 1);
      }
    }
    default:
      throw new Error(`thrift type ${type} unknown`);
  }
}

/** Bytes written while rewriting. */
class Out {
  parts: Uint8Array[] = [];
  push(bytes: Uint8Array): void {
    this.parts.push(bytes);
  }
  varint(n: number): void {
    const bytes: number[] = [];
    while (n >= 0x80) {
      bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    bytes.push(n);
    this.push(Uint8Array.from(bytes));
  }
  fieldHeader(id: number, last: number, type: number): void {
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.push(Uint8Array.of((delta << 4) | type));
    else {
      this.push(Uint8Array.of(type));
      this.varint(id >= 0 ? id * 2 : -id * 2 - 1);
    }
  }
}

/** What to do with the fields of a struct: keep as is, drop, or rewrite an inner struct (or list of them). */
interface Plan {
  readonly [field: number]: 'drop' | Plan | undefined;
}

const COLUMN_META: Plan = { 12: 'drop' };
const COLUMN_CHUNK: Plan = { 3: COLUMN_META };
const ROW_GROUP: Plan = { 1: COLUMN_CHUNK };
const FILE_META: Plan = { 4: ROW_GROUP };

function rewriteStruct(c: Cursor, out: Out, plan: Plan, depth: number): void {
  let lastIn = 0;
  let lastOut = 0;
  for (;;) {
    const head = c.byte();
    if (head === 0) {
      out.push(Uint8Array.of(0));
      return;
    }
    const type = head & 0x0f;
    const id = head >> 4 === 0 ? zigzag(c.varint()) : lastIn + (head >> 4);
    lastIn = id;
    const rule = plan[id];
    if (rule === 'drop') {
      skipValue(c, type, depth + 1);
      continue;
    }
    out.fieldHeader(id, lastOut, type);
    lastOut = id;
    if (rule && type === STRUCT) {
      rewriteStruct(c, out, rule, depth + 1);
    } else if (rule && type === LIST) {
      const start = c.at;
      const head2 = c.byte();
      const size = head2 >> 4 === 15 ? c.varint() : head2 >> 4;
      out.push(c.bytes.subarray(start, c.at));
      const elem = head2 & 0x0f;
      for (let k = 0; k < size; k++) {
        if (elem === STRUCT) rewriteStruct(c, out, rule, depth + 1);
        else {
          const s = c.at;
          skipValue(c, elem, depth + 1);
          out.push(c.bytes.subarray(s, c.at));
        }
      }
    } else {
      const start = c.at;
      skipValue(c, type, depth + 1);
      out.push(c.bytes.subarray(start, c.at));
    }
  }
}

/** The footer (metadata + length + magic) with every column chunk's statistics left out. */
export function withoutStatistics(footer: Uint8Array): Uint8Array {
  const c = new Cursor(footer.subarray(0, footer.length - 8));
  const out = new Out();
  rewriteStruct(c, out, FILE_META, 0);
  const length = out.parts.reduce((n, p) => n + p.length, 0);
  const result = new Uint8Array(length + 8);
  let at = 0;
  for (const p of out.parts) {
    result.set(p, at);
    at += p.length;
  }
  new DataView(result.buffer).setUint32(length, length, true);
  result.set(footer.subarray(footer.length - 4), length + 4);
  return result;
}
