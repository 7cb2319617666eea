/**
 * A growable byte buffer that pages and chunks are assembled in: little-endian primitives, varints
 * and bulk copies, doubling its capacity when full.
 */
export class Bytes {
  buf: Uint8Array;
  view: DataView;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  varint(value: number): void {
    this.reserve(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  /** Copies `src[start, end)` in. */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.reserve(n);
    if (n < 16) {
      const out = this.buf;
      let at = this.length;
      for (let p = start; p < end; p++) out[at++] = src[p]!;
    } else this.buf.set(src.subarray(start, end), this.length);
    this.length += n;
  }

  /** A view of what was written (valid until the next write). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** An exact-size copy of what was written. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
