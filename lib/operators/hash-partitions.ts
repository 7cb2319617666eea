/**
 * The spill partition store of the hash operators (groupBy, distinct, join): records go to one of
 * N partitions by hash, each partition is a spill directory written by the spill layer
 * (checksummed Arrow IPC files through {@link SpillWriter}), and a partition is read
 * back batch by batch, verified, then removed. Records are arbitrary JS values (rows, or a group's
 * key and partial aggregate states): each spilled batch holds Binary cells, each a piece of
 * records encoded by lib/formats/records/record-codec.ts (by shape, or in V8's structured-clone format), which keeps
 * bigint, NaN, -0, Dates, typed arrays, Sets and Maps exact, where an Arrow schema per record
 * shape could not hold user-defined states.
 *
 * Records are serialized in small pieces as they arrive and only the bytes wait for a chunk to
 * fill: buffered as objects until a whole chunk filled (16 partitions x 4096 records), a join's
 * left rows outlived the young generation and grew the old space by ~80 MB of garbage, which took
 * a large x large join at a 256 MB governor limit past the critical mark.
 *
 * All partitions of an operator live under its scratch directory (operator-scratch.ts), as a
 * sort's runs do.
 */
import { Binary, Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { SpillError } from '../core/errors.ts';
import type { OperatorScratch } from './operator-scratch.ts';
import { decodeRecords, encodeRecords } from '../formats/records/record-codec.ts';
import { BatchPartitions } from './batch-partitions.ts';
import { settleAll } from '../core/settle-all.ts';

/** Records per spilled chunk; also bounded by {@link CHUNK_BYTES}. */
const CHUNK_RECORDS = 4096;
/**
 * Most bytes per spilled chunk (serialized) before it is written. Small: the pieces wait in
 * malloc'd buffers, and 16 partitions of 2 MB waiting among short-lived buffers fragmented the
 * allocator's main heap (RSS it keeps after they are freed).
 */
const CHUNK_BYTES = 256 << 10;
/** Records per serialized piece (one Binary cell): few enough that they die young. */
const PIECE_RECORDS = 256;

const CELL_SCHEMA = new Schema([new Field('records', new Binary(), false)]);

/** Wraps serialized pieces as a RecordBatch with one Binary column, a piece per row. */
function cellBatch(pieces: readonly Uint8Array[]): RecordBatch {
  const offsets = new Int32Array(pieces.length + 1);
  for (let i = 0; i < pieces.length; i++) offsets[i + 1] = offsets[i]! + pieces[i]!.byteLength;
  const child = makeData({
    type: new Binary(),
    length: pieces.length,
    nullCount: 0,
    valueOffsets: offsets,
    data: Buffer.concat(pieces, offsets[pieces.length]),
  });
  const struct = makeData({
    type: new Struct(CELL_SCHEMA.fields),
    length: pieces.length,
    nullCount: 0,
    children: [child],
  });
  return new RecordBatch(CELL_SCHEMA, struct);
}

/** The records held in a batch written by {@link cellBatch}, its pieces in order. */
function cellRecords(batch: RecordBatch): unknown[] {
  const data = batch.getChildAt(0)!.data[0]!;
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const records: unknown[] = [];
  for (let i = 0; i < data.length; i++) {
    const from = offsets[data.offset + i]!;
    const to = offsets[data.offset + i + 1]!;
    for (const record of decodeRecords(bytes.subarray(from, to))) records.push(record);
  }
  return records;
}

/**
 * A new set of `fanout` partitions under `scratch`; `budget` (the operator's memory budget)
 * bounds what the set buffers before writing: a chunk is at most budget / (2 * fanout) bytes
 * (between 64 kB and 256 kB serialized).
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
 * written to the partition's files (batch-partitions.ts); {@link HashPartitions.finish} commits every
 * partition; {@link HashPartitions.read} yields a partition's records chunk by chunk, in the order
 * they were added; {@link HashPartitions.remove} deletes a partition once read.
 */
export class HashPartitions {
  /** Number of partitions. */
  readonly fanout: number;
  readonly dir: string;
  /** The spill files of each partition, a batch of serialized pieces per chunk. */
  readonly #files: BatchPartitions;
  /** Records not yet serialized, per partition. */
  readonly #buffers: unknown[][];
  readonly #bufferBytes: number[];
  /** Serialized pieces waiting for their chunk, per partition, and their bytes and records. */
  readonly #pieces: Uint8Array[][];
  readonly #pieceBytes: number[];
  readonly #pieceRecords: number[];
  readonly #rows: number[];
  readonly #chunkBytes: number;
  #finishing: Promise<void> | undefined;

  /** Use {@link openPartitions}. */
  constructor(scratch: OperatorScratch, dir: string, fanout: number, chunkBytes = CHUNK_BYTES) {
    this.#chunkBytes = chunkBytes;
    this.#files = new BatchPartitions(scratch, dir, fanout);
    this.dir = dir;
    this.fanout = fanout;
    this.#buffers = Array.from({ length: fanout }, () => []);
    this.#bufferBytes = new Array<number>(fanout).fill(0);
    this.#pieces = Array.from({ length: fanout }, () => []);
    this.#pieceBytes = new Array<number>(fanout).fill(0);
    this.#pieceRecords = new Array<number>(fanout).fill(0);
    this.#rows = new Array<number>(fanout).fill(0);
  }

  /** Records added to partition `p` (0 once it is removed). */
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
    if (buffer.length < PIECE_RECORDS && this.#bufferBytes[p]! < this.#chunkBytes / 8) return undefined;
    this.#seal(p);
    if (this.#pieceRecords[p]! >= CHUNK_RECORDS || this.#pieceBytes[p]! >= this.#chunkBytes) return this.#writeChunk(p);
    return undefined;
  }

  /** Serializes partition `p`'s buffered records into a piece. */
  #seal(p: number): void {
    const records = this.#buffers[p]!;
    if (records.length === 0) return;
    const piece = encodeRecords(records);
    this.#pieces[p]!.push(piece);
    this.#pieceBytes[p]! += piece.byteLength;
    this.#pieceRecords[p]! += records.length;
    this.#buffers[p] = [];
    this.#bufferBytes[p] = 0;
  }

  async #writeChunk(p: number): Promise<void> {
    this.#seal(p);
    const pieces = this.#pieces[p]!;
    if (pieces.length === 0) return;
    this.#pieces[p] = [];
    this.#pieceBytes[p] = 0;
    this.#pieceRecords[p] = 0;
    await this.#files.write(p, cellBatch(pieces));
  }

  /** Writes what is buffered and commits every partition's files. */
  finish(): Promise<void> {
    this.#finishing ??= (async () => {
      // every partition's last chunk at once: each goes to a file of its own (as batch-partitions.ts commits)
      await settleAll(Array.from({ length: this.fanout }, (_, p) => this.#writeChunk(p)));
      await this.#files.finish();
    })();
    return this.#finishing;
  }

  /** Yields partition `p`'s records in chunks, in the order they were added (after {@link HashPartitions.finish}). */
  async *read(p: number): AsyncGenerator<unknown[]> {
    if (!this.#files.finished) throw new SpillError('Partitions are read after finish()', { dir: this.dir });
    for await (const batch of this.#files.read(p)) yield cellRecords(batch);
  }

  /** Deletes partition `p`'s files. */
  async remove(p: number): Promise<void> {
    this.#buffers[p] = [];
    this.#pieces[p] = [];
    this.#rows[p] = 0;
    await this.#files.remove(p);
  }

  /** Stops writing and deletes every partition of this set. */
  dispose(): Promise<void> {
    return this.#files.dispose();
  }
}
