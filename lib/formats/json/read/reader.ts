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
import { closeStream } from '../../../io/close-stream.ts';
import { DeadLetterFile } from '../../../io/dead-letter.ts';
import { createZstdDecompress } from '../../zstd-stream.ts';
import { skipBytes } from '../../csv/read/bytes.ts';
import type { JsonlBytes, OpenedBytes } from './bytes.ts';
import { FROM_START, JsonlLines, type JsonlStart } from './lines.ts';
import type { JsonlPlan } from './options.ts';
import { PendingLine, overLimit } from './pending-line.ts';
import { Utf8Lines } from './utf8-lines.ts';

/** Live counters of a fromJsonl source (progress reads them). */
export interface JsonlCounters {
  rowsRead: number;
  bytesRead: number;
  totalBytes: number | undefined;
}

/**
 * The byte offsets just past each newline of the text, for checkpoints: a `\n` byte is a newline
 * character wherever it is in UTF-8 (and the decoder never holds one back), so the k-th newline
 * of a decoded chunk is the k-th 0x0a byte of the chunk, even around invalid bytes.
 */
class LineEnds {
  /** Bytes of text seen before the current chunk. */
  #base: number;
  #ends: number[] = [];
  #next = 0;
  /** The offset just past the last line consumed. */
  last: number;

  constructor(start: number) {
    this.#base = start;
    this.last = start;
  }

  /** Notes the newlines of the next chunk (before its lines are consumed). */
  chunk(bytes: Buffer): void {
    this.#ends = [];
    this.#next = 0;
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) this.#ends.push(this.#base + i + 1);
    this.#base += bytes.length;
  }

  /** A newline-terminated line was consumed. */
  line(): void {
    this.last = this.#ends[this.#next++]!;
  }

  /** The end of the text (the last line has no newline). */
  end(): void {
    this.last = this.#base;
  }
}

/** Reads JSON Lines from a byte source as batches of rows; see the module comment. */
export class JsonlReader {
  readonly #plan: JsonlPlan;
  readonly #counters: JsonlCounters;
  readonly #bytes: JsonlBytes;
  readonly #start: JsonlStart;
  /** Line ends tracked (checkpoints), else undefined. */
  #ends: LineEnds | undefined;

  /** `start`: where a resumed read starts; `tracking`: note each batch's end (checkpoints). */
  constructor(plan: JsonlPlan, counters: JsonlCounters, bytes: JsonlBytes, start = FROM_START, tracking = false) {
    this.#plan = plan;
    this.#counters = counters;
    this.#bytes = bytes;
    this.#start = start;
    this.#ends = tracking ? new LineEnds(start.byte) : undefined;
  }

  async *read(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    const opened = await this.#bytes.open(context, this.#start.byte);
    if (context.signal.aborted) {
      // destroyed while it opened: the abort listener below would never run
      if (opened.counted) await closeStream(opened.counted);
      else opened.source.destroy();
      context.signal.throwIfAborted();
    }
    this.#counters.rowsRead = this.#start.rows;
    if (opened.totalBytes !== undefined) this.#counters.totalBytes = opened.totalBytes;
    const { source } = opened;
    const { compression, policy } = this.#plan;
    const decompressor =
      compression === 'gzip' ? createGunzip() : compression === 'zstd' ? createZstdDecompress() : undefined;
    const decompressed: Readable = decompressor
      ? (source.pipe(decompressor as NodeJS.WritableStream) as unknown as Readable)
      : source;
    const text = opened.skip ? decompressed.pipe(skipBytes(opened.skip)) : decompressed;
    if (opened.skip) decompressed.on('error', (error) => text.destroy(error));
    if (decompressor) source.on('error', (error) => (decompressor as unknown as Readable).destroy(error));
    const onAbort = (): void => {
      text.destroy();
      decompressed.destroy();
      source.destroy();
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    const deadLetter = typeof policy === 'object' ? new DeadLetterFile(policy.deadLetter, this.#plan.file) : undefined;
    const lines = new JsonlLines(this.#plan, stats, deadLetter, this.#start);
    try {
      // a resumed read: the lines after the checkpoint are read again, so are their dead letters
      if (deadLetter && this.#start.line > 0)
        await deadLetter.keepOnly((record) => typeof record.line === 'number' && record.line <= this.#start.line);
      yield* this.#batches(context, opened, text, lines);
      await deadLetter?.close();
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      text.destroy();
      decompressed.destroy();
      // wait for the file to close, so a stopped pipeline leaves no descriptor behind it
      if (opened.counted) await closeStream(opened.counted);
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
    const ends = this.#ends;
    const { batchSize, stage, where } = this.#plan;
    const decoder = new StringDecoder('utf8');
    const utf8 = this.#plan.invalidUtf8 === 'error' ? new Utf8Lines() : undefined;
    const pending = new PendingLine();
    try {
      for await (const chunk of text) {
        counters.bytesRead = opened.counted ? opened.counted.bytesRead : counters.bytesRead + (chunk as Buffer).length;
        ends?.chunk(chunk as Buffer);
        utf8?.chunk(chunk as Buffer | string);
        // only the new text is searched for newlines; a line begun before it is joined once, when it ends
        const s = decoder.write(chunk as Buffer);
        let start = 0;
        let k = 0;
        for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start), k++) {
          const raw = k === 0 ? pending.end(s.slice(0, nl)) : s.slice(start, nl);
          // too long is the file's fault, not a row's: refused whatever onError says, as a CSV record is
          if (overLimit(raw)) throw lines.tooLong();
          const problem = utf8?.lineBad(k) ? lines.invalidUtf8(raw) : lines.take(raw);
          ends?.line();
          if (problem) await lines.bad(problem);
          start = nl + 1;
          if (lines.rows.length >= batchSize) yield this.#flush(lines);
        }
        if (!pending.add(start === 0 ? s : s.slice(start))) throw lines.tooLong();
      }
    } catch (error) {
      if (error instanceof JsonParseError || context.signal.aborted) throw error;
      throw new IoError(
        `Cannot read JSON Lines: ${(error as Error).message}`,
        { stage, file: where },
        { cause: error },
      );
    }
    const rest = pending.end(decoder.end());
    ends?.end();
    if (overLimit(rest)) throw lines.tooLong();
    if (rest.length > 0) {
      const problem = utf8?.lastBad() ? lines.invalidUtf8(rest) : lines.take(rest);
      if (problem) await lines.bad(problem);
    }
    if (lines.rows.length > 0) yield this.#flush(lines);
  }

  #flush(lines: JsonlLines): Batch<Row> {
    this.#counters.rowsRead += lines.rows.length;
    return lines.flush(this.#ends?.last);
  }
}
