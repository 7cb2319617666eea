/**
 * fromJsonl's reader: bytes from a {@link JsonlBytes} source, decompressed when asked, decoded as
 * UTF-8 and split into lines for {@link JsonlLines}; it owns the streams, the abort listener and
 * the dead-letter file of one read, and releases them on every path.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Batch, Row } from '../../../core/batch.ts';
import { IoError, JsonParseError } from '../../../core/errors.ts';
import type { StageContext, StageStats } from '../../../core/stage.ts';
import { DeadLetterFile } from '../../../io/dead-letter.ts';
import { createZstdDecompress } from '../../zstd-stream.ts';
import type { JsonlBytes, OpenedBytes } from './bytes.ts';
import { JsonlLines } from './lines.ts';
import type { JsonlPlan } from './options.ts';

/** Live counters of a fromJsonl source (progress reads them). */
export interface JsonlCounters {
  rowsRead: number;
  bytesRead: number;
  totalBytes: number | undefined;
}

/** Reads JSON Lines from a byte source as batches of rows; see the module comment. */
export class JsonlReader {
  readonly #plan: JsonlPlan;
  readonly #counters: JsonlCounters;
  readonly #bytes: JsonlBytes;

  constructor(plan: JsonlPlan, counters: JsonlCounters, bytes: JsonlBytes) {
    this.#plan = plan;
    this.#counters = counters;
    this.#bytes = bytes;
  }

  async *read(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    const opened = await this.#bytes.open(context);
    if (opened.totalBytes !== undefined) this.#counters.totalBytes = opened.totalBytes;
    const { source } = opened;
    const { compression, policy } = this.#plan;
    const decompressor =
      compression === 'gzip' ? createGunzip() : compression === 'zstd' ? createZstdDecompress() : undefined;
    const text: Readable = decompressor
      ? (source.pipe(decompressor as NodeJS.WritableStream) as unknown as Readable)
      : source;
    if (decompressor) source.on('error', (error) => (decompressor as unknown as Readable).destroy(error));
    const onAbort = (): void => {
      text.destroy();
      source.destroy();
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    const deadLetter = typeof policy === 'object' ? new DeadLetterFile(policy.deadLetter) : undefined;
    const lines = new JsonlLines(this.#plan, stats, deadLetter);
    try {
      yield* this.#batches(context, opened, text, lines);
      await deadLetter?.close();
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      text.destroy();
      opened.counted?.destroy();
      await deadLetter?.close().catch(() => undefined);
    }
  }

  /** Splits the text into lines and yields a batch each `batchSize` rows, and the rest at the end. */
  async *#batches(
    context: StageContext,
    opened: OpenedBytes,
    text: Readable,
    lines: JsonlLines,
  ): AsyncGenerator<Batch<Row>> {
    const counters = this.#counters;
    const { batchSize, stage, where } = this.#plan;
    const decoder = new StringDecoder('utf8');
    let carry = '';
    try {
      for await (const chunk of text) {
        counters.bytesRead = opened.counted ? opened.counted.bytesRead : counters.bytesRead + (chunk as Buffer).length;
        const s = carry + decoder.write(chunk as Buffer);
        let start = 0;
        for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
          const problem = lines.take(s.slice(start, nl));
          if (problem) await lines.bad(problem);
          start = nl + 1;
          if (lines.rows.length >= batchSize) yield this.#flush(lines);
        }
        carry = s.slice(start);
      }
    } catch (error) {
      if (error instanceof JsonParseError || context.signal.aborted) throw error;
      throw new IoError(
        `Cannot read JSON Lines: ${(error as Error).message}`,
        { stage, file: where },
        { cause: error },
      );
    }
    const rest = carry + decoder.end();
    if (rest.length > 0) {
      const problem = lines.take(rest);
      if (problem) await lines.bad(problem);
    }
    if (lines.rows.length > 0) yield this.#flush(lines);
  }

  #flush(lines: JsonlLines): Batch<Row> {
    this.#counters.rowsRead += lines.rows.length;
    return lines.flush();
  }
}
