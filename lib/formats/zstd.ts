/**
 * Zstandard for the Arrow IPC ZSTD codec and Parquet zstd pages, from @toondepauw/node-zstd:
 * prebuilt native binaries for the common platforms (napi-rs optional packages, as lz4-napi and
 * snappy), so `npm install` needs no compiler (zstd-napi compiled zstd from C with node-gyp).
 * One encoder (level 3, zstd's default) and one decoder, shared: they hold no state between calls.
 */
import type { Decoder, Encoder } from '@toondepauw/node-zstd';
import { lazyRequire } from '../core/lazy-require.ts';

// the native addon loads on first use, not when spillway is imported
const zstd = lazyRequire<typeof import('@toondepauw/node-zstd')>('@toondepauw/node-zstd');

/** zstd's default level: what zstd-napi used and what Arrow and Parquet writers expect. */
const LEVEL = 3;

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

/** Decompresses one or more zstd frames on the calling thread. */
export function zstdDecompressSync(data: Uint8Array): Buffer {
  return (decoder ??= new (zstd().Decoder)()).decodeSync(asBuffer(data));
}
