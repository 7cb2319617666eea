/**
 * N spill partitions of Arrow record batches: each partition is a spill directory written by the
 * spill layer (checksummed Arrow IPC through {@link SpillWriter}, uncompressed: SCRATCH_COMPRESSION), created with its
 * first batch, read back batch by batch (verified), then removed. The hash operators' record
 * partitions (hash-partitions.ts) store their serialized records through it, and a partitioned
 * join stores its Arrow left batches in one directly (their columns as they came, no row objects).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { SpillWriter } from '../formats/spill/writer.ts';
import { SpillFiles } from '../formats/spill/reader.ts';
import { settleAll } from '../core/settle-all.ts';
import { SCRATCH_COMPRESSION, type OperatorScratch } from './operator-scratch.ts';

/** Spill files rotate at this size (a partition is normally one file). */
const FILE_SIZE = 1 << 30;

/** Record batches in `fanout` spill partitions under `dir`; see the module comment. */
export class BatchPartitions {
  /** Number of partitions. */
  readonly fanout: number;
  readonly dir: string;
  readonly #scratch: OperatorScratch;
  readonly #writers: (SpillWriter | undefined)[];
  /** Rows written to each partition. */
  readonly #rows: number[];
  #finished = false;
  /** Deletions of removed partitions still under way. */
  readonly #removals = new Set<Promise<void>>();

  /** @param dir a new directory of `scratch` (its partitions are made in it) */
  constructor(scratch: OperatorScratch, dir: string, fanout: number) {
    this.#scratch = scratch;
    this.dir = dir;
    this.fanout = fanout;
    this.#writers = new Array<SpillWriter | undefined>(fanout).fill(undefined);
    this.#rows = new Array<number>(fanout).fill(0);
  }

  /** Rows written to partition `p`. */
  rows(p: number): number {
    return this.#rows[p]!;
  }

  /** Appends `batch` to partition `p`'s files. */
  async write(p: number, batch: RecordBatch): Promise<void> {
    let writer = this.#writers[p];
    if (!writer) {
      const dir = path.join(this.dir, `p${p}`);
      await mkdir(dir, { mode: 0o700 });
      // one batch in flight per partition: with 16 partitions a deeper window multiplies the
      // serialized and encoded copies held at once, a spike the governor sees in RSS
      writer = new SpillWriter(dir, {
        compression: SCRATCH_COMPRESSION,
        fileSize: FILE_SIZE,
        window: 1,
        maxBytesInFlight: 1,
        durable: false,
      });
      this.#writers[p] = writer;
      this.#scratch.partitionsSpilled++;
    }
    this.#rows[p]! += batch.numRows;
    const before = writer.bytesOnDisk;
    await writer.write(batch, 'r');
    this.#scratch.bytesSpilled += writer.bytesOnDisk - before;
  }

  /**
   * Commits every partition's files (idempotent), all at once: each commit waits on a few small
   * writes, a close and renames, which in turn left the thread idle for each (about 140 ms of a
   * 2 s `GROUP BY symbol, ts` over 1M rows committing 64 partitions). Every commit settles
   * before a failure is thrown.
   */
  async finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await settleAll(
      this.#writers.map(async (writer) => {
        if (!writer) return;
        const before = writer.bytesOnDisk;
        await writer.finish(0);
        this.#scratch.bytesSpilled += Math.max(0, writer.bytesOnDisk - before);
      }),
    );
  }

  /** True once {@link BatchPartitions.finish} ran. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Yields partition `p`'s batches in the order they were written (after {@link BatchPartitions.finish}).
   * The next batch is read (its checksum checked, decoded) while the caller works on this one, so
   * the disk read overlaps a join's probe or a groupBy's merge instead of leaving the thread idle.
   */
  async *read(p: number): AsyncGenerator<RecordBatch> {
    const writer = this.#writers[p];
    if (!writer) return;
    // room for two files: the one read and the next, opened ahead when a partition passed FILE_SIZE
    const files = new SpillFiles(writer.dir, writer.manifest, 2);
    const readAt = (i: number): Promise<RecordBatch> | undefined => {
      if (i >= files.numBatches) return undefined;
      const read = files.read(i);
      read.catch(() => {}); // observed at its turn, or dropped when the caller stops
      return read;
    };
    let next = readAt(0);
    try {
      for (let i = 0; next; i++) {
        const batch = await next;
        next = readAt(i + 1);
        yield batch;
      }
    } finally {
      // a caller that stops early leaves a read in flight: it settles before the files close
      await next?.catch(() => {});
      await files.close();
    }
  }

  /**
   * Deletes partition `p`'s files, in the background: a merge moves on to the next partition
   * while the directory goes (its unlinks waited on in turn left the thread idle for each);
   * {@link BatchPartitions.dispose} waits for every deletion.
   */
  remove(p: number): Promise<void> {
    const writer = this.#writers[p];
    this.#writers[p] = undefined;
    if (writer) {
      const removal = rm(writer.dir, { recursive: true, force: true }).catch(() => {
        // dispose removes the whole set's directory after it
      });
      this.#removals.add(removal);
      void removal.then(() => this.#removals.delete(removal));
    }
    return Promise.resolve();
  }

  /** Stops writing and deletes every partition. */
  async dispose(): Promise<void> {
    for (const writer of this.#writers) await writer?.abort();
    await Promise.all(this.#removals);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A new set of `fanout` batch partitions in a new directory of `scratch`. */
export async function openBatchPartitions(scratch: OperatorScratch, fanout: number): Promise<BatchPartitions> {
  return new BatchPartitions(scratch, await scratch.subdir('set'), fanout);
}
