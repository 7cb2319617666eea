/**
 * Thrift compact protocol, write side only: just what Parquet page headers and the footer need
 * (structs, lists of structs or i32/strings, i32/i64 zigzag varints, binary, bool). Fields are
 * written through {@link ThriftWriter.field} with their id; the writer keeps the delta encoding of
 * field ids per nesting level.
 */

/** Compact protocol type ids. */
export const T = {
  TRUE: 1,
  FALSE: 2,
  I8: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

const encoder = new TextEncoder();

/** A growable byte buffer with compact-protocol primitives. */
export class ThriftWriter {
  bytes: Uint8Array;
  length = 0;
  /** Last field id of each open struct. */
  #lastIds: number[] = [];
  #lastId = 0;

  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
  }

  #reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /** The bytes written so far (a view, valid until the next write). */
  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  byte(b: number): void {
    this.#reserve(1);
    this.bytes[this.length++] = b;
  }

  /** Unsigned varint of a non-negative integer below 2^53. */
  varint(value: number): void {
    this.#reserve(10);
    let v = value;
    while (v >= 0x80) {
      this.bytes[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.length++] = v;
  }

  /** Unsigned varint of a bigint (for zigzagged i64). */
  #bigVarint(value: bigint): void {
    this.#reserve(10);
    let v = value;
    while (v >= 0x80n) {
      this.bytes[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.bytes[this.length++] = Number(v);
  }

  /** Field header: delta form when the id grows by 1..15. */
  field(id: number, type: number): void {
    const delta = id - this.#lastId;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.varint(((id << 1) ^ (id >> 31)) >>> 0);
    }
    this.#lastId = id;
  }

  i32(id: number, value: number): void {
    this.field(id, T.I32);
    this.varint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** i64 from a number (any safe integer) or a bigint. */
  i64(id: number, value: number | bigint): void {
    this.field(id, T.I64);
    if (typeof value === 'number' && value >= 0 && value < 2 ** 52) this.varint(value * 2);
    else {
      const v = BigInt(value);
      this.#bigVarint(v >= 0n ? v << 1n : (-v << 1n) - 1n);
    }
  }

  bool(id: number, value: boolean): void {
    this.field(id, value ? T.TRUE : T.FALSE);
  }

  binary(id: number, value: Uint8Array): void {
    this.field(id, T.BINARY);
    this.rawBinary(value);
  }

  string(id: number, value: string): void {
    this.binary(id, encoder.encode(value));
  }

  /** A length-prefixed byte string without field header (list elements). */
  rawBinary(value: Uint8Array): void {
    this.varint(value.length);
    this.#reserve(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
  }

  /** Opens a nested struct as field `id`; close with {@link ThriftWriter.end}. */
  struct(id: number): void {
    this.field(id, T.STRUCT);
    this.begin();
  }

  /** Starts a struct (a list element or the top-level struct). */
  begin(): void {
    this.#lastIds.push(this.#lastId);
    this.#lastId = 0;
  }

  /** Ends the current struct (stop byte). */
  end(): void {
    this.byte(0);
    this.#lastId = this.#lastIds.pop() ?? 0;
  }

  /** A list header as field `id`; then write `size` elements. */
  list(id: number, elementType: number, size: number): void {
    this.field(id, T.LIST);
    if (size < 15) this.byte((size << 4) | elementType);
    else {
      this.byte(0xf0 | elementType);
      this.varint(size);
    }
  }

  /** A bare zigzag i64 of a non-negative safe integer (list elements). */
  rawI64(value: number): void {
    this.varint(value * 2);
  }

  /** A bare zigzag i32 (list elements). */
  rawI32(value: number): void {
    this.varint(((value << 1) ^ (value >> 31)) >>> 0);
  }
}
