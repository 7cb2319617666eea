/**
 * The spill partition store of the hash operators (groupBy, distinct, join): records go to one of
 * N partitions by hash, each partition is a spill directory written by the spill layer
 * (compressed, checksummed Arrow IPC files through {@link SpillWriter}), and a partition is read
 * back batch by batch, verified, then removed. Records are arbitrary JS values (rows, or a group's
 * key and partial aggregate states): each spilled batch holds one Binary cell with a chunk of
 * records in V8's structured-clone format, which keeps bigint, NaN, -0, Dates, typed arrays, Sets
 * and Maps exact, where an Arrow schema per record shape could not hold user-defined states.
 *
 * All partitions of an operator live under its scratch directory (operator-scratch.ts), as a
 * sort's runs do.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import { Binary, Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { SpillError } from '../core/errors.ts';
import { SpillWriter } from '../formats/spill/writer.ts';
import { SpillFiles } from '../formats/spill/reader.ts';
import type { OperatorScratch } from './operator-scratch.ts';

/** Records per spilled chunk (one Binary cell); also bounded by {@link CHUNK_BYTES}. */
const CHUNK_RECORDS = 4096;
/** Most estimated bytes per spilled chunk before it is written. */
const CHUNK_BYTES = 4 << 20;
/** Spill files rotate at this size (a partition is normally one file). */
const FILE_SIZE = 1 << 30;

const CELL_SCHEMA = new Schema([new Field('records', new Binary(), false)]);

/** Wraps serialized bytes as a one-row RecordBatch with one Binary column. */
function cellBatch(bytes: Uint8Array): RecordBatch {
  const child = makeData({
    type: new Binary(),
    length: 1,
    nullCount: 0,
    valueOffsets: Int32Array.of(0, bytes.byteLength),
    data: bytes,
  });
  const struct = makeData({ type: new Struct(CELL_SCHEMA.fields), length: 1, nullCount: 0, children: [child] });
  return new RecordBatch(CELL_SCHEMA, struct);
}

/** The records held in a batch written by {@link cellBatch}. */
function cellRecords(batch: RecordBatch): unknown[] {
  const data = batch.getChildAt(0)!.data[0]!;
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const from = offsets[data.offset]!;
  const to = offsets[data.offset + 1]!;
  return v8.deserialize(bytes.subarray(from, to)) as unknown[];
}

/**
 * A new set of `fanout` partitions under `scratch`; `budget` (the operator's memory budget)
 * bounds what the set buffers before writing: a chunk is at most budget / (2 * fanout) bytes
 * (between 64 kB and 4 MB).
 */
export async function openPartitions(
  scratch: OperatorScratch,
  fanout: number,
  budget: number,
): Promise<HashPartitions> {
  const dir = await scratch.subdir('set');
  const chunkBytes = Math.max(64 << 10, Math.min(CHUNK_BYTES, Math.floor(budget / (2 * fanout))));
  return new HashPartitions(scratch, dir, fanout, chunkBytes);
}

/**
 * N spill partitions: {@link HashPartitions.add} buffers a record for a partition, full chunks are
 * written through the partition's {@link SpillWriter}; {@link HashPartitions.finish} commits every
 * partition; {@link HashPartitions.read} yields a partition's records chunk by chunk, in the order
 * they were added; {@link HashPartitions.remove} deletes a partition once read.
 */
export class HashPartitions {
  /** Number of partitions. */
  readonly fanout: number;
  readonly dir: string;
  readonly #scratch: OperatorScratch;
  readonly #buffers: unknown[][];
  readonly #bufferBytes: number[];
  readonly #writers: (SpillWriter | undefined)[];
  readonly #rows: number[];
  readonly #chunkBytes: number;
  #finished = false;

  /** Use {@link openPartitions}. */
  constructor(scratch: OperatorScratch, dir: string, fanout: number, chunkBytes = CHUNK_BYTES) {
    this.#chunkBytes = chunkBytes;
    this.#scratch = scratch;
    this.dir = dir;
    this.fanout = fanout;
    this.#buffers = Array.from({ length: fanout }, () => []);
    this.#bufferBytes = new Array<number>(fanout).fill(0);
    this.#writers = new Array<SpillWriter | undefined>(fanout).fill(undefined);
    this.#rows = new Array<number>(fanout).fill(0);
  }

  /** Records added to partition `p`. */
  records(p: number): number {
    return this.#rows[p]!;
  }

  /** Records added to all partitions. */
  get totalRecords(): number {
    return this.#rows.reduce((a, b) => a + b, 0);
  }

  /**
   * Buffers `record` (of about `bytes` bytes) for partition `p`; returns a promise when a chunk
   * is being written (await it before adding more), else undefined.
   */
  add(p: number, record: unknown, bytes: number): Promise<void> | undefined {
    const buffer = this.#buffers[p]!;
    buffer.push(record);
    this.#rows[p]!++;
    this.#bufferBytes[p]! += bytes;
    if (buffer.length >= CHUNK_RECORDS || this.#bufferBytes[p]! >= this.#chunkBytes) return this.#writeChunk(p);
    return undefined;
  }

  async #writeChunk(p: number): Promise<void> {
    const records = this.#buffers[p]!;
    if (records.length === 0) return;
    this.#buffers[p] = [];
    this.#bufferBytes[p] = 0;
    let writer = this.#writers[p];
    if (!writer) {
      const dir = path.join(this.dir, `p${p}`);
      await mkdir(dir, { mode: 0o700 });
      // one chunk in flight per partition: with 16 partitions a deeper window multiplies the
      // serialized and compressed copies held at once, a spike the governor sees in RSS
      writer = new SpillWriter(dir, { compression: 'lz4', fileSize: FILE_SIZE, window: 1, maxBytesInFlight: 1 });
      this.#writers[p] = writer;
      this.#scratch.partitionsSpilled++;
    }
    const before = writer.bytesOnDisk;
    await writer.write(cellBatch(v8.serialize(records)), 'r');
    this.#scratch.bytesSpilled += writer.bytesOnDisk - before;
  }

  /** Writes what is buffered and commits every partition's files. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    for (let p = 0; p < this.fanout; p++) {
      await this.#writeChunk(p);
      const writer = this.#writers[p];
      if (writer) {
        const before = writer.bytesOnDisk;
        await writer.finish(0);
        this.#scratch.bytesSpilled += Math.max(0, writer.bytesOnDisk - before);
      }
    }
  }

  /** Yields partition `p`'s records in chunks, in the order they were added (after {@link HashPartitions.finish}). */
  async *read(p: number): AsyncGenerator<unknown[]> {
    if (!this.#finished) throw new SpillError('Partitions are read after finish()', { dir: this.dir });
    const writer = this.#writers[p];
    if (!writer) return;
    const files = new SpillFiles(writer.dir, writer.manifest, 1);
    try {
      for (let i = 0; i < files.numBatches; i++) yield cellRecords(await files.read(i));
    } finally {
      await files.close();
    }
  }

  /** Deletes partition `p`'s files. */
  async remove(p: number): Promise<void> {
    const writer = this.#writers[p];
    this.#writers[p] = undefined;
    this.#buffers[p] = [];
    if (writer) await rm(writer.dir, { recursive: true, force: true });
  }

  /** Stops writing and deletes every partition of this set. */
  async dispose(): Promise<void> {
    for (const writer of this.#writers) await writer?.abort();
    await rm(this.dir, { recursive: true, force: true });
  }
}
