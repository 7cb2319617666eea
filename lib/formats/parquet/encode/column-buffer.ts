/**
 * The values of one column for the row group being filled: fixed-width values in a typed array
 * (one slot per row, nulls included), byte arrays as one byte buffer plus Arrow-style offsets, and
 * for OPTIONAL columns one definition level per row (1 = value, 0 = null). Buffers grow by
 * doubling and are reused from one row group to the next.
 */
import { storageOf, widthOf, type ColumnKind, type DecimalSpec, type Storage } from './schema.ts';
import { NestedLevels, type LevelsSnapshot } from './levels.ts';

const INITIAL_ROWS = 1024;

/** The buffered rows of one column, as plain data (see {@link ColumnBuffer.snapshot}). */
export interface ColumnSnapshot {
  kind: ColumnKind;
  nullable: boolean;
  n: number;
  nulls: number;
  defs: Uint8Array;
  /** Fixed-width values (all storages but bytes). */
  values: Int32Array | BigInt64Array | Float32Array | Float64Array | Uint8Array | undefined;
  /** Byte-array values and their offsets (bytes storage). */
  data: Uint8Array | undefined;
  offsets: Int32Array | undefined;
  /** Repetition and definition levels of a nested column's leaf. */
  levels?: LevelsSnapshot;
}

/** Strings up to this many code units are written by a loop while they are ASCII (see pushString). */
const SHORT_TEXT = 48;

/** One column's buffered values. */
export class ColumnBuffer {
  kind: ColumnKind;
  storage: Storage;
  readonly nullable: boolean;
  /** Rows buffered. */
  n = 0;
  /** Null rows among them. */
  nulls = 0;
  /** Definition level per row (nullable columns only). */
  defs: Uint8Array;
  i32: Int32Array = new Int32Array(0);
  i64: BigInt64Array = new BigInt64Array(0);
  f32: Float32Array = new Float32Array(0);
  f64: Float64Array = new Float64Array(0);
  /** Booleans as 0/1, one byte a row. */
  bool: Uint8Array = new Uint8Array(0);
  /** Byte-array values, back to back. */
  data: Buffer = Buffer.alloc(0);
  /** Byte-array value i is data[offsets[i], offsets[i+1]). */
  offsets: Int32Array = new Int32Array(1);
  byteLength = 0;
  /**
   * Set on a leaf of a nested column: its levels, one entry per slot (then `defs` says only
   * whether a slot holds a value, and `n` counts slots, not rows).
   */
  levels: NestedLevels | undefined;
  /** Precision and scale of a `decimal` column (values must come with this scale). */
  decimal: DecimalSpec | undefined;
  #capacity = 0;

  constructor(kind: ColumnKind, nullable: boolean) {
    this.kind = kind;
    this.storage = storageOf(kind);
    this.nullable = nullable;
    this.defs = new Uint8Array(nullable ? INITIAL_ROWS : 0);
    this.#allocate(INITIAL_ROWS);
  }

  /** Bytes this column holds for the buffered rows (what a row group's size bound counts). */
  get bytes(): number {
    return this.n * (widthOf(this.storage) + (this.nullable ? 1 : 0) + (this.levels ? 2 : 0)) + this.byteLength;
  }

  #allocate(capacity: number): void {
    const keep = this.n;
    switch (this.storage) {
      case 'i32':
        this.i32 = grow(this.i32, new Int32Array(capacity), keep);
        break;
      case 'i64':
        this.i64 = grow(this.i64, new BigInt64Array(capacity), keep);
        break;
      case 'f32':
        this.f32 = grow(this.f32, new Float32Array(capacity), keep);
        break;
      case 'f64':
        this.f64 = grow(this.f64, new Float64Array(capacity), keep);
        break;
      case 'bool':
        this.bool = grow(this.bool, new Uint8Array(capacity), keep);
        break;
      case 'bytes': {
        this.offsets = grow(this.offsets, new Int32Array(capacity + 1), keep + 1);
        if (this.data.length === 0) this.data = Buffer.allocUnsafe(capacity * 16);
        break;
      }
    }
    if (this.nullable) this.defs = grow(this.defs, new Uint8Array(capacity), keep);
    this.#capacity = capacity;
  }

  /** Makes room for `rows` more rows. */
  reserve(rows: number): void {
    const need = this.n + rows;
    if (need <= this.#capacity) return;
    let cap = Math.max(this.#capacity * 2, INITIAL_ROWS);
    while (cap < need) cap *= 2;
    this.#allocate(cap);
  }

  /** Makes room for `extra` more bytes of byte-array values. */
  reserveBytes(extra: number): void {
    const need = this.byteLength + extra;
    if (need <= this.data.length) return;
    if (need > 0x7fff_ffff)
      throw new RangeError('A column chunk holds more than 2 GiB of byte arrays; lower rowGroupBytes');
    let cap = Math.max(this.data.length * 2, 1024);
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(Math.min(cap, 0x7fff_ffff));
    this.data.copy(next, 0, 0, this.byteLength);
    this.data = next;
  }

  /** Appends a null (the caller checked the column is nullable). */
  pushNull(): void {
    this.reserve(1);
    const i = this.n;
    this.defs[i] = 0;
    this.nulls++;
    this.#zero(i);
    this.n = i + 1;
  }

  #zero(i: number): void {
    switch (this.storage) {
      case 'i32':
        this.i32[i] = 0;
        break;
      case 'i64':
        this.i64[i] = 0n;
        break;
      case 'f32':
        this.f32[i] = 0;
        break;
      case 'f64':
        this.f64[i] = 0;
        break;
      case 'bool':
        this.bool[i] = 0;
        break;
      case 'bytes':
        this.offsets[i + 1] = this.byteLength;
        break;
    }
  }

  /** Appends a number to an i32, f32 or f64 column (the caller checked the value fits). */
  pushNumber(v: number): void {
    this.reserve(1);
    const i = this.n;
    if (this.nullable) this.defs[i] = 1;
    if (this.storage === 'f64') this.f64[i] = v;
    else if (this.storage === 'i32') this.i32[i] = v;
    else this.f32[i] = v;
    this.n = i + 1;
  }

  /** Appends to an i64 column. */
  pushBigInt(v: bigint): void {
    this.reserve(1);
    const i = this.n;
    if (this.nullable) this.defs[i] = 1;
    this.i64[i] = v;
    this.n = i + 1;
  }

  pushBool(v: boolean): void {
    this.reserve(1);
    const i = this.n;
    if (this.nullable) this.defs[i] = 1;
    this.bool[i] = v ? 1 : 0;
    this.n = i + 1;
  }

  /** Appends a string as UTF-8. */
  pushString(s: string): void {
    this.reserve(1);
    this.reserveBytes(s.length * 3);
    const i = this.n;
    if (this.nullable) this.defs[i] = 1;
    const data = this.data;
    const at = this.byteLength;
    const n = s.length;
    let k = 0;
    // short ASCII text code by code: Buffer.write's call cost about 90 ns a string, most of what a
    // short one costs (a join's rows into toParquet: a sixth of its CPU); anything else, and what
    // a non-ASCII character interrupts, Buffer.write writes from the start
    if (n <= SHORT_TEXT)
      for (; k < n; k++) {
        const c = s.charCodeAt(k);
        if (c >= 0x80) break;
        data[at + k] = c;
      }
    this.byteLength = at + (k === n ? n : data.write(s, at, 'utf8'));
    this.offsets[i + 1] = this.byteLength;
    this.n = i + 1;
  }

  pushBytes(b: Uint8Array): void {
    this.reserve(1);
    this.reserveBytes(b.length);
    const i = this.n;
    if (this.nullable) this.defs[i] = 1;
    this.data.set(b, this.byteLength);
    this.byteLength += b.length;
    this.offsets[i + 1] = this.byteLength;
    this.n = i + 1;
  }

  /**
   * Definition levels of `count` rows appended in bulk (their values already in place): all
   * valid, or from an Arrow validity bitmap starting at bit `bitOffset`.
   */
  markValid(count: number, bitmap: Uint8Array | null | undefined, bitOffset: number, nullCount: number): void {
    if (!this.nullable) return;
    const defs = this.defs;
    const start = this.n;
    if (nullCount === 0 || !bitmap) {
      defs.fill(1, start, start + count);
      return;
    }
    for (let k = 0; k < count; k++) {
      const bit = bitOffset + k;
      defs[start + k] = (bitmap[bit >> 3]! >> (bit & 7)) & 1;
    }
    this.nulls += nullCount;
  }

  /** Drops rows from `n` on (undoing a partly appended row). */
  truncate(n: number): void {
    if (n >= this.n) return;
    if (this.nullable) for (let i = n; i < this.n; i++) if (this.defs[i] === 0) this.nulls--;
    if (this.storage === 'bytes') this.byteLength = this.offsets[n]!;
    this.n = n;
    this.levels?.truncate(n);
  }

  /**
   * The buffered rows as plain data for the encoder thread, whose buffers are transferred: the
   * used part of each typed array, copied, and the byte-array bytes themselves, handed over (the
   * column takes a new buffer for the next row group). `subarray(...).slice()` here was
   * meant as a copy, but a Buffer's `slice` is a view: the transfer detached the column's buffer,
   * which then grew again from 1 KB by doubling in every row group (143 MB allocated per 1M tick
   * rows written, where the text is about 50 MB).
   */
  snapshot(): ColumnSnapshot {
    const n = this.n;
    const values =
      this.storage === 'i32'
        ? this.i32.slice(0, n)
        : this.storage === 'i64'
          ? this.i64.slice(0, n)
          : this.storage === 'f32'
            ? this.f32.slice(0, n)
            : this.storage === 'f64'
              ? this.f64.slice(0, n)
              : this.storage === 'bool'
                ? this.bool.slice(0, n)
                : undefined;
    return {
      kind: this.kind,
      nullable: this.nullable,
      n,
      nulls: this.nulls,
      defs: this.nullable ? this.defs.slice(0, n) : new Uint8Array(0),
      values,
      data: this.storage === 'bytes' ? this.#handOverBytes() : undefined,
      offsets: this.storage === 'bytes' ? this.offsets.slice(0, n + 1) : undefined,
      ...(this.levels ? { levels: this.levels.snapshot() } : {}),
    };
  }

  /** The used bytes, given away; the column goes on in a new buffer sized for a row group as large, with 1/8 to spare. */
  #handOverBytes(): Uint8Array {
    const used = this.data.subarray(0, this.byteLength);
    this.data = Buffer.allocUnsafeSlow(Math.min(this.data.length, Math.max(1024, Math.ceil(this.byteLength * 1.125))));
    return used;
  }

  /** A column holding a {@link ColumnBuffer.snapshot}'s rows (its buffers are taken, not copied). */
  static fromSnapshot(s: ColumnSnapshot): ColumnBuffer {
    const col = new ColumnBuffer(s.kind, s.nullable);
    col.n = s.n;
    col.nulls = s.nulls;
    if (s.nullable) col.defs = s.defs;
    if (s.levels) col.levels = NestedLevels.fromSnapshot(s.levels);
    const v = s.values;
    switch (col.storage) {
      case 'i32':
        col.i32 = v as Int32Array;
        break;
      case 'i64':
        col.i64 = v as BigInt64Array;
        break;
      case 'f32':
        col.f32 = v as Float32Array;
        break;
      case 'f64':
        col.f64 = v as Float64Array;
        break;
      case 'bool':
        col.bool = v as Uint8Array;
        break;
      case 'bytes': {
        const data = s.data!;
        col.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        col.offsets = s.offsets!;
        col.byteLength = data.byteLength;
        break;
      }
    }
    return col;
  }

  /** Empties the column for the next row group, keeping its buffers. */
  reset(): void {
    this.n = 0;
    this.nulls = 0;
    this.byteLength = 0;
    this.offsets[0] = 0;
    this.levels?.reset();
  }

  /**
   * Re-types the buffered values (first row group only, see the writer): int -> double or int64,
   * float -> double, null -> anything. Returns false when there is no exact widening.
   */
  widen(to: ColumnKind): boolean {
    const from = this.kind;
    const target = storageOf(to);
    const n = this.n;
    if (from === 'null') {
      this.kind = to;
      this.storage = target;
      this.#capacity = 0;
      this.offsets = new Int32Array(1);
      this.data = Buffer.alloc(0);
      const cap = Math.max(INITIAL_ROWS, n);
      this.n = 0;
      this.#allocate(cap);
      this.n = n;
      if (target === 'bytes') this.offsets.fill(0, 0, n + 1);
      return true;
    }
    const intFrom = this.storage === 'i32' && from !== 'date' && from !== 'time_ms';
    if (TIME_NS[from] !== undefined && TIME_NS[to] !== undefined && TIME_NS[to] < TIME_NS[from]) {
      // a time of day to a finer unit: exact (a day of nanoseconds fits an int64 many times over)
      const factor = TIME_NS[from] / TIME_NS[to];
      const i64 = this.storage === 'i64' ? this.i64 : new BigInt64Array(Math.max(this.#capacity, INITIAL_ROWS));
      for (let i = 0; i < n; i++) i64[i] = (this.storage === 'i64' ? this.i64[i]! : BigInt(this.i32[i]!)) * factor;
      this.i64 = i64;
      this.kind = to;
      this.storage = target;
      this.#capacity = Math.max(this.#capacity, INITIAL_ROWS);
      return true;
    }
    if (intFrom && to === 'double') {
      const f64 = new Float64Array(Math.max(this.#capacity, INITIAL_ROWS));
      for (let i = 0; i < n; i++) f64[i] = from === 'uint32' ? this.i32[i]! >>> 0 : this.i32[i]!;
      this.f64 = f64;
    } else if (intFrom && (to === 'int64' || (to === 'uint64' && from.startsWith('uint')))) {
      const i64 = new BigInt64Array(Math.max(this.#capacity, INITIAL_ROWS));
      for (let i = 0; i < n; i++) i64[i] = BigInt(from === 'uint32' ? this.i32[i]! >>> 0 : this.i32[i]!);
      this.i64 = i64;
    } else if (
      TIMESTAMP_NS[from] !== undefined &&
      TIMESTAMP_NS[to] !== undefined &&
      TIMESTAMP_NS[to] < TIMESTAMP_NS[from]
    ) {
      // to a finer unit: exact (an int64 of nanoseconds covers years 1677-2262, as Parquet's does)
      const factor = TIMESTAMP_NS[from] / TIMESTAMP_NS[to];
      const limit = 2n ** 63n / factor;
      for (let i = 0; i < n; i++) if (this.i64[i]! >= limit || this.i64[i]! <= -limit) return false;
      for (let i = 0; i < n; i++) this.i64[i] = this.i64[i]! * factor;
    } else if (from === 'float' && to === 'double') {
      this.f64 = Float64Array.from(this.f32.subarray(0, Math.max(this.#capacity, INITIAL_ROWS)));
    } else if (intFrom && target === 'i32' && widerInt(from, to)) {
      // int8 -> int16 -> int32 and the like: same storage
    } else return false;
    this.kind = to;
    this.storage = target;
    this.#capacity = Math.max(this.#capacity, INITIAL_ROWS);
    return true;
  }
}

/** Nanoseconds per unit of each time-of-day kind. */
const TIME_NS: Partial<Record<ColumnKind, bigint>> = { time_ms: 1_000_000n, time_us: 1000n, time_ns: 1n };

/** Nanoseconds per unit of each timestamp kind. */
const TIMESTAMP_NS: Partial<Record<ColumnKind, bigint>> = {
  timestamp: 1_000_000n,
  timestamp_us: 1000n,
  timestamp_ns: 1n,
};

const INT_RANGES: Partial<Record<ColumnKind, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 2 ** 32 - 1],
};

/** Range of an INT32-stored integer kind. */
export function intRange(kind: ColumnKind): [number, number] | undefined {
  return INT_RANGES[kind];
}

function widerInt(from: ColumnKind, to: ColumnKind): boolean {
  const a = INT_RANGES[from];
  const b = INT_RANGES[to];
  return a !== undefined && b !== undefined && b[0] <= a[0] && b[1] >= a[1];
}

function grow<A extends Int32Array | BigInt64Array | Float32Array | Float64Array | Uint8Array>(
  old: A,
  next: A,
  keep: number,
): A {
  if (keep > 0) (next as Uint8Array).set((old as Uint8Array).subarray(0, Math.min(keep, old.length)) as never);
  return next;
}
