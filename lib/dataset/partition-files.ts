/**
 * The files of a partitioned write under its temporary directory: one open single-file sink per
 * partition being written, a bound on open files (the least recently used writer is closed and
 * its partition goes on in the next file, `part-1`, ...), and a bound on buffered bytes (the
 * writer holding the most is closed first, at half the budget when the memory governor asks to
 * spill). A checkpoint detaches every open writer at once ({@link PartitionFiles.detach}) so that
 * every row received so far lies in a complete file.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Batch } from '../core/batch.ts';
import type { BatchSink } from '../core/sink.ts';
import { STAGE, type StageContext } from '../core/stage.ts';
import type { PartitionFormat, PartitionSettings } from './partition-options.ts';

/** One open file of a partition. */
interface OpenWriter {
  readonly sink: BatchSink<unknown>;
  /** Bytes handed to it (estimated). */
  bytes: number;
  /** Its last write, for the LRU. */
  used: number;
}

/** Drives a BatchSink by hand: write resolves when the sink took the batch. */
function writeTo(sink: BatchSink<unknown>, batch: Batch): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.write(batch, (error) => (error ? reject(error) : resolve()));
  });
}

/** Ends `sink` and waits until its file is complete (renamed into place by the sink). */
async function end(sink: BatchSink<unknown>): Promise<void> {
  sink.end();
  await finished(sink);
}

/** The writers of one partitioned write; see the module comment. */
export class PartitionFiles {
  /** The temporary directory the tree is written under. */
  temp: string;
  /** The per-run id (`{uuid}` in file names). */
  runId: string;
  /** Every file opened so far, relative to {@link PartitionFiles.temp}, in opening order. */
  files: string[] = [];
  /** Files opened so far per partition key (the next file's `{i}`). */
  parts = new Map<string, number>();
  /** Rows handed to the writers. */
  rows = 0;
  /** Writers closed early by a bound. */
  rotations = 0;
  /** The run's context, once known (writers attach to it; the governor's level bounds memory). */
  context: StageContext | undefined;
  readonly #settings: PartitionSettings;
  readonly #format: PartitionFormat;
  readonly #writers = new Map<string, OpenWriter>();
  /**
   * Writers taken out of use and still finishing their files (closed by a bound or at the end,
   * detached by a checkpoint): an abort destroys and waits for them too.
   */
  readonly #finishing = new Set<BatchSink<unknown>>();
  #buffered = 0;
  #clock = 0;

  constructor(settings: PartitionSettings, format: PartitionFormat, temp: string, runId: string) {
    this.#settings = settings;
    this.#format = format;
    this.temp = temp;
    this.runId = runId;
  }

  /** Writes one partition's rows to its open file (opening one when needed), then keeps the bounds. */
  async write(key: string, part: Batch): Promise<void> {
    const writer = await this.#open(key);
    writer.used = ++this.#clock;
    writer.bytes += part.bytes;
    this.#buffered += part.bytes;
    this.rows += part.numRows;
    await writeTo(writer.sink, part);
  }

  /** Closes the writers holding the most bytes until the budget (or half of it, under memory pressure) holds. */
  async relieve(): Promise<void> {
    const level = this.context?.governor?.level;
    const max = this.#settings.maxBufferedBytes;
    const budget = level === 'spill' || level === 'pause' || level === 'critical' ? max / 2 : max;
    while (this.#buffered > budget && this.#writers.size > 0) {
      let largest: string | undefined;
      let most = -1;
      for (const [k, w] of this.#writers) if (w.bytes > most) [largest, most] = [k, w.bytes];
      this.rotations++;
      await this.#close(largest!);
    }
  }

  /** Closes every open writer (the end of the input). */
  async closeAll(): Promise<void> {
    for (const key of [...this.#writers.keys()]) await this.#close(key);
  }

  /**
   * Takes every open writer out at once (synchronously), so later rows go to new files, and
   * returns a promise of their files being complete.
   */
  detach(): Promise<void> {
    const sinks = [...this.#writers.values()].map((w) => w.sink);
    this.#writers.clear();
    this.#buffered = 0;
    return Promise.all(sinks.map((sink) => this.#end(sink))).then(() => undefined);
  }

  /** Destroys every writer, open or detached (each sink's own abort removes its temporary file). */
  async abort(error: Error | null): Promise<void> {
    const sinks = [...[...this.#writers.values()].map((w) => w.sink), ...this.#finishing];
    this.#writers.clear();
    for (const sink of sinks) sink.destroy(error ?? new Error('partitioned write aborted'));
    await Promise.all(sinks.map((sink) => finished(sink).catch(() => undefined)));
  }

  async #close(key: string): Promise<void> {
    const writer = this.#writers.get(key);
    if (!writer) return;
    this.#writers.delete(key);
    this.#buffered -= writer.bytes;
    await this.#end(writer.sink);
  }

  /** Ends a writer taken out of use, tracked until its file is complete. */
  async #end(sink: BatchSink<unknown>): Promise<void> {
    this.#finishing.add(sink);
    try {
      await end(sink);
    } finally {
      this.#finishing.delete(sink);
    }
  }

  async #open(key: string): Promise<OpenWriter> {
    let writer = this.#writers.get(key);
    if (writer) return writer;
    if (this.#writers.size >= this.#settings.maxOpenFiles) {
      let oldest: string | undefined;
      let at = Infinity;
      for (const [k, w] of this.#writers) if (w.used < at) [oldest, at] = [k, w.used];
      this.rotations++;
      await this.#close(oldest!);
    }
    const rel = this.#fileFor(key);
    await mkdir(dirname(join(this.temp, rel)), { recursive: true });
    const sink = this.#format.openFile(join(this.temp, rel));
    // its errors reach us through write callbacks and finished(); an 'error' event must not go unheard
    sink.on('error', () => undefined);
    if (this.context) sink[STAGE].attach(this.context);
    this.files.push(rel);
    writer = { sink, bytes: 0, used: this.#clock };
    this.#writers.set(key, writer);
    return writer;
  }

  #fileFor(key: string): string {
    const n = this.parts.get(key) ?? 0;
    this.parts.set(key, n + 1);
    const file = this.#settings.fileName.replaceAll('{i}', String(n)).replaceAll('{uuid}', this.runId);
    return key === '' ? file : join(key, file);
  }
}
