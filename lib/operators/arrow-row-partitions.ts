/**
 * Rows of Arrow batches spilled by partition, without row objects: a partitioned join's left
 * batches (by key: join-partition-key.ts), a groupBy's rows that skip its table (by group:
 * arrow-key-codes.ts). Each batch's rows are split by the partition the caller gives each, and a
 * partition's rows are gathered from the batches they came in into one batch when written
 * (gather.ts), {@link PENDING_ROWS} at a time, to spill files of their own (batch-partitions.ts).
 */
import type { RecordBatch } from 'apache-arrow';
import { schemasEqual } from '../formats/arrow/convert.ts';
import { openBatchPartitions, type BatchPartitions } from './batch-partitions.ts';
import { gatherRows } from './gather.ts';
import type { OperatorScratch } from './operator-scratch.ts';

/**
 * Rows a partition gathers before they are written as one batch: a batch of the bench CSV (~35k
 * rows) spread over 16 partitions gives ~2k rows each, and written so, a 5M-row join spent its left
 * phase compressing and checksumming small buffers (32.5 s against 20.6 s gathered).
 */
const PENDING_ROWS = 16_384;
/** Source batches held at most for the rows pending from them, and their bytes at most. */
const PENDING_BATCHES = 8;
const PENDING_BYTES = 16 << 20;

/** Rows of Arrow batches by partition; see the module comment. */
export class ArrowRowPartitions {
  readonly #files: BatchPartitions;
  /** Batches the pending rows come from (one schema: gather.ts reads every source with the first's fields). */
  readonly #sources: RecordBatch[] = [];
  /** Bytes of {@link ArrowRowPartitions.#sources}. */
  #sourceBytes = 0;
  /** Per partition: the source and the row of each pending row. */
  readonly #from: number[][];
  readonly #rows: number[][];

  private constructor(files: BatchPartitions) {
    this.#files = files;
    this.#from = Array.from({ length: files.fanout }, () => []);
    this.#rows = Array.from({ length: files.fanout }, () => []);
  }

  /** A new set of `fanout` partitions in a new directory of `scratch`. */
  static async open(scratch: OperatorScratch, fanout: number): Promise<ArrowRowPartitions> {
    return new ArrowRowPartitions(await openBatchPartitions(scratch, fanout));
  }

  /** Number of partitions. */
  get fanout(): number {
    return this.#files.fanout;
  }

  /** Rows written to partition `p` (all of them, after {@link ArrowRowPartitions.finish}). */
  rows(p: number): number {
    return this.#files.rows(p);
  }

  /** Adds the rows of `batch`, row `i` to partition `which[i]` (0..fanout-1; a row marked -1 is left out). */
  async add(batch: RecordBatch, which: Int32Array): Promise<void> {
    const n = batch.numRows;
    if (n === 0) return;
    const first = this.#sources[0];
    if (first && !schemasEqual(first.schema, batch.schema)) await this.#writePending();
    this.#sources.push(batch);
    this.#sourceBytes += batch.data.byteLength;
    // each partition's rows in batch order, as (source, row) pairs
    const s = this.#sources.length - 1;
    for (let i = 0; i < n; i++) {
      const p = which[i]!;
      if (p < 0) continue;
      this.#from[p]!.push(s);
      this.#rows[p]!.push(i);
    }
    let most = 0;
    for (const rows of this.#rows) most = Math.max(most, rows.length);
    // every partition at once, so the source batches are let go together
    const held = this.#sources.length >= PENDING_BATCHES || this.#sourceBytes >= PENDING_BYTES;
    if (most >= PENDING_ROWS || held) await this.#writePending();
  }

  /** Gathers each partition's pending rows into one batch and writes it. */
  async #writePending(): Promise<void> {
    const sources = this.#sources;
    for (let p = 0; p < this.fanout; p++) {
      const rows = this.#rows[p]!;
      if (rows.length === 0) continue;
      const from = this.#from[p]!;
      this.#from[p] = [];
      this.#rows[p] = [];
      await this.#files.write(p, gatherRows(sources[0]!.schema, sources, { from, rows, length: rows.length }));
    }
    sources.length = 0;
    this.#sourceBytes = 0;
  }

  /** Writes the pending rows and commits every partition's files. */
  async finish(): Promise<void> {
    await this.#writePending();
    await this.#files.finish();
  }

  /** Yields partition `p`'s batches (after {@link ArrowRowPartitions.finish}). */
  read(p: number): AsyncGenerator<RecordBatch> {
    return this.#files.read(p);
  }

  /** Deletes partition `p`'s files. */
  remove(p: number): Promise<void> {
    return this.#files.remove(p);
  }

  /** Drops the pending rows and deletes every partition. */
  dispose(): Promise<void> {
    this.#sources.length = 0;
    this.#sourceBytes = 0;
    return this.#files.dispose();
  }
}
