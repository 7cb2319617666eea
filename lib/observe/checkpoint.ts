/**
 * Checkpoint and resume (`pipeline(..., { checkpoint: dir })`).
 *
 * What a checkpoint holds, written together in one file (`<dir>/checkpoint.json`, temporary
 * file + fsync + rename + fsync of the directory): the source's resume state (CSV: byte offset at
 * a row boundary, line, header; Parquet/Arrow/iterable: rows consumed), the sink's committed state
 * (toCsv: temporary file + fsynced length; toParquet: temporary file + length + the written row
 * groups' metadata; toSpill: its manifest), the pipeline's fingerprint and the input file's
 * identity (size, mtime, SHA-256 of its first and last KB).
 *
 * How positions flow (the watermark). Every source batch carries a `position` object; stages
 * that keep positions (`map`, `filter`, `flatMap`, `mapBatch`, plain functions, ordered
 * `parallel`) pass the same object on with their output (`batch.withRows`), one output batch per
 * input batch, in order. The sink side notes, for each batch it receives, its position and the
 * running count of rows it has received (its "logical" rows). When a checkpoint is due, after a
 * write has completed, the sink makes its output durable (fsync, flushed row groups, committed
 * spill files) and says how many logical rows are now committed, C. The resume point is the last
 * source batch j that is closed (a batch of a later source batch has arrived since, so no more
 * rows of j can come) and whose rows all lie within C; the checkpoint records the source state
 * just after j and `skip = C - rows(<= j)`: the rows after j that the sink already holds. On
 * resume the source starts after j, the pipeline recomputes the same rows (transforms must be
 * deterministic), and the sink drops the first `skip` rows it receives.
 *
 * Stages that make new positions (re-batching: `batch()`; foreign streams) or change the order
 * (`parallel({ ordered: false })`) cannot be checkpointed: the pipeline refuses them with a
 * {@link CheckpointError} when it starts, or at the first batch whose position is not a source's.
 *
 * gzip CSV input is re-decompressed from the start on resume and the decompressed bytes before
 * the offset are skipped (gzip has no random access): resuming costs a decompression pass.
 */
import { nodeCrypto } from '../core/crypto.ts';
import { mkdir, rmdir, unlink } from 'node:fs/promises';
import { lockCheckpoint, unlockCheckpoint } from './checkpoint-lock.ts';
import path from 'node:path';
import type { Batch, BatchPosition } from '../core/batch.ts';
import { CheckpointError, ValidationError, describeValue } from '../core/errors.ts';
import type { StageContext } from '../core/stage.ts';
import { expectInteger, expectOptions } from '../core/validate.ts';
import { logger } from '../core/stage.ts';
import { writeFileAtomic } from '../io/atomic-file.ts';
import { releaseDirectory } from '../io/temp-files.ts';
import {
  CHECKPOINT_FILE,
  FORMAT,
  VERSION,
  inputIdentity,
  readCheckpoint,
  type CheckpointJson,
  type CheckpointRecord,
  type InputIdentity,
} from './checkpoint-file.ts';
import { Watermark } from './watermark.ts';

const log = logger('checkpoint');
const DEFAULT_INTERVAL_MS = 5000;

export {
  CHECKPOINT_FILE,
  hasCheckpoint,
  inputIdentity,
  readCheckpoint,
  removeCheckpoint,
  type CheckpointJson,
  type CheckpointRecord,
  type InputIdentity,
} from './checkpoint-file.ts';
export { Watermark } from './watermark.ts';

/** The `checkpoint` option of `pipeline()`: a directory, or a directory with its cadence. */
export type CheckpointOption = string | CheckpointOptions;

/** Options of a checkpoint. */
export interface CheckpointOptions {
  /** Directory of the checkpoint (created if missing; holds `checkpoint.json`). */
  dir: string;
  /** Commit at most this often, in milliseconds (default 5000). */
  intervalMs?: number;
  /** Also commit after this many batches reached the sink (default: none, time only). */
  everyBatches?: number;
}

/** What a source offers for checkpoints (`SourceSpec.checkpoint`). */
export interface SourceCheckpointHooks {
  /** What identifies the source and its options; part of the pipeline fingerprint. */
  identity: CheckpointJson;
  /** The input file, whose size, mtime and first/last KB must not change between runs. */
  file?: string;
  /** Why this source, with its options, cannot be checkpointed; undefined when it can. */
  refuse?: string;
  /** Called once before the source opens when the run is checkpointed (e.g. to track exact record ends). */
  enable?(): void;
  /** The state to resume just after the source batch at `position`; `rowsThrough` counts the rows of that batch and all before. */
  state(position: BatchPosition, rowsThrough: number): CheckpointJson;
  /** Resume from a state {@link SourceCheckpointHooks.state} returned; called before the source opens. */
  resume(state: CheckpointJson): void;
}

/** What a sink says it has made durable. */
export interface SinkCommit {
  /** Rows (as the sink received them, from the start of the run, resumed runs included) durably written. */
  rows: number;
  /** What the sink needs to continue its output after a crash. */
  state: CheckpointJson;
}

/** What a sink offers for checkpoints (`SinkSpec.checkpoint`). */
export interface SinkCheckpointHooks {
  /** What identifies the sink and its options; part of the pipeline fingerprint. */
  identity: CheckpointJson;
  /** Why this sink, with its options, cannot be checkpointed; undefined when it can. */
  refuse?: string;
  /**
   * Makes what was written durable and describes it. Called between writes, never during one; it
   * must take its snapshot (rows, lengths, metadata) synchronously, before its first await:
   * writes go on while it fsyncs.
   */
  commit(context: StageContext): Promise<SinkCommit>;
  /**
   * Called first in a checkpointed run, with the checkpoint directory: where a sink keeps a
   * temporary output that a resumed run must find again (an `s3://` tree before its upload).
   */
  locate?(checkpointDir: string): void;
  /** There is no checkpoint: the run starts over; remove what an earlier run left before its first checkpoint. */
  restart?(): Promise<void>;
  /** Restores the output from a committed state, before the first write. */
  resume(state: CheckpointJson, context: StageContext): Promise<void>;
  /** `true`: a checkpoint now refers to the sink's temporary output, keep it when the run fails; `false`: it no longer does. */
  keep(keep: boolean): void;
}

/** The face of a source the checkpointer drives (BatchSource implements it). */
export interface CheckpointSource {
  readonly checkpointHooks: SourceCheckpointHooks | undefined;
  /** Calls `listener` with each batch the source emits. */
  observeBatches(listener: (batch: Batch) => void): void;
}

/** The face of a sink the checkpointer drives (BatchSink implements it). */
export interface CheckpointSink {
  readonly checkpointHooks: SinkCheckpointHooks | undefined;
  /** Hands the sink its driver: called per batch and after each write. */
  useCheckpoint(driver: SinkCheckpointDriver): void;
}

/** What a sink calls while it writes. */
export interface SinkCheckpointDriver {
  /** Notes a batch as received; returns how many of its first rows the sink must drop (already written before a crash). */
  receive(batch: Batch): number;
  /** After a write completed: commits when one is due. */
  afterWrite(context: StageContext): Promise<void> | undefined;
  /**
   * The input ended and the sink is about to commit its output under the final name: the
   * checkpoint is removed first, so a crash from here on restarts the run rather than resuming
   * into an output that is already complete.
   */
  beforeFinish(): Promise<void>;
}

/** Validates the `checkpoint` option synchronously. */
export function checkCheckpointOption(
  value: unknown,
  name = 'options.checkpoint',
): Required<Omit<CheckpointOptions, 'everyBatches'>> & { everyBatches: number | undefined } {
  if (typeof value === 'string') {
    if (value.length === 0) throw new ValidationError(`Expected \`${name}\` to be a directory path, got ''`);
    return { dir: path.resolve(value), intervalMs: DEFAULT_INTERVAL_MS, everyBatches: undefined };
  }
  const opts = expectOptions(value as CheckpointOptions, name);
  if (typeof opts.dir !== 'string' || opts.dir.length === 0)
    throw new ValidationError(`Expected \`${name}.dir\` to be a directory path, got ${describeValue(opts.dir)}`);
  const intervalMs = expectInteger(opts.intervalMs, `${name}.intervalMs`, DEFAULT_INTERVAL_MS, 0);
  const everyBatches =
    opts.everyBatches === undefined ? undefined : expectInteger(opts.everyBatches, `${name}.everyBatches`, 1);
  return { dir: path.resolve(opts.dir), intervalMs, everyBatches };
}

/** What the pipeline hands the checkpointer: its stages, in order. */
export interface CheckpointStage {
  kind: 'source' | 'transform' | 'sink' | 'foreign';
  name: string;
  /** A parallel stage's `ordered` option (false refuses checkpointing). */
  ordered?: boolean;
  /** Why a run cannot resume through the stage (see StageCapabilities.notResumable). */
  notResumable?: string;
  /** What the stage does (see StageCapabilities.identity). */
  identity?: string;
}

/**
 * Drives checkpoints for one pipeline run: checks the stages, resumes the source and sink from an
 * existing checkpoint, commits periodically from the sink's write path, and removes the
 * checkpoint when the run finishes.
 */
export class Checkpointer implements SinkCheckpointDriver {
  readonly dir: string;
  readonly #intervalMs: number;
  readonly #everyBatches: number | undefined;
  readonly #source: CheckpointSource;
  readonly #sink: CheckpointSink;
  readonly #sourceHooks: SourceCheckpointHooks;
  readonly #sinkHooks: SinkCheckpointHooks;
  readonly #stages: string[];
  readonly #fingerprint: string;
  readonly #parts: Record<string, string>;
  /** Rows of each source batch, by its position object (also: "this position is a source's"). */
  readonly #sourceRows = new WeakMap<BatchPosition, number>();
  #watermark = new Watermark();
  #skip = 0;
  #batchesSinceCommit = 0;
  #lastCommit = performance.now();
  #commits = 0;
  #finishing = false;
  #lastRows = -1;
  /** A checkpoint file exists (written by this run, or resumed from). */
  #written = false;
  #inflight: Promise<void> | undefined;
  #failure: Error | undefined;
  #lastThrough = -1;
  #input: InputIdentity | null = null;
  /** The resumed checkpoint, if any. */
  resumed: CheckpointRecord | undefined;

  /** Checks that every stage can be checkpointed; throws CheckpointError naming the one that cannot. */
  constructor(
    option: unknown,
    stages: CheckpointStage[],
    source: CheckpointSource | undefined,
    sink: CheckpointSink | undefined,
  ) {
    const { dir, intervalMs, everyBatches } = checkCheckpointOption(option);
    this.dir = dir;
    this.#intervalMs = intervalMs;
    this.#everyBatches = everyBatches;
    const refuse = (message: string): never => {
      throw new CheckpointError(`Cannot checkpoint this pipeline: ${message}`, { dir });
    };
    for (const stage of stages) {
      if (stage.kind === 'foreign')
        refuse(`stage \`${stage.name}\` is a foreign stream; its batches' positions cannot be followed`);
      if (stage.ordered === false) refuse(`stage \`${stage.name}\` reorders batches (ordered: false)`);
      if (stage.notResumable) refuse(`stage \`${stage.name}\` cannot be resumed: ${stage.notResumable}`);
    }
    const sourceHooks = source?.checkpointHooks;
    const sinkHooks = sink?.checkpointHooks;
    if (!source || !sourceHooks)
      throw new CheckpointError(
        `Cannot checkpoint this pipeline: the source \`${stages[0]?.name}\` does not support checkpoints`,
        { dir },
      );
    if (!sink || !sinkHooks)
      throw new CheckpointError(
        `Cannot checkpoint this pipeline: the sink \`${stages[stages.length - 1]?.name}\` does not support checkpoints`,
        { dir },
      );
    if (sourceHooks.refuse) refuse(sourceHooks.refuse);
    if (sinkHooks.refuse) refuse(sinkHooks.refuse);
    this.#source = source;
    this.#sink = sink;
    this.#sourceHooks = sourceHooks;
    this.#sinkHooks = sinkHooks;
    this.#stages = stages.map((s) => `${s.kind}:${s.name}`);
    const hash = (value: unknown): string =>
      nodeCrypto().createHash('sha256').update(JSON.stringify(value)).digest('hex');
    const parts: Record<string, string> = {
      stages: hash(this.#stages),
      source: hash(sourceHooks.identity),
      sink: hash(sinkHooks.identity),
    };
    stages.forEach((s, i) => {
      if (s.identity !== undefined) parts[`code of stage ${i + 1} (${s.name})`] = hash(s.identity);
    });
    this.#parts = parts;
    this.#fingerprint = hash(parts);
  }

  /** What differs between `record`'s pipeline and this one, as far as the record tells. */
  #difference(record: CheckpointRecord): string {
    const stages = `its stages: ${record.stages?.join(' -> ')}; this one: ${this.#stages.join(' -> ')}`;
    const was = record.parts;
    if (was === undefined || was.stages !== this.#parts.stages) return stages;
    const differ = Object.keys({ ...was, ...this.#parts }).filter((k) => was[k] !== this.#parts[k]);
    const named = differ.map((k) => (k === 'source' || k === 'sink' ? `the ${k}'s options` : k));
    return `${named.join(', ')} changed`;
  }

  /**
   * Creates the directory, takes its lock (one run at a time: checkpoint-lock.ts), and resumes
   * from the checkpoint in it when there is one: refuses a checkpoint of another pipeline or of a
   * changed input file.
   */
  async start(context: StageContext): Promise<void> {
    const dir = this.dir;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new CheckpointError(
        `Cannot create the checkpoint directory: ${(error as Error).message}`,
        { dir },
        { cause: error },
      );
    }
    await lockCheckpoint(dir);
    try {
      await this.#open(context);
    } catch (error) {
      await unlockCheckpoint(dir);
      throw error;
    }
  }

  /** Resumes from the checkpoint in the (locked) directory, or starts afresh. */
  async #open(context: StageContext): Promise<void> {
    const dir = this.dir;
    const file = this.#sourceHooks.file;
    if (file !== undefined) {
      try {
        this.#input = await inputIdentity(file);
      } catch (error) {
        throw new CheckpointError(
          `Cannot read the input ${file}: ${(error as Error).message}`,
          { dir, file },
          { cause: error },
        );
      }
    }
    const record = await readCheckpoint(dir);
    this.#sourceHooks.enable?.();
    this.#source.observeBatches((batch) => this.#sourceRows.set(batch.position, batch.numRows));
    this.#sink.useCheckpoint(this);
    this.#sinkHooks.locate?.(dir);
    if (record === undefined) {
      log('no checkpoint in %s: starting from the beginning', dir);
      await this.#sinkHooks.restart?.();
      return;
    }
    if (record.pipeline !== this.#fingerprint) {
      throw new CheckpointError(
        `The checkpoint in ${dir} belongs to another pipeline (${this.#difference(record)}); resuming it would mix two pipelines' output: remove it to start over`,
        { dir },
      );
    }
    const was = record.input;
    const now = this.#input;
    if (
      (was === null) !== (now === null) ||
      (was &&
        now &&
        (was.file !== now.file || was.size !== now.size || was.mtimeMs !== now.mtimeMs || was.edges !== now.edges))
    ) {
      throw new CheckpointError(
        `The input ${now?.file ?? was?.file} changed since the checkpoint was written (size, mtime or content); remove the checkpoint in ${dir} to start over`,
        { dir, file: now?.file ?? was?.file },
      );
    }
    await this.#sinkHooks.resume(record.sink, context);
    this.#sinkHooks.keep(true);
    this.#sourceHooks.resume(record.source);
    this.#watermark = new Watermark(record.through);
    this.#skip = record.committed - record.through;
    this.#commits = record.commits;
    this.resumed = record;
    this.#written = true;
    log(
      'resuming from %s: %d rows committed (%d to skip), commit #%d',
      dir,
      record.committed,
      this.#skip,
      record.commits,
    );
  }

  receive(batch: Batch): number {
    const position = batch.position;
    if (!this.#sourceRows.has(position)) {
      throw new CheckpointError(
        "Cannot checkpoint this pipeline: a batch reached the sink with a position no source batch had (a stage re-batches rows, like batch(), or makes its own batches); checkpointing needs stages that keep their input batches' positions",
        { dir: this.dir, batch: position.index },
      );
    }
    const rows = batch.numRows;
    this.#watermark.note(position, rows);
    this.#batchesSinceCommit++;
    if (this.#skip === 0) return 0;
    const skip = Math.min(this.#skip, rows);
    this.#skip -= skip;
    return skip;
  }

  afterWrite(context: StageContext): Promise<void> | undefined {
    if (this.#failure) return Promise.reject(this.#failure);
    const due =
      (this.#everyBatches !== undefined && this.#batchesSinceCommit >= this.#everyBatches) ||
      performance.now() - this.#lastCommit >= this.#intervalMs;
    if (!due || this.#skip > 0 || this.#inflight) return undefined;
    // the sink snapshots its state now; its fsync and the checkpoint write run while writing goes on
    this.#inflight = this.commit(context)
      .catch((error: unknown) => {
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    return undefined;
  }

  /** Makes the sink durable and records the resume point; a no-op while no source batch is closed. */
  async commit(context: StageContext): Promise<void> {
    this.#batchesSinceCommit = 0;
    const started = performance.now();
    this.#lastCommit = started;
    // from now on the sink's temporary output may be named by a checkpoint: a failure of the run
    // while this commit is under way must not remove it
    this.#sinkHooks.keep(true);
    const written = this.#written;
    let done: SinkCommit;
    let mark: { position: BatchPosition; through: number } | undefined;
    try {
      done = await this.#sinkHooks.commit(context);
      mark = this.#watermark.resolve(done.rows);
    } finally {
      if (mark === undefined && !written) this.#sinkHooks.keep(false);
    }
    // nothing new is committed (e.g. a Parquet row group still filling): the last checkpoint stands
    if (mark === undefined || (done.rows === this.#lastRows && mark.through === this.#lastThrough)) return;
    this.#lastRows = done.rows;
    this.#lastThrough = mark.through;
    const rowsThrough = this.#sourceRows.get(mark.position);
    if (rowsThrough === undefined) return;
    const record: CheckpointRecord = {
      format: FORMAT,
      version: VERSION,
      pipeline: this.#fingerprint,
      stages: this.#stages,
      parts: this.#parts,
      input: this.#input,
      through: mark.through,
      committed: done.rows,
      source: this.#sourceHooks.state(mark.position, mark.position.rowStart + rowsThrough),
      sink: done.state,
      commits: ++this.#commits,
      updatedAt: new Date().toISOString(),
    };
    try {
      await writeFileAtomic(path.join(this.dir, CHECKPOINT_FILE), JSON.stringify(record), { mode: 0o600 });
      this.#written = true;
    } catch (error) {
      if (!written) this.#sinkHooks.keep(false);
      throw new CheckpointError(
        `Cannot write the checkpoint: ${(error as Error).message}`,
        { dir: this.dir },
        { cause: error },
      );
    }
    log(
      'commit #%d: %d rows committed, source batch %d, %d ms',
      record.commits,
      done.rows,
      mark.position.index,
      Math.round(performance.now() - started),
    );
  }

  async beforeFinish(): Promise<void> {
    this.#finishing = true;
    await this.#inflight;
    if (this.#failure) throw this.#failure;
    await unlink(path.join(this.dir, CHECKPOINT_FILE)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT')
        throw new CheckpointError(
          `Cannot remove the checkpoint: ${error.message}`,
          { dir: this.dir },
          { cause: error },
        );
    });
    this.#sinkHooks.keep(false);
  }

  /** Waits for a commit under way (the run failed: the checkpoint it writes is the one to resume from); never throws. */
  async settle(): Promise<void> {
    await this.#inflight;
    await unlockCheckpoint(this.dir);
  }

  /** The run finished: the checkpoint is gone (see beforeFinish); removes the directory when it is empty. */
  async finish(): Promise<void> {
    if (!this.#finishing) await this.beforeFinish();
    await releaseDirectory(this.dir);
    await unlockCheckpoint(this.dir);
    await rmdir(this.dir).catch(() => undefined);
    log('finished: checkpoint removed from %s', this.dir);
  }
}
