/**
 * The state of one `toSpill` sink (sinks/toSpill.ts): the batches it holds in memory, the spill
 * directory and writer it opens on the first batch, the serial chain every spill runs in (budget
 * spills, governor-level spills and checkpoint commits never interleave), and how it finishes,
 * aborts, commits and resumes.
 */
import { watchLevels } from '../../memory/level-watch.ts';
import { rm } from 'node:fs/promises';
import type { RecordBatch } from 'apache-arrow';
import type { Batch } from '../../core/batch.ts';
import { SchemaMismatchError, SpillError, SpillwayError } from '../../core/errors.ts';
import { logger, type GovernorGate, type StageContext, type StageStats } from '../../core/stage.ts';
import type { CheckpointJson, SinkCommit } from '../../observe/checkpoint.ts';
import { unmarkScratchOwner } from '../../io/temp-files.ts';
import { forgetOnExit, removeOnExit } from './cleanup.ts';
import { GcPacer } from './gc-pacer.ts';
import type { SpillManifest } from './manifest.ts';
import { claimSpillDir, createSpillDir, removeContents, rewindSpillDir } from './sink-dir.ts';
import { hold, type Held } from './sink-memory.ts';
import { Spilled } from './spilled.ts';
import { SpillWriter } from './writer.ts';
import { SerialQueue } from '../../core/serial-queue.ts';
import { spillIdentity, type SpillSettings } from './settings.ts';

export type { SpillSettings } from './settings.ts';

const debug = logger('spill');

const HIGH_LEVELS = new Set(['spill', 'pause', 'critical']);

/** One spill sink's memory, directory, writer and spill chain. */
export class SpillSinkState {
  readonly name = 'toSpill';
  readonly #s: SpillSettings;
  #dir: string | undefined;
  #createdDir = false;
  #writer: SpillWriter | undefined;
  readonly #memory: Held[] = [];
  #memoryBytes = 0;
  readonly #queue = new SerialQueue();
  #failure: unknown;
  #unsubscribe: (() => void) | undefined;
  #gate: GovernorGate | undefined;
  /** Checkpoints: the manifest an interrupted run committed, and whether to keep the directory when the run fails. */
  #resumed: SpillManifest | undefined;
  #keepForResume = false;
  /** `keep`: the run ended and its directory was let go, to outlive this process. */
  #kept = false;
  /** Set by abort(): a finish still running must not hand out the directory. */
  #aborted = false;
  #budgetSpillLogged = false;
  #opening: Promise<SpillWriter> | undefined;
  readonly #pacer: GcPacer;

  constructor(settings: SpillSettings) {
    this.#s = settings;
    this.#pacer = new GcPacer(settings.budget);
  }

  /** Opens the directory and the writer on first use, and listens to the governor's levels. */
  prepare(context: StageContext): Promise<SpillWriter> {
    // one opening, which abort() can wait for: a directory still being made must not outlive it
    this.#opening ??= this.#open(context);
    return this.#opening;
  }

  async #open(context: StageContext): Promise<SpillWriter> {
    const { compression, fileSize, window, inFlight } = this.#s;
    // a resumed run's directory was restored from the checkpoint
    if (!this.#resumed)
      ({ dir: this.#dir, createdDir: this.#createdDir } = await createSpillDir(this.#s.dir, this.name));
    const dir = this.#dir!;
    if (this.#aborted) {
      await this.#removeSpill();
      throw new SpillError('The spill was aborted while its directory was being made', { stage: this.name, dir });
    }
    // a kept directory is owned too until the run ends (#letGo): a killed run's is swept later
    claimSpillDir(dir, !this.#keepForResume, this.name);
    this.#writer = new SpillWriter(dir, { compression, fileSize, window, maxBytesInFlight: inFlight }, this.#resumed);
    this.#gate = context.governor;
    this.#unsubscribe = watchLevels(this.#gate, (level) => {
      // a failure here is kept and thrown by the next write or the finish
      if (HIGH_LEVELS.has(level)) this.#run(() => this.#spill(0)).catch(() => {});
    });
    debug('spilling to %s (budget %d, %s, files of %d bytes)', dir, this.#s.budget, compression, fileSize);
    return this.#writer;
  }

  /**
   * Serialises spilling (governor events come at any time). A failure is kept: every later step
   * fails with it, and so do the writes and the finish that await one.
   */
  #run(step: () => Promise<void>): Promise<void> {
    return this.#queue.run(async () => {
      if (this.#failure !== undefined) throw this.#failure;
      try {
        await step();
      } catch (error) {
        this.#failure ??= error;
        throw this.#failure;
      }
    });
  }

  /** Writes the oldest memory-resident batches to disk until at most `target` bytes stay. */
  async #spill(target: number): Promise<void> {
    let bytes = 0;
    // target 0 empties memory, batches of no bytes (all-null columns) included
    while (this.#memory.length > 0 && (this.#memoryBytes > target || target === 0)) {
      // one batch at a time, oldest first; the writer's byte window bounds what is in flight
      const { arrow, origin, estimate } = this.#takeOldest();
      bytes += estimate;
      await this.#writer!.write(arrow, origin);
      this.#pacer.spilled(estimate);
    }
    if (bytes > 0) this.#noteSpill(bytes);
  }

  #noteSpill(bytes: number): void {
    // every level-driven spill is logged; routine over-budget spills only the first time
    if (this.#high())
      debug('level %s: spilled %d bytes to disk, %d left in memory', this.#gate?.level, bytes, this.#memoryBytes);
    else if (!this.#budgetSpillLogged)
      debug(
        'over budget (%d bytes): spilling the oldest batches to disk (%d bytes so far; further budget spills not logged)',
        this.#s.budget,
        bytes,
      );
    if (!this.#high()) this.#budgetSpillLogged = true;
    this.#gate?.noteSpill?.(bytes);
  }

  /**
   * Removes the oldest memory-resident batch and returns its Arrow form. A row batch is converted
   * here, and the Batch (with its rows) is dropped before the write is awaited, so the rows can
   * be collected while the Arrow copy waits for the writer: memory is released before more is needed.
   */
  #takeOldest(): { arrow: RecordBatch; origin: 'r' | 'a'; estimate: number } {
    const { batch, origin, bytes } = this.#memory.shift()!;
    this.#memoryBytes -= bytes;
    return { arrow: this.#arrowOf(batch), origin, estimate: bytes };
  }

  /**
   * A batch's Arrow form for the spill file. Rows Arrow cannot hold (a column mixing numbers and
   * text, as `cast: true` makes of a messy column) stay in memory as rows when they fit the
   * budget (hold() keeps them); spilled, they fail here, saying which batch and where it came from.
   */
  #arrowOf(batch: Batch): RecordBatch {
    try {
      return batch.arrow;
    } catch (error) {
      const { source, index, line, endLine } = batch.position;
      const why = error instanceof SpillwayError ? error.detail : String((error as Error)?.message ?? error);
      const from = line === undefined ? source : `${source}, lines ${line}-${endLine ?? '?'}`;
      throw new SchemaMismatchError(
        `Batch ${index} (${from}) cannot be spilled as Arrow: ${why}`,
        { stage: this.name, dir: this.#dir, batch: index },
        { cause: error },
      );
    }
  }

  #high(): boolean {
    const level = this.#gate?.level;
    return level !== undefined && HIGH_LEVELS.has(level);
  }

  /**
   * Removes the spill directory (or, for a given directory, its contents) unless a checkpoint
   * refers to it or it is kept. A failed run's kept spill in the directory the caller named stays
   * for `openSpill(dir, { partial: true })`, let go by this process (no owner, no removal at
   * exit); one in a temporary directory nobody named goes, as no one could find it.
   */
  async #removeSpill(): Promise<void> {
    const dir = this.#dir;
    if (dir === undefined || this.#keepForResume) return;
    if (this.#s.keep && this.#s.dir !== undefined) {
      this.#letGo(dir);
      return;
    }
    forgetOnExit(dir);
    if (this.#createdDir) await rm(dir, { recursive: true, force: true });
    else await removeContents(dir);
  }

  /** A kept directory outlives this process on purpose: no owner (no sweep takes it), no removal at exit. */
  #letGo(dir: string): void {
    unmarkScratchOwner(dir);
    forgetOnExit(dir);
    this.#kept = true;
  }

  #stopListening(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Holds `batch`; spills the oldest batches when memory is over its share or the governor is high. */
  async write(batch: Batch, context: StageContext, stats: StageStats): Promise<void> {
    const writer = await this.prepare(context);
    // remembered now: a row batch may later gain a cached Arrow form, and vice versa
    const held = hold(batch);
    this.#memory.push(held);
    this.#memoryBytes += held.bytes;
    if (this.#memoryBytes > this.#s.residentBudget || this.#high())
      await this.#run(() => this.#spill(this.#high() ? 0 : this.#s.residentBudget));
    stats.details.bytesOnDisk = writer.bytesOnDisk;
    stats.details.batchesSpilled = writer.numBatches;
  }

  /** Seals the manifest and hands out the output (what stayed in memory, and the directory). */
  async finish(context: StageContext, stats: StageStats): Promise<Spilled> {
    const w = await this.prepare(context);
    const { keep, cacheBytes } = this.#s;
    if (keep) await this.#run(() => this.#spill(0));
    else await this.#run(async () => {});
    this.#stopListening();
    const rowsInMemory = this.#memory.reduce((n, m) => n + m.batch.numRows, 0);
    const manifest = await w.finish(rowsInMemory);
    const dir = this.#dir!;
    stats.details.bytesOnDisk = manifest.bytesOnDisk;
    stats.details.batchesSpilled = manifest.numBatches;
    stats.details.dir = dir;
    if (this.#aborted) {
      // destroyed while finishing: abort() ran already, and what finishing wrote goes too
      await this.#removeSpill();
      throw new SpillError('The spill was aborted while it was finishing', { stage: this.name, dir });
    }
    if (keep) this.#letGo(dir);
    const output = new Spilled({ dir, manifest, memory: this.#memory.map((held) => held.batch), keep, cacheBytes });
    this.#memory.length = 0;
    return output;
  }

  /** Stops spilling, drops what is held, and removes the directory unless it is kept. */
  async abort(): Promise<void> {
    this.#aborted = true;
    // a directory being made when the abort came is removed once it exists (see #open)
    await this.#opening?.catch(() => {});
    this.#stopListening();
    await this.#queue.idle();
    this.#memory.length = 0;
    this.#memoryBytes = 0;
    await this.#writer?.abort();
    await this.#removeSpill();
  }

  /** Checkpoint commit: every batch held in memory goes to disk, then the manifest is snapshotted. */
  async commit(context: StageContext): Promise<SinkCommit> {
    const w = this.#writer ?? (await this.prepare(context));
    let rows = 0;
    let manifest: CheckpointJson = null;
    // in the spill chain, so no other spill runs between the commit and the snapshot
    await this.#run(async () => {
      await this.#spill(0);
      await w.commitOpenFile();
      rows = w.manifest.numRows;
      manifest = JSON.parse(JSON.stringify(w.manifest)) as CheckpointJson;
    });
    return { rows, state: { dir: this.#dir!, createdDir: this.#createdDir, manifest } };
  }

  /** Checkpoint resume: the directory goes back to its checkpoint and the writer continues it. */
  async resume(state: CheckpointJson): Promise<void> {
    const s = state as unknown as { dir: string; createdDir: boolean; manifest: SpillManifest };
    await rewindSpillDir(s.dir, s.manifest, this.name);
    this.#dir = s.dir;
    this.#createdDir = s.createdDir;
    this.#resumed = s.manifest;
  }

  /** Whether a checkpoint refers to the directory: kept (no owner, no exit removal) while it does. */
  keepForResume(on: boolean): void {
    this.#keepForResume = on;
    const dir = this.#dir;
    if (dir === undefined) return;
    if (on) unmarkScratchOwner(dir);
    if (on) forgetOnExit(dir);
    // a kept spill let go outlives this process
    else if (!(this.#s.keep && this.#kept)) removeOnExit(dir);
  }

  /** The identity of this sink in a checkpoint's fingerprint. */
  identity(): CheckpointJson {
    return spillIdentity(this.#s);
  }
}
