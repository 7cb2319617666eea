/**
 * Where toArrow's encoded batches go: a file (through ArrowFileWriter, under an intermediate
 * name so a widening rewrite can read a finished file back; the registry lets an abort remove
 * every file made) or a caller's Writable (apache-arrow's writer, with the stream's backpressure).
 */
import { rename, unlink } from 'node:fs/promises';
import { forgetTempFile, newTempPath } from '../../lib/io/temp-files.ts';
import type { CommitPoint } from '../../lib/io/commit-point.ts';
import { type RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, type Schema } from 'apache-arrow';
import type { Writable } from 'node:stream';
import { IoError } from '../../lib/core/errors.ts';
import { abandonCaller, drainCaller, endCaller } from '../../lib/io/caller-stream.ts';
import { ArrowFileWriter } from '../../lib/formats/arrow/ipc-writer.ts';
import type { ArrowFormat } from '../../lib/formats/arrow/ipc-reader.ts';
import { registerArrowCodecs, toCompressionType, type Compression } from '../../lib/formats/arrow/codecs.ts';

/** Where the encoded batches go: a file (through ArrowFileWriter) or a caller's Writable. */
export interface Target {
  readonly schema: Schema;
  readonly bytesWritten: number;
  readonly numRows: number;
  readonly numBatches: number;
  /** Writes a batch; a wait on a caller's stream ends when `signal` aborts (the sink was destroyed). */
  write(batch: RecordBatch, signal?: AbortSignal): Promise<void>;
  /** Finishes the output; a file passes the sink's commit `point` just before its rename into place. */
  commit(point?: CommitPoint): Promise<void>;
  abort(error: Error | null): Promise<void>;
}

/** The files a path target has made, so that an abort removes every one, even mid-rewrite. */
export interface FileRegistry {
  aborted: boolean;
  /** Committed intermediate files. */
  parts: Set<string>;
  /** Writers not yet committed. */
  live: Set<ArrowFileWriter>;
}

/** A file target: an ArrowFileWriter writing an intermediate name, renamed to `path` on commit. */
export interface FileTarget extends Target {
  /** Commits under the intermediate name only (for a rewrite) and returns that name. */
  commitPart(): Promise<string>;
}

/** A target writing `path` through ArrowFileWriter (an intermediate name, renamed on commit). */
export async function fileTarget(
  path: string,
  schema: Schema,
  compression: Compression,
  format: ArrowFormat,
  files: FileRegistry,
): Promise<FileTarget> {
  // the writer renames its temporary file to `part` on commit; `part` becomes `path` only when
  // the whole run succeeded, so a rewrite can read a finished file back
  const part = await newTempPath(path, 'part');
  const writer = await ArrowFileWriter.open(part, { schema, compression, format });
  files.live.add(writer);
  const commitPart = async (): Promise<void> => {
    files.parts.add(part);
    await writer.commit();
    files.live.delete(writer);
    if (files.aborted) {
      await unlink(part).catch(() => undefined);
      throw new IoError('Arrow output was aborted', { stage: 'toArrow', file: path });
    }
  };
  if (files.aborted) {
    await writer.abort();
    throw new IoError('Arrow output was aborted', { stage: 'toArrow', file: path });
  }
  return {
    schema,
    get bytesWritten() {
      return writer.bytesWritten;
    },
    get numRows() {
      return writer.numRows;
    },
    get numBatches() {
      return writer.numBatches;
    },
    write: (batch) => writer.write(batch),
    async commitPart() {
      await commitPart();
      return part;
    },
    async commit(point) {
      await commitPart();
      try {
        point?.enter(path);
      } catch (error) {
        await unlink(part).catch(() => undefined);
        throw error;
      }
      try {
        await rename(part, path);
      } catch (error) {
        // no commit: the whole output under its intermediate name is worthless, and no abort follows
        files.parts.delete(part);
        await unlink(part).catch(() => undefined);
        await forgetTempFile(part);
        throw new IoError(
          `Cannot rename the Arrow file into place: ${(error as Error).message}`,
          { stage: 'toArrow', file: path },
          { cause: error },
        );
      }
      files.parts.delete(part);
      await forgetTempFile(part);
    },
    async abort() {
      files.live.delete(writer);
      await writer.abort();
    },
  };
}

/** Collects what apache-arrow's writer encodes synchronously, so we can hand it on with backpressure. */
interface Collector {
  closed: boolean;
  chunks: Uint8Array[];
  write(chunk: Uint8Array): void;
  close(): void;
  abort(): void;
}

/** A Writable target: batches are encoded with apache-arrow and written with the stream's backpressure. */
/** A target writing to a caller's Writable, with its backpressure. */
export function streamTarget(stream: Writable, schema: Schema, compression: Compression, format: ArrowFormat): Target {
  registerArrowCodecs();
  const compressionType = toCompressionType(compression);
  const writer =
    format === 'file'
      ? new RecordBatchFileWriter({ compressionType })
      : new RecordBatchStreamWriter({ compressionType });
  const sink: Collector = {
    closed: false,
    chunks: [],
    write(chunk) {
      this.chunks.push(chunk);
    },
    close() {
      this.closed = true;
    },
    abort() {
      this.closed = true;
    },
  };
  // apache-arrow's own Node adapter acknowledges writes before the sink takes them (no
  // backpressure): take its encoded bytes from a collector instead and write them ourselves
  (writer as unknown as { _sink: Collector })._sink = sink;
  writer.reset(sink as never, schema);
  let bytes = 0;
  let rows = 0;
  let batches = 0;
  const fail = (error: unknown): IoError =>
    new IoError(
      `Cannot write to the output stream: ${(error as Error).message}`,
      { stage: 'toArrow' },
      { cause: error },
    );
  const flush = async (signal?: AbortSignal): Promise<void> => {
    const chunks = sink.chunks;
    sink.chunks = [];
    for (const chunk of chunks) {
      if (stream.destroyed || stream.closed) throw fail(stream.errored ?? new Error('stream destroyed'));
      bytes += chunk.byteLength;
      stream.write(chunk);
    }
    await drainCaller(stream, signal).catch((error: unknown) => Promise.reject(fail(error)));
  };
  return {
    schema,
    get bytesWritten() {
      return bytes;
    },
    get numRows() {
      return rows;
    },
    get numBatches() {
      return batches;
    },
    async write(batch, signal) {
      writer.write(batch);
      if (sink.closed) throw new IoError('apache-arrow closed the writer unexpectedly', { stage: 'toArrow' });
      rows += batch.numRows;
      batches++;
      await flush(signal);
    },
    async commit() {
      writer.finish();
      await flush();
      await endCaller(stream).catch((error: unknown) => Promise.reject(fail(error)));
    },
    async abort(error) {
      abandonCaller(stream, error);
    },
  };
}
