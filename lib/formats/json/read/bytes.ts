/**
 * Where fromJsonl's bytes come from: one opener per input path (an HTTP(S) URL, a file, a
 * caller's Readable) behind {@link JsonlBytes}. Each says what progress needs (the total size,
 * and the stream whose own byte count is the bytes read).
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { IoError } from '../../../core/errors.ts';
import type { StageContext } from '../../../core/stage.ts';
import type { JsonlPlan } from './options.ts';

/** An opened byte source. */
export interface OpenedBytes {
  source: Readable;
  /** The file stream, whose `bytesRead` counts bytes read (compressed bytes); else the bytes parsed count. */
  counted: ReadStream | undefined;
  /** The size to read, when known (compressed size for compressed files). */
  totalBytes: number | undefined;
  /** Decompressed bytes to drop before the first line (a resumed read of a compressed file). */
  skip?: number;
}

/** A byte source of JSON Lines: one per input path. */
export interface JsonlBytes {
  /** Opens the bytes; `start` > 0 (a resumed read, files only): from that offset in the decompressed text. */
  open(context: StageContext, start?: number): Promise<OpenedBytes>;
}

/** One streaming GET (no retries: a text stream cannot resume mid-line safely). */
class HttpBytes implements JsonlBytes {
  constructor(readonly plan: JsonlPlan) {}

  async open(context: StageContext): Promise<OpenedBytes> {
    const { stage, where } = this.plan;
    let response: Response;
    try {
      response = await fetch(this.plan.url!, { signal: context.signal });
    } catch (error) {
      throw new IoError(
        `Cannot fetch JSON Lines: ${(error as Error).message}`,
        { stage, file: where },
        { cause: error },
      );
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      throw new IoError(`Cannot fetch JSON Lines: HTTP ${response.status} ${response.statusText}`, {
        stage,
        file: where,
      });
    }
    const length = Number(response.headers.get('content-length'));
    return {
      source: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
      counted: undefined,
      totalBytes: Number.isFinite(length) && length > 0 ? length : undefined,
    };
  }
}

/**
 * A local file, read in 256 KB chunks; from an offset by seeking, or for a compressed file (which
 * cannot seek) by decompressing from the start and dropping the text before the offset.
 */
class FileBytes implements JsonlBytes {
  constructor(readonly plan: JsonlPlan) {}

  async open(_context: StageContext, start = 0): Promise<OpenedBytes> {
    const { stage, file } = this.plan;
    let totalBytes: number;
    try {
      totalBytes = (await stat(file!)).size;
    } catch (error) {
      throw new IoError(`Cannot open JSON Lines file: ${(error as Error).message}`, { stage, file }, { cause: error });
    }
    const compressed = this.plan.compression !== undefined;
    const stream = createReadStream(file!, {
      highWaterMark: 256 * 1024,
      ...(start > 0 && !compressed ? { start } : {}),
    });
    return { source: stream, counted: stream, totalBytes, ...(start > 0 && compressed ? { skip: start } : {}) };
  }
}

/** The caller's Readable. */
class StreamBytes implements JsonlBytes {
  constructor(readonly plan: JsonlPlan) {}

  async open(): Promise<OpenedBytes> {
    return { source: this.plan.input as Readable, counted: undefined, totalBytes: undefined };
  }
}

/** The byte source for the plan's input. */
export function jsonlBytes(plan: JsonlPlan): JsonlBytes {
  if (plan.url !== undefined) return new HttpBytes(plan);
  return plan.file !== undefined ? new FileBytes(plan) : new StreamBytes(plan);
}
