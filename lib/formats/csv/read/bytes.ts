/**
 * The bytes of a CSV input: a file (from an offset when it can seek), decompressed when it is
 * gzip or zstd (which cannot seek: they decompress from the start and skip to the offset), or a
 * caller's stream; and the sample the sniffer reads from the start of a file.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createZstdDecompress } from '../../zstd-stream.ts';
import { closeStream } from '../../../io/close-stream.ts';

/** An open byte stream and the file stream under it (for bytes read and closing). */
export interface CsvBytes {
  bytes: PassThrough;
  file: ReadStream | undefined;
}

function decompressor(compression: 'gzip' | 'zstd'): Transform {
  return compression === 'gzip' ? createGunzip() : createZstdDecompress();
}

/**
 * Opens the input from `start` (a byte offset in the decompressed, transcoded text). Errors
 * arrive on `bytes`; `onError` sees them too (csv-parse reads them from its own pipeline).
 * @param transcode a pass to UTF-8 for input in another encoding (read/utf16.ts): like a
 *   decompressor, it reads from the start
 */
export function openCsvBytes(
  input: string | Readable,
  compression: 'gzip' | 'zstd' | undefined,
  start: number,
  onError?: (error: Error) => void,
  transcode?: Transform,
): CsvBytes {
  const seeks = compression === undefined && transcode === undefined;
  const file =
    typeof input === 'string'
      ? createReadStream(input, { highWaterMark: 256 * 1024, start: seeks ? start || undefined : undefined })
      : undefined;
  const source = file ?? (input as Readable);
  const stages: NodeJS.ReadableStream[] = compression ? [source, decompressor(compression)] : [source];
  if (transcode) stages.push(transcode);
  if ((!seeks || file === undefined) && start > 0) stages.push(skipBytes(start));
  const bytes = new PassThrough({ highWaterMark: 0 });
  streamPipeline([...stages, bytes] as unknown as [Readable, PassThrough], (error) => {
    if (error) onError?.(error);
  });
  return { bytes, file };
}

/** Up to `size` bytes from the start of the (decompressed) input, and whether that is all of it. */
/**
 * Reads a sample that holds at least two whole lines (a header and a record) when the file has
 * them: a very wide header (100,000 columns) does not fit the default 64 KB, and a header cut
 * short would give the sniffer the wrong column count. Grows fourfold up to 64 MB.
 */
export async function readSample(
  path: string,
  compression: 'gzip' | 'zstd' | undefined,
  size: number,
): Promise<{ sample: Buffer; complete: boolean }> {
  for (let bytes = size; ; bytes *= 4) {
    const sampled = await readSampleOnce(path, compression, bytes);
    if (sampled.complete || bytes >= 64 * 2 ** 20 || newlines(sampled.sample) >= 2) return sampled;
  }
}

function newlines(sample: Buffer): number {
  const first = sample.indexOf(10);
  return first === -1 ? 0 : sample.indexOf(10, first + 1) === -1 ? 1 : 2;
}

async function readSampleOnce(
  path: string,
  compression: 'gzip' | 'zstd' | undefined,
  size: number,
): Promise<{ sample: Buffer; complete: boolean }> {
  const { bytes, file } = openCsvBytes(path, compression, 0);
  const chunks: Buffer[] = [];
  let length = 0;
  let complete = true;
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.byteLength;
      if (length >= size) {
        complete = false;
        break;
      }
    }
  } finally {
    bytes.destroy();
    if (file) await closeStream(file);
  }
  const all = Buffer.concat(chunks);
  return { sample: all.subarray(0, size), complete: complete && all.byteLength <= size };
}

/** Drops the first `count` bytes of a byte stream. */
export function skipBytes(count: number): Transform {
  let left = count;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (left === 0) return callback(null, chunk);
      if (chunk.byteLength <= left) {
        left -= chunk.byteLength;
        return callback();
      }
      const rest = chunk.subarray(left);
      left = 0;
      callback(null, rest);
    },
  });
}
