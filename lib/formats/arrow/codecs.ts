/**
 * IPC body compression for apache-arrow. apache-arrow ships no codecs: it compresses and
 * decompresses record-batch bodies only through codecs registered in its `compressionRegistry`.
 * We register LZ4_FRAME (lz4-napi) and ZSTD (@toondepauw/node-zstd: prebuilt
 * binaries, no compiler at install) once, and probe each with a round trip so
 * that a broken native binding fails here, with a clear message, instead of mid-file.
 */
import { compressionRegistry, CompressionType } from 'apache-arrow';
import { compressFrameSync } from '../lz4.ts';
import { UnsupportedError } from '../../core/errors.ts';
import { zstdCompressSync } from '../zstd.ts';
import { decodeLz4Buffer, decodeZstdBuffer } from './buffer-decode.ts';

/** Body compression of an Arrow IPC file or stream: LZ4 frame, Zstandard, or none (`null`). */
export type Compression = 'lz4' | 'zstd' | null;

/** The compressions spillway writes, for option validation. */
export const COMPRESSIONS: readonly ('lz4' | 'zstd' | 'none')[] = ['lz4', 'zstd', 'none'];

interface Codec {
  encode(data: Uint8Array): Uint8Array;
  decode(data: Uint8Array): Uint8Array;
}

// Buffer.from(view) would copy; this shares the memory.
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

const codecs: Record<'lz4' | 'zstd', { type: CompressionType; codec: Codec }> = {
  lz4: {
    type: CompressionType.LZ4_FRAME,
    codec: {
      encode: (data) => compressFrameSync(asBuffer(data)),
      // capped like zstd (buffer-decode.ts)
      decode: (data) => decodeLz4Buffer(data),
    },
  },
  zstd: {
    type: CompressionType.ZSTD,
    codec: {
      encode: (data) => zstdCompressSync(data),
      // capped by what the file and the column declare (buffer-decode.ts)
      decode: (data) => decodeZstdBuffer(data),
    },
  },
};

let registered = false;

/** Compresses and decompresses a small buffer; throws when the codec is broken. */
function probe(name: string, codec: Codec): void {
  const input = new TextEncoder().encode(`spillway ${name} probe `.repeat(8));
  let output: Uint8Array;
  try {
    output = codec.decode(codec.encode(input));
  } catch (error) {
    throw new UnsupportedError(`The ${name} codec is broken: its round-trip probe threw`, {}, { cause: error });
  }
  if (output.byteLength !== input.byteLength || !output.every((byte, i) => byte === input[i])) {
    throw new UnsupportedError(`The ${name} codec is broken: its round-trip probe returned different bytes`, {});
  }
}

/**
 * Registers LZ4_FRAME and ZSTD in apache-arrow's `compressionRegistry`. Idempotent: the first
 * call probes and registers, later calls return at once. Throws {@link UnsupportedError} when a
 * codec fails its probe.
 */
export function registerArrowCodecs(): void {
  if (registered) return;
  for (const [name, { type, codec }] of Object.entries(codecs)) {
    probe(name, codec);
    compressionRegistry.set(type, codec);
  }
  registered = true;
}

/** apache-arrow's `CompressionType` for a {@link Compression} (`null` for none). */
export function toCompressionType(compression: Compression): CompressionType | null {
  return compression === null ? null : codecs[compression].type;
}

/** Direct access to the registered codec functions (e.g. to compress off the main thread). */
export function getCodec(compression: 'lz4' | 'zstd'): Codec {
  return codecs[compression].codec;
}
