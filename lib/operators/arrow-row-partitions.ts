/**
 * Rows of Arrow batches spilled by partition, without row objects: a partitioned join's left
 * batches (by key: join-partition-key.ts), a groupBy's rows that skip its table (by group:
 * arrow-key-codes.ts). Each batch's rows are split by the partition the caller gives each, and
 * the rows pending from a few batches are copied into one batch per partition when written,
 * {@link PENDING_ROWS} at a time, to spill files of their own (batch-partitions.ts).
 *
 * The copy is a scatter (scatter.ts): the sources are read once, in order, and each value written
 * to its partition's batch. Gathered partition by partition, as until 2026-12-06, each pass read
 * one row in every `fanout` of the sources, a cache line per value: the 5M x 2.5M bench join spent
 * 1.9 s of its 16 s so, and a `GROUP BY symbol, ts` over 5M rows 1.0 s of 9.3 s.
 */
import { type Data, type Field, type RecordBatch, Struct, makeData } from 'apache-arrow';
import { schemasEqual } from '../formats/arrow/convert.ts';
import { makeRecordBatchFast } from '../formats/arrow/record-batch.ts';
import { openBatchPartitions, type BatchPartitions } from './batch-partitions.ts';
import { settleAll } from '../core/settle-all.ts';
import { gatherColumn } from './gather.ts';
import type { OperatorScratch } from './operator-scratch.ts';
import { type Moves, scatterColumn } from './scatter.ts';

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
  /** Batches the pending rows come from (one schema: the copy reads every source with the first's fields). */
  readonly #sources: RecordBatch[] = [];
  /** Per source: the partition of each row (-1: left out). */
  readonly #which: Int32Array[] = [];
  /** Bytes of {@link ArrowRowPartitions.#sources}. */
  #sourceBytes = 0;
  /** Rows pending per partition. */
  readonly #pending: Int32Array;

  private constructor(files: BatchPartitions) {
    this.#files = files;
    this.#pending = new Int32Array(files.fanout);
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

  /**
   * Adds the rows of `batch`, row `i` to partition `which[i]` (0..fanout-1; a row marked -1 is
   * left out). Keeps `which` until the rows are written: the caller must not change it.
   */
  async add(batch: RecordBatch, which: Int32Array): Promise<void> {
    const n = batch.numRows;
    if (n === 0) return;
    const first = this.#sources[0];
    if (first && !schemasEqual(first.schema, batch.schema)) await this.#writePending();
    this.#sources.push(batch);
    this.#which.push(which.length === n ? which : which.subarray(0, n));
    this.#sourceBytes += batch.data.byteLength;
    const pending = this.#pending;
    for (let i = 0; i < n; i++) {
      const p = which[i]!;
      if (p >= 0) pending[p]!++;
    }
    let most = 0;
    for (let p = 0; p < pending.length; p++) most = Math.max(most, pending[p]!);
    // every partition at once, so the source batches are let go together
    const held = this.#sources.length >= PENDING_BATCHES || this.#sourceBytes >= PENDING_BYTES;
    if (most >= PENDING_ROWS || held) await this.#writePending();
  }

  /** Copies each partition's pending rows into one batch and writes it. */
  async #writePending(): Promise<void> {
    const sources = this.#sources;
    if (sources.length === 0) return;
    const pending = this.#pending;
    // the partitions with rows, as output batches: partition parts[b] is batch b
    const parts: number[] = [];
    const lengths: number[] = [];
    const batchOf = new Int32Array(pending.length).fill(-1);
    for (let p = 0; p < pending.length; p++) {
      if (pending[p] === 0) continue;
      batchOf[p] = parts.length;
      parts.push(p);
      lengths.push(pending[p]!);
    }
    const moves = movesOf(this.#which, batchOf, lengths);
    const schema = sources[0]!.schema;
    const columns = schema.fields.map((field, c) => {
      const chunks = sources.map((s) => s.data.children[c]!);
      return scatterColumn(field, chunks, lengths, moves) ?? gatherByBatch(field, chunks, lengths, moves);
    });
    sources.length = 0;
    this.#which.length = 0;
    this.#sourceBytes = 0;
    pending.fill(0);
    // every partition's write at once: each goes to a file of its own, so the writes overlap and
    // the thread waits once, where awaiting them in turn left it idle for each (all settle before
    // a failure is thrown: no write is left running)
    const writes = parts.map((p, b) => {
      const children = columns.map((column) => column[b]!);
      const length = lengths[b]!;
      const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }) as Data<Struct>;
      return this.#files.write(p, makeRecordBatchFast(schema, data));
    });
    columns.length = 0;
    await settleAll(writes);
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
    this.#which.length = 0;
    this.#pending.fill(0);
    this.#sourceBytes = 0;
    return this.#files.dispose();
  }
}

/** The {@link Moves} of the sources' rows to their partitions' batches (`batchOf[p]`), in source order. */
function movesOf(which: readonly Int32Array[], batchOf: Int32Array, lengths: readonly number[]): Moves {
  let total = 0;
  for (const length of lengths) total += length;
  const chunk = new Uint32Array(total);
  const row = new Uint32Array(total);
  const batch = new Uint32Array(total);
  const at = new Uint32Array(total);
  const next = new Uint32Array(lengths.length);
  let e = 0;
  for (let s = 0; s < which.length; s++) {
    const w = which[s]!;
    for (let i = 0; i < w.length; i++) {
      const p = w[i]!;
      if (p < 0) continue;
      const b = batchOf[p]!;
      chunk[e] = s;
      row[e] = i;
      batch[e] = b;
      at[e++] = next[b]!++;
    }
  }
  return { chunk, row, batch, at };
}

/** Column `field` gathered batch by batch, for the kinds scatter.ts leaves to a gather (lists, structs, ...). */
function gatherByBatch(field: Field, chunks: readonly Data[], lengths: readonly number[], moves: Moves): Data[] {
  const from = lengths.map((length) => new Uint32Array(length));
  const rows = lengths.map((length) => new Uint32Array(length));
  for (let e = 0; e < moves.chunk.length; e++) {
    const b = moves.batch[e]!;
    from[b]![moves.at[e]!] = moves.chunk[e]!;
    rows[b]![moves.at[e]!] = moves.row[e]!;
  }
  return lengths.map((length, b) => gatherColumn(field, chunks, { from: from[b]!, rows: rows[b]!, length }));
}
