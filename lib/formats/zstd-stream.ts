/**
 * A streaming Zstandard decompressor for `.zst` input (CSV, JSON Lines): fzstd, pure JavaScript,
 * so no compiler and no platform binary is needed, and the file is never held whole. Node 20's
 * zlib has no zstd; the one-shot codecs for Arrow and Parquet are in zstd.ts. fzstd loads with
 * the first compressed chunk, not with every reader that might meet one.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Decompress } from 'fzstd';

let fzstd: Promise<typeof import('fzstd')> | undefined;

/** A Transform from zstd frames to their bytes; a corrupt frame is the stream's error. */
export function createZstdDecompress(): Transform {
  let decoder: Decompress | undefined;
  const push = (data: Uint8Array) => {
    if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  };
  /** Feeds `bytes` to the decoder (made on first use), then calls back. */
  const feed = (bytes: Uint8Array, final: boolean, callback: TransformCallback): void => {
    const run = (): void => {
      try {
        decoder!.push(bytes, final);
        callback();
      } catch (error) {
        callback(new Error(`zstd: ${(error as Error).message}`));
      }
    };
    if (decoder) return run();
    (fzstd ??= import('fzstd')).then(({ Decompress }) => {
      decoder = new Decompress(push);
      run();
    }, callback);
  };
  const out = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), false, callback);
    },
    flush(callback: TransformCallback): void {
      feed(new Uint8Array(0), true, callback);
    },
  });
  return out;
}
