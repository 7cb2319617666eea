/**
 * Where a text sink's bytes go: a file committed atomically (optionally gzip-compressed), or a
 * caller's Writable. Every write resolves when the bytes are accepted, which is the sink's
 * backpressure.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { keepForResume } from './temp-files.ts';
import { AtomicFile } from './atomic-file.ts';
import { IoError } from '../core/errors.ts';
import { abandonCaller, endCaller, writeToCaller } from './caller-stream.ts';
import type { CommitPoint } from './commit-point.ts';

/** An open byte target. */
export interface ByteOutput {
  /** Appends bytes; a wait on a caller's stream ends when `signal` aborts (the sink was destroyed). */
  write(data: string | Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Finishes: flushes, and for files renames into place. Returns bytes written (compressed when gzip). */
  commit(point?: CommitPoint): Promise<number>;
  /** Gives up: removes the temporary file (files) or destroys the stream (streams). */
  abort(error: Error | null): Promise<void>;
  /** Plain files only: fsyncs and says where the bytes are (checkpoints). */
  sync?(): Promise<{ tempPath: string; length: number }>;
  /** Plain files only: closes, leaving the temporary file for a resumed run. */
  release?(): Promise<void>;
}

/** Where a resumed output continues: an earlier run's temporary file and its committed length. */
export interface ByteOutputResume {
  tempPath: string;
  length: number;
}

/** Opens a byte target: a path (atomic; gzip when asked) or a Writable. */
export async function openByteOutput(
  target: string | Writable,
  options: { gzip: boolean; stage: string; resume?: ByteOutputResume },
): Promise<ByteOutput> {
  if (typeof target !== 'string') return streamOutput(target, options.stage);
  const resume = options.resume;
  const file =
    resume && !options.gzip
      ? await AtomicFile.resume(target, resume.tempPath, resume.length, { stage: options.stage })
      : await AtomicFile.open(target, { stage: options.stage });
  return options.gzip ? gzipOutput(file) : fileOutput(file);
}

function fileOutput(file: AtomicFile): ByteOutput {
  return {
    write: (data) => file.write(data),
    commit: async (point) => {
      await file.commit({ point });
      return file.bytesWritten;
    },
    abort: () => file.abort(),
    sync: async () => {
      // the length before the fsync: bytes appended while it runs are not promised
      const length = file.bytesWritten;
      await file.sync();
      // a checkpoint will name this file: sweeps by other runs must keep it for the resume
      await keepForResume(file.tempPath);
      return { tempPath: file.tempPath, length };
    },
    release: () => file.release(),
  };
}

/** Gzip in a zlib stream (off the main thread's hot path), its output appended to the file in order. */
function gzipOutput(file: AtomicFile): ByteOutput {
  const gzip: Gzip = createGzip();
  let tail: Promise<void> = Promise.resolve();
  let queued = 0;
  let failure: Error | undefined;
  gzip.on('data', (chunk: Buffer) => {
    queued += chunk.byteLength;
    tail = tail
      .then(() => file.write(chunk))
      .then(
        () => {
          queued -= chunk.byteLength;
        },
        (error: unknown) => {
          failure ??= error as Error;
        },
      );
  });
  gzip.on('error', (error) => {
    failure ??= error;
  });
  return {
    async write(data) {
      if (failure) throw failure;
      if (!gzip.write(data)) await once(gzip, 'drain');
      if (queued > 4 * 1024 * 1024) await tail;
      if (failure) throw failure;
    },
    async commit(point) {
      gzip.end();
      await once(gzip, 'end');
      await tail;
      if (failure) throw failure;
      await file.commit({ point });
      return file.bytesWritten;
    },
    async abort() {
      gzip.destroy();
      await tail.catch(() => undefined);
      await file.abort();
    },
  };
}

function streamOutput(stream: Writable, stage: string): ByteOutput {
  let bytes = 0;
  const wrap = (error: unknown): IoError =>
    new IoError(`Cannot write to the output stream: ${(error as Error).message}`, { stage }, { cause: error });
  return {
    async write(data, signal) {
      bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      await writeToCaller(stream, data, signal).catch((error: unknown) => Promise.reject(wrap(error)));
    },
    async commit() {
      await endCaller(stream).catch((error: unknown) => Promise.reject(wrap(error)));
      return bytes;
    },
    async abort(error) {
      abandonCaller(stream, error);
    },
  };
}
