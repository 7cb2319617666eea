/**
 * The output of `toSpill`, and `openSpill(dir)` for a spill written by any process: one dataset
 * made of spilled batches (on disk, in order) followed by the batches still held in memory,
 * replayed in the order they arrived without loading it whole. Random access (`get`, `slice`)
 * reads only the batches it needs, through an LRU cache of decoded batches bounded in bytes.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Table, type RecordBatch, type Schema } from 'apache-arrow';
import { LRUCache } from 'lru-cache';
import { Batch, type Row } from '../../core/batch.ts';
import { BatchSource } from '../../core/source.ts';
import { castRecordBatch, recordBatchBytes, recordBatchToRows, schemasEqual, unifySchemas } from '../arrow/convert.ts';
import { CollectLimitError, SpillError, UnsupportedError } from '../../core/errors.ts';
import { expectBoolean, expectOptions, optionKeys, parseBytes, type ByteSize } from '../../core/validate.ts';
import { forgetOnExit } from './cleanup.ts';
import { checkSeal, readManifest, readManifestText, type SpillManifest, checkFileName } from './manifest.ts';
import { SpillFiles } from './reader.ts';
import { brandClass } from '../../core/brand.ts';
import { DEFAULT_CACHE_BYTES } from './defaults.ts';

export { DEFAULT_CACHE_BYTES } from './defaults.ts';
/** Batches a replay reads ahead of the one being consumed. */
const READ_AHEAD_BATCHES = 4;
/** Decoded bytes a replay reads ahead, at most (one batch always). */
const READ_AHEAD_BYTES = 16e6;
/** Default of `toTable`'s `maxBytes`. */
export const DEFAULT_TABLE_BYTES = 256e6;

/** Options of {@link openSpill}. */
export interface OpenSpillOptions {
  /** Bytes of decoded batches kept for `get`/`slice` (default 64 MB). */
  cacheBytes?: ByteSize;
  /**
   * Open a spill whose writer kept its last batches in memory (manifest `complete: false`):
   * only the rows on disk are read. Default false: such a spill is refused.
   */
  partial?: boolean;
}

/** @internal What the sink hands over to build a {@link Spilled}. */
export interface SpilledInit {
  dir: string;
  manifest: SpillManifest;
  /** Batches still in memory, after the spilled ones, in arrival order. */
  memory: Batch[];
  /** True: the directory survives dispose() and process exit. */
  keep: boolean;
  cacheBytes: number;
}

/** Every option of OpenSpillOptions, for strict validation. */
const KNOWN_OPEN_SPILL_OPTIONS = optionKeys<OpenSpillOptions>({ cacheBytes: true, partial: true });
/** A spilled dataset: rows on disk and in memory, readable in order or by index. */
export class Spilled {
  /** The spill directory. */
  readonly dir: string;
  /** Rows in all. */
  readonly numRows: number;
  /** Batches in all. */
  readonly numBatches: number;
  /** True when the directory is kept on dispose() and at exit. */
  readonly keep: boolean;
  /** The manifest (what is on disk). */
  readonly manifest: SpillManifest;
  readonly #files: SpillFiles;
  #memory: Batch[];
  readonly #diskBatches: number;
  /** Global row index of each batch's first row, plus the total. */
  readonly #rowStarts: number[];
  readonly #cache: LRUCache<number, RecordBatch>;
  #schema: Schema | undefined;
  #disposed = false;

  /** @internal use `toSpill()` or {@link openSpill}. */
  constructor(init: SpilledInit) {
    this.dir = init.dir;
    this.manifest = init.manifest;
    this.keep = init.keep;
    this.#files = new SpillFiles(init.dir, init.manifest);
    this.#memory = init.memory;
    this.#diskBatches = this.#files.numBatches;
    const starts = [0];
    for (const f of init.manifest.files) for (const n of f.batchRows) starts.push(starts.at(-1)! + n);
    for (const b of init.memory) starts.push(starts.at(-1)! + b.numRows);
    this.#rowStarts = starts;
    this.numRows = starts.at(-1)!;
    this.numBatches = starts.length - 1;
    this.#cache = new LRUCache<number, RecordBatch>({
      maxSize: Math.max(1, init.cacheBytes),
      sizeCalculation: (b) => Math.max(1, recordBatchBytes(b)),
    });
  }

  /** Bytes of the spill files. */
  get bytesOnDisk(): number {
    return this.manifest.bytesOnDisk;
  }

  /** Rows held in memory (not spilled). */
  get rowsInMemory(): number {
    return this.numRows - this.manifest.numRows;
  }

  /** Schema of each segment on disk, in order (one unless the schema changed incompatibly). */
  get schemas(): readonly Schema[] {
    return this.#files.schemas;
  }

  /**
   * One schema for the whole dataset: the segments' (and in-memory batches') schemas widened
   * together. Throws {@link UnsupportedError} when they cannot widen (see {@link Spilled.schemas}).
   */
  get schema(): Schema {
    if (this.#schema) return this.#schema;
    const all = [...this.#files.schemas, ...this.#memory.map((b) => b.arrow.schema)];
    if (all.length === 0)
      throw new UnsupportedError('The spill holds no batches, so it has no schema', { dir: this.dir });
    let schema = all[0]!;
    for (const s of all.slice(1)) schema = unifySchemas(schema, s);
    this.#schema = schema;
    return schema;
  }

  #check(): void {
    if (this.#disposed) throw new SpillError('The spill is disposed', { dir: this.dir });
  }

  /** Decoded batch `index` (memory or disk; `cache`: keep it in the LRU). */
  async #arrow(index: number, cache: boolean): Promise<RecordBatch> {
    this.#check();
    if (index >= this.#diskBatches) return this.#memory[index - this.#diskBatches]!.arrow;
    const hit = this.#cache.get(index);
    if (hit) return hit;
    const batch = await this.#files.read(index);
    if (cache) this.#cache.set(index, batch);
    return batch;
  }

  /** Rows of batch `index`, optionally only `[from, to)` of it. */
  async #rows(index: number, cache: boolean, from?: number, to?: number): Promise<Row[]> {
    if (index >= this.#diskBatches) {
      this.#check();
      const rows = this.#memory[index - this.#diskBatches]!.rows;
      return from === undefined ? rows : rows.slice(from, to);
    }
    const batch = await this.#arrow(index, cache);
    const part = from === undefined ? batch : batch.slice(from, to);
    // int64 'auto': a column of bigints only is marked (INT64_METADATA_KEY) and reads back as
    // bigints; one mixing them with numbers gives numbers where safe, as they went in
    return recordBatchToRows(part);
  }

  /** Batch holding global row `row` (binary search). */
  #batchOf(row: number): number {
    let lo = 0;
    let hi = this.numBatches - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#rowStarts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Batches in order with a read-ahead window: while the caller consumes batch i, the next ones
   * (up to {@link READ_AHEAD_BATCHES}, and {@link READ_AHEAD_BYTES} of decoded data) are read,
   * verified and decompressed, so disk reads, checksums and decompression on the threadpool
   * overlap with the caller's work and with each other. The window's batches are held on top of
   * the one being consumed.
   */
  async *#ordered(diskOnly: boolean): AsyncGenerator<RecordBatch | undefined> {
    // memory-resident batches need no read ahead; with diskOnly they are not converted either
    const read = (i: number): Promise<RecordBatch | undefined> =>
      diskOnly && i >= this.#diskBatches ? Promise.resolve(undefined) : this.#arrow(i, false);
    const window: { promise: Promise<RecordBatch | undefined>; bytes: number }[] = [];
    let next = 0;
    let ahead = 0;
    const fill = (): void => {
      while (
        next < this.numBatches &&
        (window.length === 0 || (window.length < READ_AHEAD_BATCHES && ahead < READ_AHEAD_BYTES))
      ) {
        const promise = read(next);
        promise.catch(() => {}); // observed when its turn comes (or dropped when the caller stops)
        const bytes = this.#estimate(next++);
        ahead += bytes;
        window.push({ promise, bytes });
      }
    };
    try {
      while (next < this.numBatches || window.length > 0) {
        fill();
        const current = window.shift()!;
        ahead -= current.bytes;
        const batch = await current.promise;
        fill();
        yield batch;
      }
    } finally {
      window.length = 0;
    }
  }

  /** Decoded bytes of batch `index`, estimated from its file's raw bytes (0 for memory-resident batches). */
  #estimate(index: number): number {
    if (index >= this.#diskBatches) return 0;
    const { entry } = this.#files.locate(index);
    return entry.batches === 0 ? 0 : entry.rawBytes / entry.batches;
  }

  /** Every batch as an Arrow RecordBatch, in the original order; the next is read ahead while one is consumed. */
  async *batches(): AsyncGenerator<RecordBatch> {
    try {
      for await (const batch of this.#ordered(false)) yield batch!;
    } finally {
      // a replay that ends (or stops) closes its files: no descriptor waits for dispose() or GC
      this.#files.releaseFiles();
    }
  }

  /** Every row, in the original order, with the values it had. */
  async *rows(): AsyncGenerator<Row> {
    try {
      let i = 0;
      for await (const batch of this.#ordered(true)) {
        const index = i++;
        if (index >= this.#diskBatches) {
          this.#check();
          yield* this.#memory[index - this.#diskBatches]!.rows;
        } else yield* recordBatchToRows(batch!);
      }
    } finally {
      this.#files.releaseFiles();
    }
  }

  /** Row `index` (0-based), reading only its batch; undefined when out of range. */
  async get(index: number): Promise<Row | undefined> {
    this.#check();
    if (!Number.isInteger(index) || index < 0 || index >= this.numRows) return undefined;
    const b = this.#batchOf(index);
    const at = index - this.#rowStarts[b]!;
    return (await this.#rows(b, true, at, at + 1))[0];
  }

  /** Rows `[start, end)` (clamped, like Array.prototype.slice without negatives), reading only their batches. */
  async slice(start: number, end: number = this.numRows): Promise<Row[]> {
    this.#check();
    const from = Math.max(0, Math.min(Math.floor(start), this.numRows));
    const to = Math.max(from, Math.min(Math.floor(end), this.numRows));
    const out: Row[] = [];
    if (from === to) return out;
    for (let b = this.#batchOf(from); b < this.numBatches && this.#rowStarts[b]! < to; b++) {
      const first = this.#rowStarts[b]!;
      const rows = await this.#rows(b, true, Math.max(0, from - first), Math.min(this.#rowStarts[b + 1]!, to) - first);
      for (const row of rows) out.push(row);
    }
    return out;
  }

  /**
   * The whole dataset as one apache-arrow Table (batches conformed to {@link Spilled.schema}).
   * Refuses with a CollectLimitError when its decoded size passes `maxBytes` (default 256 MB).
   */
  async toTable(options?: { maxBytes?: ByteSize }): Promise<Table> {
    this.#check();
    const opts = expectOptions(options, 'options', ['maxBytes']);
    const maxBytes = opts.maxBytes === undefined ? DEFAULT_TABLE_BYTES : parseBytes(opts.maxBytes, 'options.maxBytes');
    const bytes =
      this.manifest.files.reduce((n, f) => n + f.rawBytes, 0) + this.#memory.reduce((n, b) => n + b.bytes, 0);
    if (bytes > maxBytes) {
      throw new CollectLimitError(
        `toTable() would hold about ${bytes} bytes, more than options.maxBytes (${maxBytes}); iterate batches() or rows() instead`,
        { dir: this.dir },
      );
    }
    const schema = this.schema;
    const batches: RecordBatch[] = [];
    for await (const batch of this.batches())
      batches.push(schemasEqual(batch.schema, schema) ? batch : castRecordBatch(batch, schema));
    return batches.length === 0 ? new Table(schema) : new Table(batches);
  }

  /** A spillway source replaying the dataset in order (rows batches as rows, Arrow ones as Arrow). */
  toSource(options?: { name?: string }): BatchSource {
    const name = expectOptions(options).name ?? 'fromSpill';
    let rowsRead = 0;
    const open = async function* (this: Spilled): AsyncGenerator<Batch> {
      try {
        yield* replay.call(this);
      } finally {
        this.#files.releaseFiles();
      }
    }.bind(this);
    // disk batches come through the read-ahead window; memory-resident ones as they are
    const replay = async function* (this: Spilled): AsyncGenerator<Batch> {
      let i = 0;
      for await (const arrow of this.#ordered(true)) {
        const position = { source: this.dir, index: i, rowStart: this.#rowStarts[i]! };
        let batch: Batch;
        if (i >= this.#diskBatches) {
          this.#check();
          batch = this.#memory[i - this.#diskBatches]!;
        } else {
          batch = Batch.fromArrow(arrow!, position);
        }
        i++;
        rowsRead += batch.numRows;
        yield batch;
      }
    }.bind(this);
    return new BatchSource({ name, open, progress: () => ({ rows: rowsRead, bytes: 0, totalRows: this.numRows }) });
  }

  /**
   * Releases the batches held in memory, the cache and open files, and removes the directory
   * unless the spill is kept (`keep: true`, or opened with {@link openSpill}); `remove: true`
   * removes it anyway. Idempotent.
   */
  async dispose(options?: { remove?: boolean }): Promise<void> {
    const remove = expectBoolean(expectOptions(options).remove, 'options.remove', !this.keep);
    const first = !this.#disposed;
    this.#disposed = true;
    this.#memory = [];
    this.#cache.clear();
    if (first) await this.#files.close();
    if (remove) {
      forgetOnExit(this.dir);
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** Same as `dispose()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
brandClass(Spilled, 'Spilled');

/**
 * Opens a spill directory written by `toSpill` (in this or any process) for replay. Checks the
 * manifest, refuses file names outside the directory and files that are missing; each file's
 * checksums are verified when it is first read. The directory is never removed unless
 * `dispose({ remove: true })`. Throws {@link SpillError}.
 */
export async function openSpill(dir: string, options?: OpenSpillOptions): Promise<Spilled> {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new SpillError('Expected `dir` to be a spill directory path', {});
  const opts = expectOptions(options, 'options', KNOWN_OPEN_SPILL_OPTIONS);
  const cacheBytes =
    opts.cacheBytes === undefined ? DEFAULT_CACHE_BYTES : parseBytes(opts.cacheBytes, 'options.cacheBytes');
  const partial = expectBoolean(opts.partial, 'options.partial', false);
  const abs = path.resolve(dir);
  const manifest = await readManifest(abs);
  if (!manifest.complete && !partial) {
    const why =
      manifest.rowsInMemory > 0
        ? `its writer kept ${manifest.rowsInMemory} rows in memory (use toSpill({ keep: true }) to write them all)`
        : 'it was not finished (the writing pipeline failed or is still running)';
    throw new SpillError(
      `The spill is incomplete: ${why}; pass { partial: true } to read the ${manifest.numRows} rows on disk`,
      { dir: abs },
    );
  }
  // a complete spill must be exactly what its writer sealed (a partial one may be mid-write)
  if (manifest.complete) await checkSeal(abs, manifest, await readManifestText(abs), await readdir(abs));
  for (const f of manifest.files) {
    const file = checkFileName(abs, f.name);
    try {
      await stat(file);
    } catch (error) {
      throw new SpillError(
        `Spill file ${f.name} listed in the manifest is missing`,
        { dir: abs, file },
        { cause: error },
      );
    }
  }
  return new Spilled({ dir: abs, manifest, memory: [], keep: true, cacheBytes });
}
