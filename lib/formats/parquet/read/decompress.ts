/**
 * Page decompressors that stop at the page's declared size. hyparquet calls a codec with the
 * uncompressed size its page header declares and checks the length afterwards; a codec that
 * decompresses first and lets the caller check would hold whatever a hostile page expands to
 * (a zstd frame of zeros expands 32,768x). Each codec here writes into at most the declared
 * bytes and fails as soon as the data goes past them:
 *
 * - zstd: libzstd (WebAssembly) into a buffer of the declared size (`../../zstd.ts`);
 * - gzip and brotli: node:zlib with `maxOutputLength`, which stops its streaming inflater there;
 * - snappy: the length a snappy block starts with must be the declared size before hysnappy
 *   decodes it into that size;
 * - LZ4 and LZ4_RAW: hyparquet-compressors' decoders write into a fixed buffer of that size.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Compressors } from 'hyparquet';
import { compressors as extraCompressors } from 'hyparquet-compressors';
import { zstdDecompressInto } from '../../zstd.ts';

/** The length a raw snappy block declares (its varint preamble), or -1 when unreadable. */
export function snappyDeclaredLength(input: Uint8Array): number {
  let value = 0;
  for (let i = 0, shift = 1; i < Math.min(input.length, 5); i++, shift *= 128) {
    value += (input[i]! & 0x7f) * shift;
    if ((input[i]! & 0x80) === 0) return value;
  }
  return -1;
}

function zlibCapped(input: Uint8Array, size: number, codec: 'GZIP' | 'BROTLI'): Uint8Array {
  // zlib cannot be told "at most 0 bytes": an empty page is empty whatever its payload
  if (size === 0) return new Uint8Array(0);
  const options = { maxOutputLength: size };
  try {
    if (codec === 'BROTLI') return brotliDecompressSync(input, options);
    // GZIP pages are gzip members; a few writers store a zlib stream instead
    return input[0] === 0x1f && input[1] === 0x8b ? gunzipSync(input, options) : inflateSync(input, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`${codec} page expands past the ${size} bytes its header declares`, { cause: error });
    }
    throw new Error(`${codec} page is corrupt: ${(error as Error).message}`, { cause: error });
  }
}

/** hyparquet's codecs, each stopping at the declared uncompressed size. */
export const cappedCompressors: Compressors = {
  ...extraCompressors,
  SNAPPY: (input: Uint8Array, size: number) => {
    // hyparquet-compressors' snappy rejects an empty page: it is empty whatever its payload
    if (size === 0) return new Uint8Array(0);
    const declared = snappyDeclaredLength(input);
    if (declared !== size)
      throw new Error(`SNAPPY page declares ${declared} bytes in its block, ${size} in its header`);
    return extraCompressors.SNAPPY!(input, size);
  },
  GZIP: (input: Uint8Array, size: number) => zlibCapped(input, size, 'GZIP'),
  BROTLI: (input: Uint8Array, size: number) => zlibCapped(input, size, 'BROTLI'),
  ZSTD: (input: Uint8Array, size: number) => zstdDecompressInto(input, size),
};
