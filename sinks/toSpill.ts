/**
 * `toSpill`: keeps a pipeline's results in memory up to a budget and writes the overflow, oldest
 * batches first, to compressed Arrow IPC files; the output reads as one dataset in the original
 * order (see {@link Spilled}). The memory governor's `spill` level (or higher) flushes every
 * memory-resident batch to disk.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Batch } from '../lib/core/batch.ts';
import { BatchSink } from '../lib/core/sink.ts';
import { SpillError, ValidationError } from '../lib/core/errors.ts';
import { logger, type GovernorGate, type StageContext } from '../lib/core/stage.ts';
import {
  expectBoolean,
  expectInteger,
  expectOneOf,
  expectOptions,
  optionKeys,
  parseBytes,
  type ByteSize,
} from '../lib/core/validate.ts';
import { SpillWriter } from '../lib/formats/spill/writer.ts';
import { DEFAULT_CACHE_BYTES, Spilled } from '../lib/formats/spill/spilled.ts';
import { forgetOnExit, removeOnExit } from '../lib/formats/spill/cleanup.ts';
import { MANIFEST_NAME, writeManifest, type SpillManifest, SEAL_NAME } from '../lib/formats/spill/manifest.ts';
import type { CheckpointJson } from '../lib/observe/checkpoint.ts';
import { markSpillOwner, spillOwnerDead, sweepSpillBase, unmarkSpillOwner } from '../lib/io/temp-files.ts';
import { Type, type Data, type RecordBatch } from 'apache-arrow';
import { recordBatchBytes, recordBatchToRows } from '../lib/formats/arrow/convert.ts';
import { GcPacer } from '../lib/formats/spill/gc-pacer.ts';

const debug = logger('spill');

/** Options of {@link toSpill}. */
export interface ToSpillOptions {
  /**
   * Bytes this sink may hold (default 256 MB; 0 spills everything): batches kept in memory, plus
   * batches on their way to disk (queued for the writer, being compressed, encoded copies not yet
   * written; a quarter of the budget, at most 64 MB), plus the output's replay cache (whose
   * default is that quarter too). Beyond it the oldest batches are written out, one bounded
   * slice at a time.
   */
  budget?: ByteSize;
  /** Body compression of the spill files: `lz4` (default, LZ4 frame), `zstd` or `none`. */
  compression?: 'lz4' | 'zstd' | 'none';
  /** Start a new spill file once one reaches this size (default 64 MB). */
  fileSize?: ByteSize;
  /** The spill directory (created with mode 0700; must be empty if it exists). Default: a fresh one under the OS temp dir. */
  dir?: string;
  /**
   * Keep the directory after `dispose()` and process exit, and write every batch to disk at the
   * end so that `openSpill(dir)` can replay it all from another process. Default false: the
   * directory is removed on `dispose()`, on normal exit, and when the pipeline fails.
   */
  keep?: boolean;
  /** Bytes of decoded batches the output caches for `get`/`slice` (default: the in-flight share of the budget, at most 64 MB). */
  cacheBytes?: ByteSize;
  /** Batches in flight in the file writer (compression and writes overlap); default 4 with LZ4, else 2. */
  window?: number;
}

/** Names of files a spill writer makes: the manifest, spill files, their temporary files. */
const OWN_FILE =
  /^(manifest\.(json|seal)(\..*\.tmp)?|spill-\d+\.arrow|\.(spill-\d+\.arrow|manifest\.(json|seal))\..*\.tmp|\.owner)$/;

const HIGH_LEVELS = new Set(['spill', 'pause', 'critical']);

/** Subscribes to a gate's level changes: its `onLevel`, else an EventEmitter's `level` event. */
function subscribe(gate: GovernorGate | undefined, listener: (level: string) => void): () => void {
  if (!gate) return () => {};
  if (typeof gate.onLevel === 'function') return gate.onLevel(listener);
  const emitter = gate as unknown as {
    on?: (event: string, l: (level: string) => void) => void;
    off?: (event: string, l: (level: string) => void) => void;
  };
  if (typeof emitter.on === 'function' && typeof emitter.off === 'function') {
    emitter.on.call(gate, 'level', listener);
    return () => emitter.off!.call(gate, 'level', listener);
  }
  return () => {};
}

/** Every option of ToSpillOptions, for strict validation. */
const KNOWN_TO_SPILL_OPTIONS = optionKeys<ToSpillOptions>({
  budget: true,
  compression: true,
  fileSize: true,
  dir: true,
  keep: true,
  cacheBytes: true,
  window: true,
});
/**
 * A sink whose output is a {@link Spilled} dataset: batches stay in memory up to `budget` bytes,
 * beyond it (or when the governor reaches `spill`) the oldest are written to Arrow IPC files in
 * a spill directory, rotated at `fileSize`, listed with checksums in an atomically written
 * manifest. Fails with a {@link SpillError} naming the directory when the disk is full or the
 * directory unwritable.
 *
 * @example
 * ```ts
 * const { output: spilled } = await pipeline(fromCsv('huge.csv'), map(score), toSpill({ budget: '256MB', keep: true }));
 * for await (const batch of spilled.batches()) { ... }
 * const again = await openSpill(spilled.dir); // another process, later
 * ```
 */
export function toSpill(options?: ToSpillOptions): BatchSink<Spilled> {
  const opts = expectOptions(options, 'options', KNOWN_TO_SPILL_OPTIONS);
  const budget = opts.budget === undefined ? 256e6 : parseBytes(opts.budget, 'options.budget');
  const compression = expectOneOf(opts.compression, 'options.compression', ['lz4', 'zstd', 'none'], 'lz4');
  const fileSize = opts.fileSize === undefined ? 64e6 : parseBytes(opts.fileSize, 'options.fileSize');
  if (fileSize < 1) throw new ValidationError('Expected `options.fileSize` to be at least 1 byte');
  if (opts.dir !== undefined && (typeof opts.dir !== 'string' || opts.dir.length === 0))
    throw new ValidationError('Expected `options.dir` to be a non-empty directory path');
  const keep = expectBoolean(opts.keep, 'options.keep', false);
  const inFlight = inFlightShare(budget);
  const cacheBytes =
    opts.cacheBytes === undefined
      ? Math.max(1, Math.floor(Math.min(DEFAULT_CACHE_BYTES, inFlight)))
      : parseBytes(opts.cacheBytes, 'options.cacheBytes');
  /** What memory-resident batches may take: the budget less what is on its way to disk. */
  const residentBudget = Math.max(0, budget - inFlight);
  const window = opts.window === undefined ? undefined : expectInteger(opts.window, 'options.window', 4, 1, 1024);
  const name = 'toSpill';

  let dir: string | undefined;
  let createdDir = false;
  let writer: SpillWriter | undefined;
  const memory: Held[] = [];
  let memoryBytes = 0;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  let unsubscribe: (() => void) | undefined;
  let gate: GovernorGate | undefined;
  /** Checkpoints: the manifest an interrupted run committed, and whether to keep the directory when the run fails. */
  let resumed: SpillManifest | undefined;
  let keepForResume = false;
  /** Set by abort(): a finish still running must not hand out the directory. */
  let aborted = false;

  async function prepare(context: StageContext): Promise<SpillWriter> {
    if (writer) return writer;
    if (resumed) {
      // dir and createdDir were restored from the checkpoint
    } else if (opts.dir === undefined) {
      // the spill directories of dead runs under the same base go first (lib/temp-files.ts)
      await sweepSpillBase(os.tmpdir());
      try {
        dir = await mkdtemp(path.join(os.tmpdir(), 'spillway-spill-'));
      } catch (error) {
        throw new SpillError(
          `Cannot create a spill directory under ${os.tmpdir()}: ${(error as Error).message}`,
          { stage: name, dir: os.tmpdir() },
          { cause: error },
        );
      }
      createdDir = true;
    } else {
      dir = path.resolve(opts.dir);
      try {
        createdDir = (await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined;
        // what a killed run left in it (its owner file names a dead process) is not in the way
        if (!createdDir && (await spillOwnerDead(dir))) await removeContents(dir);
        if (!createdDir && (await readdir(dir)).length > 0) throw new Error('it exists and is not empty');
      } catch (error) {
        throw new SpillError(
          `Cannot use spill directory: ${(error as Error).message}`,
          { stage: name, dir },
          { cause: error },
        );
      }
    }
    if (!keep && !keepForResume) removeOnExit(dir!);
    try {
      // kept and resumable directories outlive this process on purpose: no owner, no sweep
      if (!keep && !keepForResume) markSpillOwner(dir!);
    } catch (error) {
      throw new SpillError(
        `Cannot use spill directory: ${(error as Error).message}`,
        { stage: name, dir },
        { cause: error },
      );
    }
    writer = new SpillWriter(dir!, { compression, fileSize, window, maxBytesInFlight: inFlight }, resumed);
    gate = context.governor;
    unsubscribe = subscribe(gate, (level) => {
      if (HIGH_LEVELS.has(level)) run(() => spill(0));
    });
    debug('spilling to %s (budget %d, %s, files of %d bytes)', dir, budget, compression, fileSize);
    return writer;
  }

  /** Serialises spilling (governor events come at any time). */
  function run(step: () => Promise<void>): Promise<void> {
    chain = chain.then(async () => {
      if (failure !== undefined) return;
      try {
        await step();
      } catch (error) {
        failure ??= error;
      }
    });
    return chain.then(() => {
      if (failure !== undefined) throw failure;
    });
  }

  let budgetSpillLogged = false;
  const pacer = new GcPacer(budget);

  /** Writes the oldest memory-resident batches to disk until at most `target` bytes stay. */
  async function spill(target: number): Promise<void> {
    let bytes = 0;
    // target 0 empties memory, batches of no bytes (all-null columns) included
    while (memory.length > 0 && (memoryBytes > target || target === 0)) {
      // one batch at a time, oldest first; the writer's byte window bounds what is in flight
      const { arrow, origin, estimate } = takeOldest();
      bytes += estimate;
      await writer!.write(arrow, origin);
      pacer.spilled(estimate);
    }
    if (bytes > 0) {
      // every level-driven spill is logged; routine over-budget spills only the first time
      if (high()) debug('level %s: spilled %d bytes to disk, %d left in memory', gate?.level, bytes, memoryBytes);
      else if (!budgetSpillLogged)
        debug(
          'over budget (%d bytes): spilling the oldest batches to disk (%d bytes so far; further budget spills not logged)',
          budget,
          bytes,
        );
      if (!high()) budgetSpillLogged = true;
      gate?.noteSpill?.(bytes);
    }
  }

  /**
   * Removes the oldest memory-resident batch and returns its Arrow form. A row batch is converted
   * here, and the Batch (with its rows) is dropped before the write is awaited, so the rows can
   * be collected while the Arrow copy waits for the writer: memory is released before more is needed.
   */
  function takeOldest(): { arrow: RecordBatch; origin: 'r' | 'a'; estimate: number } {
    const { batch, origin, bytes } = memory.shift()!;
    memoryBytes -= bytes;
    return { arrow: batch.arrow, origin, estimate: bytes };
  }

  function high(): boolean {
    const level = gate?.level;
    return level !== undefined && HIGH_LEVELS.has(level);
  }

  /** Removes the spill directory (or, for a given directory, its contents) unless it is to be kept. */
  async function removeSpill(): Promise<void> {
    if (dir === undefined || keep || keepForResume) return;
    forgetOnExit(dir);
    if (createdDir) await rm(dir, { recursive: true, force: true });
    else await removeContents(dir);
  }

  async function cleanup(): Promise<void> {
    unsubscribe?.();
    unsubscribe = undefined;
  }

  return new BatchSink<Spilled>({
    name,
    // spills Arrow as it is: a source may produce Arrow for it (format negotiation)
    capabilities: { accepts: ['rows', 'arrow'] },
    async write(batch, context, stats) {
      await prepare(context);
      // remembered now: a row batch may later gain a cached Arrow form, and vice versa
      const held = hold(batch);
      memory.push(held);
      memoryBytes += held.bytes;
      if (memoryBytes > residentBudget || high()) await run(() => spill(high() ? 0 : residentBudget));
      stats.details.bytesOnDisk = writer!.bytesOnDisk;
      stats.details.batchesSpilled = writer!.numBatches;
    },
    async finish(context, stats) {
      const w = await prepare(context);
      if (keep) await run(() => spill(0));
      else await run(async () => {});
      await cleanup();
      const rowsInMemory = memory.reduce((n, m) => n + m.batch.numRows, 0);
      const manifest = await w.finish(rowsInMemory);
      stats.details.bytesOnDisk = manifest.bytesOnDisk;
      stats.details.batchesSpilled = manifest.numBatches;
      stats.details.dir = dir!;
      if (aborted) {
        // destroyed while finishing: abort() ran already, and what finishing wrote goes too
        await removeSpill();
        throw new SpillError('The spill was aborted while it was finishing', { stage: name, dir });
      }
      // a kept directory outlives this process on purpose: no owner, so no sweep removes it
      if (keep) unmarkSpillOwner(dir!);
      const output = new Spilled({ dir: dir!, manifest, memory: memory.map(residentOutput), keep, cacheBytes });
      memory.length = 0;
      return output;
    },
    // finished, then the run failed after all: the output goes nowhere, so its directory goes now
    discard: (spilled) => spilled.dispose(),
    async abort() {
      aborted = true;
      await cleanup();
      await chain;
      memory.length = 0;
      await writer?.abort();
      await removeSpill();
    },
    checkpoint: {
      identity: {
        sink: 'toSpill',
        dir: opts.dir === undefined ? null : path.resolve(opts.dir),
        compression,
        fileSize,
        keep,
      },
      // committing writes every batch held in memory to disk: a resumable spill lives on disk
      async commit(context) {
        const w = writer ?? (await prepare(context));
        let rows = 0;
        let manifest: CheckpointJson = null;
        // in the spill chain, so no other spill runs between the commit and the snapshot
        await run(async () => {
          await spill(0);
          await w.commitOpenFile();
          rows = w.manifest.numRows;
          manifest = JSON.parse(JSON.stringify(w.manifest)) as CheckpointJson;
        });
        return { rows, state: { dir: dir!, createdDir, manifest } };
      },
      async restart() {
        // a run killed before its first checkpoint left spill files in the given directory: only ours are removed
        if (opts.dir === undefined) return;
        const names = await readdir(opts.dir).catch(() => [] as string[]);
        if (names.length === 0 || !names.every((n) => OWN_FILE.test(n))) return;
        await Promise.all(names.map((n) => rm(path.join(opts.dir!, n), { force: true })));
      },
      async resume(state) {
        const s = state as unknown as { dir: string; createdDir: boolean; manifest: SpillManifest };
        const listed = new Set([MANIFEST_NAME, SEAL_NAME, ...s.manifest.files.map((f) => f.name)]);
        let names: string[];
        try {
          names = await readdir(s.dir);
        } catch (error) {
          throw new SpillError(
            `Cannot resume the spill: ${(error as Error).message}`,
            { stage: name, dir: s.dir },
            { cause: error },
          );
        }
        // files the interrupted run wrote after its last checkpoint are not part of the output
        await Promise.all(
          names.filter((n) => !listed.has(n)).map((n) => rm(path.join(s.dir, n), { recursive: true, force: true })),
        );
        await writeManifest(s.dir, s.manifest);
        dir = s.dir;
        createdDir = s.createdDir;
        resumed = s.manifest;
      },
      keep(on) {
        keepForResume = on;
        if (dir === undefined || keep) return;
        if (on) unmarkSpillOwner(dir);
        if (on) forgetOnExit(dir);
        else removeOnExit(dir);
      },
    },
  });
}

/**
 * Bytes a spill sink lets be on their way to disk (queued, compressing, encoded, not yet
 * written): a quarter of the budget, at most 64 MB (one batch always goes through); 32 MB when
 * the budget is 0 (spill everything: the budget then bounds nothing in memory).
 */
export function inFlightShare(budget: number): number {
  if (budget <= 0) return 32 * 1024 * 1024;
  return Math.min(budget / 4, 64 * 1024 * 1024);
}

/** A batch the sink holds in memory: where it came from, and the bytes it really holds. */
interface Held {
  batch: Batch;
  origin: 'r' | 'a';
  bytes: number;
}

/**
 * A row batch is held in its Arrow form, rows dropped: converted as it arrives, its rows die
 * young (a scavenge frees them) instead of reaching V8's old generation while they wait under the
 * budget. It is counted by the ArrayBuffers it holds, not their used length: Arrow's builders
 * leave up to 4x slack in a string column's buffer. Measured on 32 MB over ten times its size in
 * rows of ~150 bytes: see docs/memory.md. Rows Arrow cannot hold stay rows (the error, if any,
 * comes when they are spilled, as before). An Arrow batch is held as it came.
 */
function hold(batch: Batch): Held {
  if (batch.hasArrow || batch.numRows === 0) return { batch, origin: batch.hasArrow ? 'a' : 'r', bytes: batch.bytes };
  let arrow: RecordBatch;
  try {
    arrow = batch.arrow;
  } catch {
    return { batch, origin: 'r', bytes: batch.bytes };
  }
  return {
    batch: Batch.fromArrow(arrow, batch.position),
    origin: 'r',
    bytes: Math.max(heldBytes(arrow), recordBatchBytes(arrow)),
  };
}

/** Bytes of the distinct ArrayBuffers under `batch`'s columns (a builder's slack included). */
function heldBytes(batch: RecordBatch): number {
  const seen = new Set<ArrayBufferLike>();
  let bytes = 0;
  const visit = (data: Data): void => {
    for (const view of [data.values, data.valueOffsets, data.nullBitmap, data.typeIds] as (
      | ArrayBufferView
      | undefined
    )[]) {
      if (view === undefined || seen.has(view.buffer)) continue;
      seen.add(view.buffer);
      bytes += view.buffer.byteLength;
    }
    for (const child of data.children) visit(child);
  };
  for (const child of batch.data.children) visit(child);
  return bytes;
}

/**
 * A resident batch as the output hands it out: rows that held 64-bit integers come back as
 * bigints, as they do from the spill files (`origin` r), not as numbers.
 */
function residentOutput({ batch, origin }: Held): Batch {
  if (origin === 'a' || batch.hasRows || !batch.arrow.schema.fields.some((f) => f.type.typeId === Type.Int))
    return batch;
  const hasInt64 = batch.arrow.schema.fields.some(
    (f) => f.type.typeId === Type.Int && (f.type as { bitWidth?: number }).bitWidth === 64,
  );
  return hasInt64 ? new Batch(recordBatchToRows(batch.arrow, { int64: 'bigint' }), batch.position) : batch;
}

/** Empties a directory the caller gave (it existed, empty, before the sink used it). */
async function removeContents(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.map((n) => rm(path.join(dir, n), { recursive: true, force: true })));
}
