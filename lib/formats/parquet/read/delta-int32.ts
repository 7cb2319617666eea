/**
 * A fix-up for hyparquet's DELTA_BINARY_PACKED decoding of INT32 pages. A page's first value is a
 * zigzag varint; DuckDB writes a UINTEGER column's unsigned value there (3000000000, not its
 * int32 bits), which needs 33 bits zigzagged. hyparquet reads it with a 32-bit varint and drops
 * bit 32, which after the zigzag shift is bit 31 of the value, so every value of the page read
 * 2^31 off, silently (3000000000 read as 852516352). The deltas are read with 33 bits already,
 * and all arithmetic is modulo 2^32: flipping bit 31 of every value of such a page restores it.
 */

/** Skips one unsigned varint at `at` of `bytes`; returns where the next begins. */
function skipVarint(bytes: Uint8Array, at: number): number {
  while (at < bytes.length && (bytes[at]! & 0x80) !== 0) at++;
  return at + 1;
}

/**
 * True when the first value of the DELTA_BINARY_PACKED INT32 data starting at `at` has bit 32 of
 * its zigzag varint set (the 5th byte's bit 4), the bit hyparquet's 32-bit read drops.
 */
export function firstValueHasBit32(bytes: Uint8Array, at: number): boolean {
  // block size, miniblocks per block, total value count, then the first value
  let p = skipVarint(bytes, skipVarint(bytes, skipVarint(bytes, at)));
  const start = p;
  p = skipVarint(bytes, p);
  return p - start >= 5 && ((bytes[start + 4]! >>> 4) & 1) === 1;
}

/** Restores `values`, decoded by hyparquet from the DELTA_BINARY_PACKED INT32 data at `at` of `bytes` (see the module comment). */
export function fixDeltaInt32(values: Int32Array, bytes: Uint8Array, at: number): void {
  if (values.length === 0 || !firstValueHasBit32(bytes, at)) return;
  for (let i = 0; i < values.length; i++) values[i] = values[i]! ^ -0x80000000;
}
