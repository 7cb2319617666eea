/**
 * Zstandard for the Arrow IPC ZSTD codec and Parquet zstd pages, with no compiler at install.
 *
 * - Compression: @toondepauw/node-zstd (prebuilt napi-rs binaries), level 3, on the calling
 *   thread or the libuv thread pool.
 * - Decompression: node-zstd (libzstd; in bench/zstd.ts, interleaved piece by piece, the fastest
 *   decoder that needs no compiler, ahead of zstd-napi, the compiled binding used before, and far
 *   ahead of fzstd, which Parquet pages went through before). When the decompressed size is
 *   known (a Parquet page, see {@link zstdDecompressInto}) output never goes far past it: a frame
 *   that does not cap itself there is decoded by zstddec (libzstd in WebAssembly) into a buffer
 *   of exactly that size, which stops at its first block beyond.
 */
import type { Decoder, Encoder } from '@toondepauw/node-zstd';
import { lazyRequire } from '../core/lazy-require.ts';
import { zstdWasmDecode } from './zstd-wasm.ts';

// the native addon loads on first use, not when spillway is imported
const zstd = lazyRequire<typeof import('@toondepauw/node-zstd')>('@toondepauw/node-zstd');

/** zstd's default level: what zstd-napi used and what Arrow and Parquet writers expect. */
const LEVEL = 3;

/** Largest output decoded into a buffer of a fixed size (zstd-wasm.ts drops large instances after). */
const MAX_WASM_OUTPUT = 1 << 30;

let encoder: Encoder | undefined;
let decoder: Decoder | undefined;

// Buffer.from(view) would copy; this shares the memory.
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Compresses `data` into one zstd frame on the calling thread. */
export function zstdCompressSync(data: Uint8Array): Buffer {
  return (encoder ??= new (zstd().Encoder)(LEVEL)).encodeSync(asBuffer(data));
}

/** Compresses `data` into one zstd frame on the libuv thread pool. */
export function zstdCompress(data: Uint8Array): Promise<Buffer> {
  try {
    return (encoder ??= new (zstd().Encoder)(LEVEL)).encode(asBuffer(data));
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/**
 * The content size the first frame of `data` declares, or undefined when it declares none
 * (or `data` is not a zstd frame). Frame header layout: RFC 8878, section 3.1.1.1.
 */
export function zstdFrameContentSize(data: Uint8Array): number | undefined {
  if (data.length < 6 || data[0] !== 0x28 || data[1] !== 0xb5 || data[2] !== 0x2f || data[3] !== 0xfd) return undefined;
  const descriptor = data[4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + dictBytes;
  if (at + fcsBytes > data.length) return undefined;
  let size = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + data[at + i]!;
  return fcsBytes === 2 ? size + 256 : size;
}

/**
 * An upper bound of what the zstd frames in `data` decompress to, from their block headers
 * (RFC 8878, 3.1.1.2): raw and RLE blocks give their size, a compressed block at most the
 * 128 KB block maximum. Undefined when a header does not parse (the decoder then says why).
 */
export function zstdDecodedBound(data: Uint8Array): number | undefined {
  let at = 0;
  let bound = 0;
  while (at < data.length) {
    if (data.length - at < 6) return undefined;
    const magic = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // a skippable frame: 4-byte size after the magic number
      at += (8 + (data[at + 4]! | (data[at + 5]! << 8) | (data[at + 6]! << 16) | (data[at + 7]! << 24))) >>> 0;
      continue;
    }
    if (magic !== (0xfd2fb528 | 0)) return undefined;
    const descriptor = data[at + 4]!;
    const singleSegment = (descriptor >> 5) & 1;
    at +=
      5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]! + [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
    for (let last = 0; last === 0; ) {
      if (at + 3 > data.length) return undefined;
      const header = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16);
      last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) return undefined;
      bound += type === 2 ? 128 * 1024 : size;
      at += 3 + (type === 1 ? 1 : size);
    }
    if ((descriptor >> 2) & 1) at += 4; // content checksum
  }
  return bound;
}

function decodeWasm(data: Uint8Array, capacity: number, exact: boolean): Uint8Array {
  const out = zstdWasmDecode(data, capacity);
  if (out instanceof Error || (exact && out.length !== capacity))
    throw new Error(
      exact
        ? `zstd: frame does not decompress to the ${capacity} bytes declared (it is corrupt or expands past them)`
        : `zstd: frame is corrupt or decompresses to more than the ${capacity} bytes it may hold`,
    );
  return out;
}

/**
 * Decompresses zstd frames into exactly `size` bytes, never holding more than about `size`:
 * through node-zstd (libzstd, the fastest here) when the frame caps its own output near `size`
 * (a declared content size equal to it, which libzstd allocates and stops at, or block headers
 * whose bound is within 1 MB of it), else through libzstd in WebAssembly into a buffer of
 * `size` bytes, which stops there.
 * @throws Error when the frames decode to more or fewer bytes, or are corrupt
 */
export function zstdDecompressInto(data: Uint8Array, size: number): Uint8Array {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_WASM_OUTPUT)
    throw new Error(`zstd: cannot decompress into ${size} bytes`);
  if (size === 0) {
    if (data.length === 0 || zstdFrameContentSize(data) === 0) return new Uint8Array(0);
    throw new Error('zstd: frame is not empty where 0 bytes are declared');
  }
  const declared = zstdFrameContentSize(data);
  const bound = declared === undefined ? zstdDecodedBound(data) : undefined;
  if (declared === size || (bound !== undefined && bound <= size + (1 << 20))) {
    let out: Uint8Array;
    try {
      out = (decoder ??= new (zstd().Decoder)()).decodeSync(asBuffer(data));
    } catch (error) {
      throw new Error(`zstd: frame does not decompress to the ${size} bytes declared: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (out.length !== size)
      throw new Error(`zstd: frame decompresses to ${out.length} bytes, not the ${size} bytes declared`);
    return out;
  }
  return decodeWasm(data, size, true);
}

/**
 * Decompresses zstd frames whose decompressed size is not known exactly into at most `cap`
 * bytes, never holding much more: a declared content size above `cap` is refused before any
 * allocation, frames whose block headers bound them within `cap` go through node-zstd, others
 * through WebAssembly into a buffer of `cap` bytes.
 * @throws Error when the frames are corrupt or would decompress to more than `cap` bytes
 */
export function zstdDecompressCapped(data: Uint8Array, cap: number): Uint8Array {
  const limit = Math.min(cap, MAX_WASM_OUTPUT);
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`zstd: cannot decompress into ${cap} bytes`);
  const declared = zstdFrameContentSize(data);
  if (declared !== undefined) {
    if (declared > limit)
      throw new Error(`zstd: frame declares ${declared} bytes, more than the ${limit} bytes it may hold`);
    return zstdDecompressInto(data, declared);
  }
  const bound = zstdDecodedBound(data);
  if (bound === undefined) throw new Error('zstd: frame header or block headers are corrupt');
  if (bound <= limit) return (decoder ??= new (zstd().Decoder)()).decodeSync(asBuffer(data));
  return decodeWasm(data, limit, false);
}

/**
 * Decompresses one or more zstd frames on the calling thread.
 * @param size the decompressed size when known: decompression stops there (see {@link zstdDecompressInto})
 */
export function zstdDecompressSync(data: Uint8Array, size?: number): Uint8Array {
  if (size !== undefined) return zstdDecompressInto(data, size);
  return (decoder ??= new (zstd().Decoder)()).decodeSync(asBuffer(data));
}
