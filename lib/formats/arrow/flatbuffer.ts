/** Bounds-checked reading of flatbuffers (the Arrow IPC metadata): a corrupt offset throws instead of reading past the bytes. */

/** A flatbuffer table whose every read is bounds-checked (throws a plain Error outside its bytes). */
export class Table {
  readonly view: DataView;
  readonly pos: number;
  readonly vtable: number;
  readonly vtableSize: number;

  constructor(view: DataView, pos: number) {
    this.view = view;
    this.pos = pos;
    check(view, pos, 4);
    this.vtable = pos - view.getInt32(pos, true);
    check(view, this.vtable, 4);
    this.vtableSize = view.getUint16(this.vtable, true);
    check(view, this.vtable, this.vtableSize);
  }

  /** Absolute position of field `i`, or 0 when absent. */
  field(i: number): number {
    const at = 4 + 2 * i;
    if (at + 2 > this.vtableSize) return 0;
    const off = this.view.getUint16(this.vtable + at, true);
    return off === 0 ? 0 : this.pos + off;
  }

  int16(i: number, fallback: number): number {
    const at = this.field(i);
    if (!at) return fallback;
    check(this.view, at, 2);
    return this.view.getInt16(at, true);
  }

  uint8(i: number, fallback: number): number {
    const at = this.field(i);
    if (!at) return fallback;
    check(this.view, at, 1);
    return this.view.getUint8(at);
  }

  int64(i: number, fallback: number): number {
    const at = this.field(i);
    if (!at) return fallback;
    check(this.view, at, 8);
    return safe(this.view.getBigInt64(at, true));
  }

  int32(i: number, fallback: number): number {
    const at = this.field(i);
    if (!at) return fallback;
    check(this.view, at, 4);
    return this.view.getInt32(at, true);
  }

  /** Target of an offset field (table or vector), or 0. */
  indirect(i: number): number {
    const at = this.field(i);
    if (!at) return 0;
    check(this.view, at, 4);
    return at + this.view.getUint32(at, true);
  }
}

/** Throws when bytes `[pos, pos + length)` are not inside `view`. */
export function check(view: DataView, pos: number, length: number): void {
  if (pos < 0 || length < 0 || pos + length > view.byteLength)
    throw new Error(`metadata offset ${pos} (+${length}) outside its ${view.byteLength} bytes`);
}

export function safe(value: bigint): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error(`metadata holds an invalid length or offset ${value}`);
  return Number(value);
}
