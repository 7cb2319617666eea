/**
 * What an open Arrow IPC file looks like to its readers, and how the readers turn a failure
 * into a spillway error naming the file.
 */
import { FormatError, IoError, SpillwayError, UnsupportedError } from '../../core/errors.ts';
import type { RecordBatch, Schema } from 'apache-arrow';
import { ARROW_MAGIC } from './ipc-metadata.ts';

/** The two Arrow IPC formats. */
export type ArrowFormat = 'file' | 'stream';

/** An open Arrow IPC file; read batches on demand, then `close()`. */
export interface ArrowFileHandle {
  /** The path opened. */
  readonly path: string;
  /** IPC file format (random access) or stream format (sequential). */
  readonly format: ArrowFormat;
  /** The schema. */
  readonly schema: Schema;
  /** Number of record batches. */
  readonly numBatches: number;
  /** Total rows, from the record batch message headers (no batch is decoded to count them). */
  readonly numRows: number;
  /** Rows of each batch, in order. */
  readonly batchRows: readonly number[];
  /**
   * Reads and decodes batch `index`. File format: reads only that block. Stream format: reads
   * the stream from its start up to that batch (sequential by nature).
   */
  readBatch(index: number): Promise<RecordBatch>;
  /** Every batch, in order, one at a time. */
  batches(): AsyncIterableIterator<RecordBatch>;
  /** Closes the file. Idempotent. */
  close(): Promise<void>;
}

/** The ARROW1 magic that opens and ends a file-format file. */
export const MAGIC_BYTES = Buffer.from(ARROW_MAGIC);

/**
 * A failure while reading `path` as a spillway error: spillway errors as they are, a missing
 * codec or unknown type as {@link UnsupportedError}, a file system refusal (EISDIR, EACCES) as
 * {@link IoError}, anything else as {@link FormatError}.
 */
export function wrapArrowError(error: unknown, path: string, what: string, batch?: number): SpillwayError {
  if (error instanceof SpillwayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // the file system's refusal (a directory, no permission), not the bytes: an I/O error
  if (
    typeof (error as NodeJS.ErrnoException)?.code === 'string' &&
    typeof (error as NodeJS.ErrnoException).syscall === 'string'
  )
    return new IoError(`Cannot read Arrow ${what}: ${message}`, { file: path, batch }, { cause: error });
  if (/codec not found|Unrecognized type/i.test(message))
    return new UnsupportedError(`Cannot read Arrow ${what}: ${message}`, { file: path, batch }, { cause: error });
  return new FormatError(`Corrupt or invalid Arrow ${what}: ${message}`, { file: path, batch }, { cause: error });
}
