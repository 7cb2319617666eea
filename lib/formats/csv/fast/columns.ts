/**
 * Columns of a CSV batch filled straight from the scanner's byte ranges, then sealed into an
 * Arrow RecordBatch (Utf8 / Float64 / Int32 / Int64 / Bool / Null chosen per batch by the
 * inference rules of lib/arrow/convert.ts applied to inferCell's values), or into rows when a
 * column mixes kinds Arrow cannot hold without changing a value (say strings and numbers).
 */
import {
  Bool,
  Field,
  Float64,
  Int32,
  Int64,
  Null,
  type RecordBatch,
  Schema,
  Struct,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import { inferCell } from '../cast.ts';
import { ROWS_METADATA_KEY } from '../../arrow/convert.ts';
import { makeRecordBatchFast } from '../../arrow/record-batch.ts';
import type { Row } from '../../../core/batch.ts';
import { FIELD_OVERRIDE, type ScannedRecord } from './scan-types.ts';
import { NOT_NUMBER, parseDecimal, SLOW } from './cells.ts';

const K_NULL = 1;
const K_INT32 = 2;
/** A number that is not an int32: a fraction, -0, or an integer past 2^53. */
const K_FLOAT = 4;
/** A safe integer outside the int32 range. */
const K_INTBIG = 8;
const K_BIGINT = 16;
const K_BOOL = 32;
const K_STRING = 64;
/** Mask bit only: a bigint outside the int64 range (no Arrow column holds it exactly). */
const K_HUGE = 128;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** One column of a batch being filled. */
/** A column's first arrays, as views into arrays shared by the batch's columns. */
interface ColumnSlab {
  kinds: Uint8Array;
  nums: Float64Array;
  offsets: Int32Array;
}

/**
 * The columns' first arrays in three allocations for the whole batch: a file of 100,000 columns
 * otherwise made 300,000 small typed arrays, each with its own backing store (about 1.5 KB a
 * column). A column that outgrows its view gets arrays of its own.
 */
function slabs(count: number, rows: number): ColumnSlab[] {
  const kinds = new Uint8Array(count * rows);
  const nums = new Float64Array(count * rows);
  const offsets = new Int32Array(count * (rows + 1));
  return Array.from({ length: count }, (_, c) => ({
    kinds: kinds.subarray(c * rows, (c + 1) * rows),
    nums: nums.subarray(c * rows, (c + 1) * rows),
    offsets: offsets.subarray(c * (rows + 1), (c + 1) * (rows + 1)),
  }));
}

class Column {
  n = 0;
  kinds: Uint8Array;
  nums: Float64Array;
  offsets: Int32Array;
  bytes: Buffer;
  byteLength = 0;
  mask = 0;
  ascii = true;
  bigints: Map<number, bigint> | undefined;

  /** @param slab views into the batch's shared arrays (one allocation for all columns), else its own */
  constructor(rows: number, bytes: number, slab?: ColumnSlab) {
    this.kinds = slab?.kinds ?? new Uint8Array(rows);
    this.nums = slab?.nums ?? new Float64Array(rows);
    this.offsets = slab?.offsets ?? new Int32Array(rows + 1);
    this.bytes = Buffer.allocUnsafe(Math.max(64, bytes));
  }

  #grow(): void {
    const cap = this.kinds.length * 2;
    const kinds = new Uint8Array(cap);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const nums = new Float64Array(cap);
    nums.set(this.nums);
    this.nums = nums;
    const offsets = new Int32Array(cap + 1);
    offsets.set(this.offsets);
    this.offsets = offsets;
  }

  #reserve(extra: number): void {
    if (this.byteLength + extra <= this.bytes.length) return;
    const bytes = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.byteLength + extra));
    this.bytes.copy(bytes, 0, 0, this.byteLength);
    this.bytes = bytes;
  }

  /** Appends the field's text (unescaped). */
  string(scanner: ScannedRecord, f: number, windowAscii: boolean): void {
    const i = this.n;
    if (i === this.kinds.length) this.#grow();
    const flag = scanner.fieldFlags[f];
    if (flag === 0) {
      const s = scanner.fieldStarts[f]!;
      const e = scanner.fieldEnds[f]!;
      const len = e - s;
      this.#reserve(len);
      const w = scanner.window;
      if (len < 24) {
        const out = this.bytes;
        let at = this.byteLength;
        for (let p = s; p < e; p++) out[at++] = w[p]!;
      } else w.copy(this.bytes, this.byteLength, s, e);
      this.byteLength += len;
      if (!windowAscii) this.ascii = false;
    } else {
      const text = flag === FIELD_OVERRIDE ? Buffer.from(scanner.overrides!.get(f)!).toString('utf8') : undefined;
      this.#text(
        text ?? scanner.window.toString('utf8', scanner.fieldStarts[f], scanner.fieldEnds[f]).replaceAll('""', '"'),
      );
    }
    this.kinds[i] = K_STRING;
    this.mask |= K_STRING;
    this.n = i + 1;
    this.offsets[i + 1] = this.byteLength;
  }

  #text(text: string): void {
    this.#reserve(text.length * 3);
    const written = this.bytes.write(text, this.byteLength, 'utf8');
    for (let k = 0; k < text.length; k++) {
      if (text.charCodeAt(k) > 127) {
        this.ascii = false;
        break;
      }
    }
    this.byteLength += written;
  }

  /** Appends the field as inferCell would read it. */
  infer(scanner: ScannedRecord, f: number, windowAscii: boolean, decode: (f: number) => string): void {
    const flag = scanner.fieldFlags[f];
    let value: unknown;
    if (flag === 0) {
      const s = scanner.fieldStarts[f]!;
      const e = scanner.fieldEnds[f]!;
      if (s === e) return this.#put(K_NULL, 0);
      const w = scanner.window;
      const c = w[s]!;
      if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
        const v = parseDecimal(w, s, e);
        if (v === NOT_NUMBER) return this.string(scanner, f, windowAscii);
        if (v !== SLOW) return this.#number(v);
        value = inferCell(decode(f));
      } else if (c === 116 && e - s === 4 && w[s + 1] === 114 && w[s + 2] === 117 && w[s + 3] === 101)
        return this.#put(K_BOOL, 1);
      else if (c === 102 && e - s === 5 && w[s + 1] === 97 && w[s + 2] === 108 && w[s + 3] === 115 && w[s + 4] === 101)
        return this.#put(K_BOOL, 0);
      else return this.string(scanner, f, windowAscii);
    } else value = inferCell(decode(f));
    switch (typeof value) {
      case 'number':
        return this.#number(value);
      case 'bigint':
        (this.bigints ??= new Map()).set(this.n, value);
        if (value < INT64_MIN || value > INT64_MAX) this.mask |= K_HUGE;
        return this.#put(K_BIGINT, 0);
      case 'boolean':
        return this.#put(K_BOOL, value ? 1 : 0);
      case 'string': {
        const i = this.n;
        if (i === this.kinds.length) this.#grow();
        this.#text(value);
        this.kinds[i] = K_STRING;
        this.mask |= K_STRING;
        this.n = i + 1;
        this.offsets[i + 1] = this.byteLength;
        return;
      }
      default:
        return this.#put(K_NULL, 0);
    }
  }

  #number(v: number): void {
    if ((v | 0) === v && !(v === 0 && 1 / v < 0)) return this.#put(K_INT32, v);
    return this.#put(Number.isSafeInteger(v) && !Object.is(v, -0) ? K_INTBIG : K_FLOAT, v);
  }

  #put(kind: number, num: number): void {
    const i = this.n;
    if (i === this.kinds.length) this.#grow();
    this.kinds[i] = kind;
    this.nums[i] = num;
    this.mask |= kind;
    this.n = i + 1;
    this.offsets[i + 1] = this.byteLength;
  }

  /** The Arrow type this column takes, or undefined when its kinds do not fit one type. */
  type(): DataType | undefined {
    const m = this.mask & ~K_NULL;
    if ((m & K_HUGE) !== 0) return undefined;
    if (m === 0) return new Null();
    if (m === K_STRING) return new Utf8();
    if (m === K_BOOL) return new Bool();
    if ((m & ~K_INT32) === 0) return new Int32();
    if ((m & ~(K_INT32 | K_FLOAT | K_INTBIG)) === 0) return new Float64();
    if ((m & K_BIGINT) !== 0 && (m & ~(K_BIGINT | K_INT32 | K_INTBIG)) === 0) return new Int64();
    return undefined;
  }

  #validity(): { nullBitmap: Uint8Array | undefined; nullCount: number } {
    if ((this.mask & K_NULL) === 0) return { nullBitmap: undefined, nullCount: 0 };
    const n = this.n;
    const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
    let nullCount = 0;
    for (let i = 0; i < n; i++) {
      if (this.kinds[i] === K_NULL) nullCount++;
      else bitmap[i >> 3]! |= 1 << (i & 7);
    }
    return { nullBitmap: bitmap, nullCount };
  }

  /** This column as Arrow data of `type` (from {@link Column.type}). */
  data(type: DataType): Data {
    const length = this.n;
    const { nullBitmap, nullCount } = this.#validity();
    if (type instanceof Null) return makeData({ type, length, nullCount: length });
    if (type instanceof Utf8) {
      return makeData({
        type,
        length,
        nullCount,
        nullBitmap,
        valueOffsets: this.offsets.subarray(0, length + 1),
        data: this.bytes.subarray(0, this.byteLength),
      });
    }
    if (type instanceof Bool) {
      const bits = new Uint8Array(((length + 63) >> 6) << 3);
      for (let i = 0; i < length; i++)
        if (this.nums[i] === 1 && this.kinds[i] === K_BOOL) bits[i >> 3]! |= 1 << (i & 7);
      return makeData({ type, length, nullCount, nullBitmap, data: bits });
    }
    if (type instanceof Int32)
      return makeData({ type, length, nullCount, nullBitmap, data: Int32Array.from(this.nums.subarray(0, length)) });
    if (type instanceof Float64)
      return makeData({ type, length, nullCount, nullBitmap, data: this.nums.slice(0, length) });
    const out = new BigInt64Array(length);
    for (let i = 0; i < length; i++) {
      const k = this.kinds[i];
      if (k === K_BIGINT) out[i] = this.bigints!.get(i)!;
      else if (k !== K_NULL) out[i] = BigInt(this.nums[i]!);
    }
    return makeData({ type: type as Int64, length, nullCount, nullBitmap, data: out });
  }

  /** Value `i` as a JS value (inferCell's result, or the string). */
  value(i: number): unknown {
    switch (this.kinds[i]) {
      case K_NULL:
        return null;
      case K_STRING: {
        const w = this.bytes as unknown as NativeSlices;
        return this.ascii
          ? w.latin1Slice(this.offsets[i]!, this.offsets[i + 1]!)
          : w.utf8Slice(this.offsets[i]!, this.offsets[i + 1]!);
      }
      case K_BIGINT:
        return this.bigints!.get(i);
      case K_BOOL:
        return this.nums[i] === 1;
      default:
        return this.nums[i];
    }
  }
}

/** Columns of one batch being filled; {@link ColumnBatch.seal} makes the batch. */
export class ColumnBatch {
  readonly columns: Column[];
  readonly #names: readonly string[];
  readonly #arrayRows: boolean;
  readonly #infer: boolean;
  #makeRow: ((columns: Column[], i: number) => Row) | undefined;

  /**
   * @param names column names (for array rows: `0`, `1`, ...)
   * @param arrayRows rows are arrays (no header)
   * @param infer `cast: true` inference (else every cell is a string)
   * @param rows expected rows, bytes expected per row (capacity hints)
   */
  constructor(names: readonly string[], arrayRows: boolean, infer: boolean, rows: number, bytesPerRow: number) {
    this.#names = names;
    this.#arrayRows = arrayRows;
    this.#infer = infer;
    const perColumn = Math.ceil((rows * bytesPerRow) / Math.max(1, names.length));
    const shared = slabs(names.length, rows);
    this.columns = names.map((_, c) => new Column(rows, perColumn, shared[c]));
  }

  /** Number of rows filled. */
  get numRows(): number {
    return this.columns[0]?.n ?? 0;
  }

  /** Appends the scanner's current record (it has exactly as many fields as there are columns). */
  add(scanner: ScannedRecord, windowAscii: boolean, decode: (f: number) => string): void {
    const columns = this.columns;
    if (this.#infer) for (let c = 0; c < columns.length; c++) columns[c]!.infer(scanner, c, windowAscii, decode);
    else for (let c = 0; c < columns.length; c++) columns[c]!.string(scanner, c, windowAscii);
  }

  /** The batch as Arrow when every column has one type, else as rows. */
  seal(): { arrow: RecordBatch } | { rows: Row[] } {
    const types = this.columns.map((c) => c.type());
    if (types.every((t) => t !== undefined)) {
      const fields = this.#names.map((name, c) => new Field(name, types[c]!, true));
      const schema = new Schema(fields, this.#arrayRows ? new Map([[ROWS_METADATA_KEY, 'array']]) : null);
      const children = this.columns.map((column, c) => column.data(types[c]!));
      const struct = makeData({ type: new Struct(fields), length: this.numRows, nullCount: 0, children });
      return { arrow: makeRecordBatchFast(schema, struct) };
    }
    return { rows: this.rows() };
  }

  /** The batch as rows. */
  rows(): Row[] {
    const n = this.numRows;
    const rows = new Array<Row>(n);
    const make = (this.#makeRow ??= rowMaker(this.#names, this.#arrayRows));
    for (let i = 0; i < n; i++) rows[i] = make(this.columns, i);
    return rows;
  }
}

/**
 * Most columns for which rows are built by a generated object literal. Wider, V8 keeps the object
 * in dictionary mode anyway, and compiling a literal of 100,000 keys cost over 100 MB.
 */
const LITERAL_MAX_COLUMNS = 1000;

/** True when rows keyed by `names` are built by a generated object literal (see {@link LITERAL_MAX_COLUMNS}). */
export function literalRows(names: readonly string[]): boolean {
  return names.length <= LITERAL_MAX_COLUMNS && !names.includes('__proto__');
}

/** A row built key by key (csv-parse's objects: a repeated name keeps its first position and its last value). */
export function assignRow(names: readonly string[], value: (c: number) => unknown): Row {
  const row: Record<string, unknown> = {};
  for (let c = 0; c < names.length; c++) {
    const name = names[c]!;
    if (name === '__proto__')
      Object.defineProperty(row, name, { value: value(c), enumerable: true, writable: true, configurable: true });
    else row[name] = value(c);
  }
  return row;
}

/** A function building row `i` from columns: an object literal with the header's keys (one hidden class), or an array. */
export function rowMaker(
  names: readonly string[],
  arrayRows: boolean,
): (columns: { value(i: number): unknown }[], i: number) => Row {
  if (arrayRows) return (columns, i) => columns.map((c) => c.value(i));
  if (!literalRows(names)) return (columns, i) => assignRow(names, (c) => columns[c]!.value(i));
  const body = `return { ${names.map((name, c) => `${JSON.stringify(name)}: c[${c}].value(i)`).join(', ')} };`;
  return new Function('c', 'i', body) as (columns: { value(i: number): unknown }[], i: number) => Row;
}
