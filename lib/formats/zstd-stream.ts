/**
 * A streaming Zstandard decompressor for `.zst` input (CSV, JSON Lines): fzstd, pure JavaScript,
 * so no compiler and no platform binary is needed, and the file is never held whole. Node 20's
 * zlib has no zstd; the one-shot codecs for Arrow and Parquet are in zstd.ts.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';

/** A Transform from zstd frames to their bytes; a corrupt frame is the stream's error. */
export function createZstdDecompress(): Transform {
  let out: Transform;
  const decoder = new Decompress((data) => {
    if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  out = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      try {
        decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        callback();
      } catch (error) {
        callback(new Error(`zstd: ${(error as Error).message}`));
      }
    },
    flush(callback: TransformCallback): void {
      try {
        decoder.push(new Uint8Array(0), true);
        callback();
      } catch (error) {
        callback(new Error(`zstd: ${(error as Error).message}`));
      }
    },
  });
  return out;
}
