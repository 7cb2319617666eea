/**
 * The files of a partitioned write under its temporary directory: one open single-file sink per
 * partition being written, a bound on open files, and a bound on buffered bytes (the writer or
 * held partition holding the most is written out first, at half the budget when the memory
 * governor asks to spill). A checkpoint detaches every open writer at once
 * ({@link PartitionFiles.detach}) so that every row received so far lies in a complete file.
 *
 * Past the bound on open files, a writer is closed (its partition goes on in the next file,
 * `part-1`, ...) only when it has been idle for a whole input batch, as in input ordered by the
 * partition columns. Otherwise the new partition's rows are held in memory until a writer falls
 * idle, the byte bound writes them out, or the input ends. Closing the least recently used writer
 * at once, as this did until 2026-12-07, made input not ordered by its 500 partitions (64 open
 * files) into 45,092 files of about 22 rows; now it makes one file per partition while the rows
 * fit the byte bound.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Batch } from '../core/batch.ts';
import type { BatchSink } from '../core/sink.ts';
import { STAGE, type StageContext } from '../core/stage.ts';
import type { PartitionFormat, PartitionSettings } from './partition-options.ts';
import { HeldRows } from './held-rows.ts';

/** One open file of a partition. */
interface OpenWriter {
  readonly sink: BatchSink<unknown>;
  /** Bytes handed to it (estimated). */
  bytes: number;
  /** Its last write, for the LRU. */
  used: number;
  /** The input batch of its last write (idle writers are the ones closed for another partition). */
  batch: number;
}

/** Files finished side by side at the end of the input. */
const CLOSING_AT_ONCE = 8;

/** Runs `work` on every item, at most `limit` at a time; rejects with the first failure once all settled. */
async function eachAtOnce<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) throw failed.reason;
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
  /** Partitions whose rows wait for a file (see the module comment), in arrival order. */
  readonly #held = new Map<string, HeldRows>();
  #buffered = 0;
  #clock = 0;
  /** Input batches begun ({@link PartitionFiles.nextBatch}). */
  #batch = 0;

  constructor(settings: PartitionSettings, format: PartitionFormat, temp: string, runId: string) {
    this.#settings = settings;
    this.#format = format;
    this.temp = temp;
    this.runId = runId;
  }

  /** An input batch begins: writers not written to during the last one count as idle. */
  nextBatch(): void {
    this.#batch++;
  }

  /**
   * Writes one partition's rows to its open file, opening one when a file may be opened (a slot
   * is free, or an idle writer is closed for it); else holds them until one may.
   */
  async write(key: string, part: Batch): Promise<void> {
    this.rows += part.numRows;
    let writer = this.#writers.get(key);
    if (!writer) {
      const held = this.#held.get(key);
      if (this.#writers.size >= this.#settings.maxOpenFiles && !(await this.#closeIdle())) {
        const rows = held ?? new HeldRows();
        if (!held) this.#held.set(key, rows);
        this.#buffered -= rows.bytes;
        await rows.add(part);
        this.#buffered += rows.bytes;
        return;
      }
      writer = await this.#open(key);
      if (held) await this.#release(key, held, writer);
    }
    await this.#put(writer, part);
  }

  /**
   * Writes out the writers and held partitions holding the most bytes until the budget (or half
   * of it, under memory pressure) holds.
   */
  async relieve(): Promise<void> {
    const level = this.context?.governor?.level;
    const max = this.#settings.maxBufferedBytes;
    const budget = level === 'spill' || level === 'pause' || level === 'critical' ? max / 2 : max;
    while (this.#buffered > budget && (this.#writers.size > 0 || this.#held.size > 0)) {
      let largest: string | undefined;
      let most = -1;
      for (const [k, w] of this.#writers) if (w.bytes > most) [largest, most] = [k, w.bytes];
      for (const [k, h] of this.#held) if (h.bytes > most) [largest, most] = [k, h.bytes];
      this.rotations++;
      await this.#writeOut(largest!);
    }
  }

  /** Closes every open writer, then writes each held partition to a file of its own (the end of the input). */
  async closeAll(): Promise<void> {
    // a few at a time: each file's commit waits on its fsync, and 500 of them one after the
    // other left the process idle for seconds
    await eachAtOnce([...this.#writers.keys()], CLOSING_AT_ONCE, (key) => this.#close(key));
    // no more at once than files may be open: a held partition's file then never closes another's
    const atOnce = Math.min(CLOSING_AT_ONCE, this.#settings.maxOpenFiles);
    await eachAtOnce([...this.#held.keys()], atOnce, (key) => this.#writeOut(key));
  }

  /**
   * Takes every open writer out at once (synchronously), so later rows go to new files, and
   * returns a promise of their files being complete.
   */
  detach(): Promise<void> {
    const sinks = [...this.#writers.values()].map((w) => w.sink);
    this.#writers.clear();
    // held rows go to files named now, before any later row of their partition names its own
    const held = [...this.#held].map(([key, rows]) => ({ rel: this.#reserve(key), rows }));
    this.#held.clear();
    this.#buffered = 0;
    const ended = Promise.all(sinks.map((sink) => this.#end(sink)));
    const written = (async () => {
      for (const { rel, rows } of held) {
        const sink = await this.#openSink(rel);
        this.#finishing.add(sink);
        for (const part of rows.batches) await writeTo(sink, part);
        await this.#end(sink);
      }
    })();
    return Promise.all([ended, written]).then(() => undefined);
  }

  /** Destroys every writer, open or detached (each sink's own abort removes its temporary file). */
  async abort(error: Error | null): Promise<void> {
    const sinks = [...[...this.#writers.values()].map((w) => w.sink), ...this.#finishing];
    this.#writers.clear();
    this.#held.clear();
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

  /** Hands `part` to an open writer. */
  async #put(writer: OpenWriter, part: Batch): Promise<void> {
    writer.used = ++this.#clock;
    writer.batch = this.#batch;
    writer.bytes += part.bytes;
    this.#buffered += part.bytes;
    await writeTo(writer.sink, part);
  }

  /** Moves a partition's held rows into its writer, in their order, before any later row. */
  async #release(key: string, held: HeldRows, writer: OpenWriter): Promise<void> {
    this.#held.delete(key);
    this.#buffered -= held.bytes;
    for (const part of held.batches) await this.#put(writer, part);
  }

  /** Closes the least recently used writer if it was idle for the whole last input batch. */
  async #closeIdle(): Promise<boolean> {
    const oldest = this.#leastRecent();
    if (oldest === undefined || this.#writers.get(oldest)!.batch >= this.#batch - 1) return false;
    this.rotations++;
    await this.#close(oldest);
    return true;
  }

  /** Closes `key`'s writer, or writes its held rows to a file of their own (closing the least recently used writer for it when none is free). */
  async #writeOut(key: string): Promise<void> {
    const held = this.#held.get(key);
    if (!held) return this.#close(key);
    if (this.#writers.size >= this.#settings.maxOpenFiles) {
      this.rotations++;
      await this.#close(this.#leastRecent()!);
    }
    await this.#release(key, held, await this.#open(key));
    await this.#close(key);
  }

  /** The key of the least recently written open writer. */
  #leastRecent(): string | undefined {
    let oldest: string | undefined;
    let at = Infinity;
    for (const [k, w] of this.#writers) if (w.used < at) [oldest, at] = [k, w.used];
    return oldest;
  }

  async #open(key: string): Promise<OpenWriter> {
    const sink = await this.#openSink(this.#reserve(key));
    const writer: OpenWriter = { sink, bytes: 0, used: this.#clock, batch: this.#batch };
    this.#writers.set(key, writer);
    return writer;
  }

  /** Names `key`'s next file (listed in {@link PartitionFiles.files} at once). */
  #reserve(key: string): string {
    const rel = this.#fileFor(key);
    this.files.push(rel);
    return rel;
  }

  async #openSink(rel: string): Promise<BatchSink<unknown>> {
    await mkdir(dirname(join(this.temp, rel)), { recursive: true });
    const sink = this.#format.openFile(join(this.temp, rel));
    // its errors reach us through write callbacks and finished(); an 'error' event must not go unheard
    sink.on('error', () => undefined);
    if (this.context) sink[STAGE].attach(this.context);
    return sink;
  }

  #fileFor(key: string): string {
    const n = this.parts.get(key) ?? 0;
    this.parts.set(key, n + 1);
    const file = this.#settings.fileName.replaceAll('{i}', String(n)).replaceAll('{uuid}', this.runId);
    return key === '' ? file : join(key, file);
  }
}
