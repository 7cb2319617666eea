/**
 * Reads the batches of a spill directory by global index, without loading files whole. A file
 * is read batch by batch (SpillBatchReader): opening it checks its size and the bytes outside its
 * batches, and each batch's bytes are checked against the manifest's CRC-32 as they are read,
 * before any is decoded, so a flipped byte or a truncated file fails with a SpillCorruptError
 * naming the file and batch and never yields wrong rows. A file with dictionary batches (or an
 * edited manifest whose ranges are out of order) is instead checked whole, streaming, the first
 * time it is read, then read through apache-arrow's file reader. Open files are kept in a small
 * LRU, closed when they fall out.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { RecordBatch, Schema } from 'apache-arrow';
import { LRUCache } from 'lru-cache';
import { openArrowFile, type ArrowFileHandle } from '../arrow/ipc-reader.ts';
import { SpillCorruptError, SpillError, SpillwayError } from '../../core/errors.ts';
import { logger } from '../../core/stage.ts';
import { crc32, crcHex } from '../checksum.ts';
import { RangeCrc, rangesInOrder } from './crc-combine.ts';
import { SpillBatchReader, checkSpillFileSize } from './batch-reader.ts';
import { checkFileName, decodeSchema, type SpillFileEntry, type SpillManifest } from './manifest.ts';

const debug = logger('spill');

/** An open spill file: read batch by batch (verified per range), or through apache-arrow after a whole-file check. */
type BatchHandle = ArrowFileHandle | SpillBatchReader;

/** Where a global batch index lives on disk. */
export interface BatchLocation {
  file: number;
  batch: number;
  entry: SpillFileEntry;
}

/**
 * Checks a file against its manifest entry by reading it once, front to back. Throws
 * {@link SpillCorruptError} naming the file and the first batch that differs (or is cut off).
 */
export async function verifySpillFile(dir: string, entry: SpillFileEntry): Promise<void> {
  const file = checkFileName(dir, entry.name);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new SpillError(
      `Spill file ${entry.name} listed in the manifest is missing (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      { dir, file },
      { cause: error },
    );
  }
  const ranges = entry.batchRanges;
  checkSpillFileSize(dir, file, entry, size);
  // one pass: each batch range's CRC, the whole-file CRC combined from them (each byte hashed once)
  const { whole, perBatch } = rangesInOrder(ranges) ? await hashInOnePass(file, ranges) : await hashTwice(file, ranges);
  for (const [i, range] of ranges.entries()) {
    if (crcHex(perBatch[i]!) !== range[2]) {
      throw new SpillCorruptError(`Spill file ${entry.name} is corrupt: batch ${i} fails its CRC-32 check`, {
        dir,
        file,
        batch: i,
      });
    }
  }
  if (crcHex(whole) !== entry.crc32) {
    throw new SpillCorruptError(
      `Spill file ${entry.name} is corrupt: its CRC-32 is ${crcHex(whole)}, the manifest says ${entry.crc32} (outside any batch: schema or footer)`,
      { dir, file },
    );
  }
}

type Ranges = SpillFileEntry['batchRanges'];

async function hashInOnePass(file: string, ranges: Ranges): Promise<{ whole: number; perBatch: number[] }> {
  const hash = new RangeCrc(ranges);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)
    hash.update(chunk);
  return { whole: hash.whole, perBatch: hash.perRange };
}

/** Ranges out of order (an edited manifest): every byte for the whole and again for its ranges. */
async function hashTwice(file: string, ranges: Ranges): Promise<{ whole: number; perBatch: number[] }> {
  let whole = 0;
  const perBatch = new Array<number>(ranges.length).fill(0);
  let position = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    whole = crc32(chunk, whole);
    const end = position + chunk.byteLength;
    for (const [i, [offset, length]] of ranges.entries()) {
      const from = Math.max(offset, position);
      const to = Math.min(offset + length, end);
      if (to > from) perBatch[i] = crc32(chunk.subarray(from - position, to - position), perBatch[i]);
    }
    position = end;
  }
  return { whole, perBatch };
}

/** Random access to the batches of a spill directory's files. */
export class SpillFiles {
  readonly dir: string;
  readonly manifest: SpillManifest;
  /** Schema of each segment. */
  readonly schemas: Schema[];
  /** Global index of each file's first batch; one more entry at the end (the total). */
  readonly #firstBatch: number[] = [0];
  readonly #verified = new Map<number, Promise<void>>();
  readonly #handles: LRUCache<number, Promise<BatchHandle>>;
  /** Reads in flight per handle: a handle leaving the cache closes only once they are done. */
  readonly #inUse = new Map<Promise<BatchHandle>, number>();
  readonly #toClose = new Set<Promise<BatchHandle>>();
  #closed = false;

  constructor(dir: string, manifest: SpillManifest, maxOpenFiles = 4) {
    this.dir = dir;
    this.manifest = manifest;
    this.schemas = manifest.segments.map((s) => decodeSchema(s, dir));
    for (const f of manifest.files) this.#firstBatch.push(this.#firstBatch.at(-1)! + f.batches);
    this.#handles = new LRUCache<number, Promise<BatchHandle>>({
      max: maxOpenFiles,
      dispose: (handle) => this.#closeHandle(handle),
    });
  }

  /** Batches on disk. */
  get numBatches(): number {
    return this.#firstBatch.at(-1)!;
  }

  /** Where global batch `index` is. */
  locate(index: number): BatchLocation {
    let lo = 0;
    let hi = this.manifest.files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#firstBatch[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return { file: lo, batch: index - this.#firstBatch[lo]!, entry: this.manifest.files[lo]! };
  }

  /** Verifies file `k` once (concurrent callers share the check; a failure is remembered). */
  verify(k: number): Promise<void> {
    let check = this.#verified.get(k);
    if (!check) {
      check = verifySpillFile(this.dir, this.manifest.files[k]!);
      check.catch(() => {});
      this.#verified.set(k, check);
    }
    return check;
  }

  /**
   * The cached handle of file `k` (opened now when not cached). Not an async function: the
   * promise returned must be the one in the cache, which {@link SpillFiles.read} marks in use and
   * the cache's eviction finds by identity (an async wrapper was another promise, never in use,
   * so evicting a file being read closed it under the read).
   */
  #handle(k: number): Promise<BatchHandle> {
    let handle = this.#handles.get(k);
    if (!handle) {
      handle = this.#open(k);
      handle.catch(() => {});
      this.#handles.set(k, handle);
      handle.catch(() => this.#handles.delete(k));
    }
    return handle;
  }

  /** Opens file `k` (an async function: whatever fails, even a bad name, rejects and never throws). */
  async #open(k: number): Promise<BatchHandle> {
    const entry = this.manifest.files[k]!;
    const schema = this.schemas[entry.segment]!;
    // batch by batch, each range verified as it is read; else the whole file first, then apache-arrow's reader
    if (SpillBatchReader.supports(entry, schema))
      return SpillBatchReader.open({ dir: this.dir, entry, schema, compression: this.manifest.compression });
    await this.verify(k);
    return openArrowFile(checkFileName(this.dir, entry.name));
  }

  /** Reads and decodes global batch `index` (verifying its file on first use). */
  async read(index: number): Promise<RecordBatch> {
    if (this.#closed) throw new SpillError('The spill is disposed', { dir: this.dir });
    if (!Number.isInteger(index) || index < 0 || index >= this.numBatches)
      throw new RangeError(`Spilled batch ${index} is outside 0..${this.numBatches - 1}`);
    const { file, batch, entry } = this.locate(index);
    const path = checkFileName(this.dir, entry.name);
    const pending = this.#handle(file);
    // in use before the next file opens: with room for one file, opening it evicts this one,
    // which must then close after this read, not before it (a multi-file read failed so)
    this.#inUse.set(pending, (this.#inUse.get(pending) ?? 0) + 1);
    // replay reads files in order: verify and open the next one while this one is consumed
    if (batch === 0 && file + 1 < this.manifest.files.length) void this.#handle(file + 1).catch(() => {});
    try {
      return await this.#readFrom(await pending, batch, entry, path);
    } finally {
      const users = this.#inUse.get(pending)! - 1;
      if (users > 0) this.#inUse.set(pending, users);
      else {
        this.#inUse.delete(pending);
        if (this.#toClose.delete(pending)) this.#closeHandle(pending);
      }
    }
  }

  async #readFrom(handle: BatchHandle, batch: number, entry: SpillFileEntry, path: string): Promise<RecordBatch> {
    if (handle instanceof SpillBatchReader) return handle.readBatch(batch);
    if (handle.numBatches !== entry.batches || handle.batchRows[batch] !== entry.batchRows[batch]) {
      throw new SpillCorruptError(
        `Spill file ${entry.name} does not match its manifest (${handle.numBatches} batches)`,
        { dir: this.dir, file: path, batch },
      );
    }
    try {
      const decoded = await handle.readBatch(batch);
      debug('read %s batch %d (%d rows)', entry.name, batch, decoded.numRows);
      return decoded;
    } catch (error) {
      if (error instanceof SpillwayError && error.code !== 'ERR_SPILLWAY_IO') {
        throw new SpillCorruptError(
          `Spill file ${entry.name} batch ${batch} cannot be decoded: ${error.message}`,
          { dir: this.dir, file: path, batch },
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** Closes `handle` now, or once the reads using it are done. */
  #closeHandle(handle: Promise<BatchHandle>): void {
    if ((this.#inUse.get(handle) ?? 0) > 0) this.#toClose.add(handle);
    else void handle.then((h) => h.close()).catch(() => {});
  }

  /**
   * Closes every open file (each once its reads in flight are done) and stays usable: the next
   * read opens its file again (verified already). Replays call it when they end, so an opened
   * spill holds no descriptor between uses and none is left for the garbage collector to close.
   */
  releaseFiles(): void {
    this.#handles.clear();
  }

  /** Closes every open file. */
  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.all(open.map((h) => h.then((x) => x.close()).catch(() => {})));
  }
}
