/**
 * CRC-32 (IEEE, as zlib and gzip compute it) for spill files, Arrow IPC files and Parquet pages.
 * Node 20.15+ and 22 have `zlib.crc32`, which is native and fast; older Node 20 releases lack
 * it, so a table-driven fallback computes the same value.
 */
import zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, value?: number) => number;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The table-driven CRC-32, exported so tests can compare it with the native one. */
export function crc32Fallback(data: Uint8Array, value = 0): number {
  table ??= makeTable();
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as unknown as { crc32?: Crc32 }).crc32;

/** CRC-32 of `data`, continuing from `value` (the CRC of the bytes before it; 0 to start). */
export const crc32: Crc32 =
  typeof native === 'function' ? (data, value = 0) => native(data, value) >>> 0 : crc32Fallback;

/** True when the native `zlib.crc32` is used. */
export const nativeCrc32: boolean = typeof native === 'function';

/** A CRC-32 as 8 lowercase hex digits, the form the manifest stores. */
export function crcHex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
