/**
 * Checkpoint/resume for dataset sources (many files read as one source). The checkpoint state
 * is the file list as it was listed (each file's size and mtime, or size and ETag for remote
 * objects), the index of the file the resume point lies in, and that file's own resume state,
 * which the format's single-file adapter computes and consumes (CSV: byte offset; Parquet and
 * Arrow: rows read). On resume the list must be the same, files before the current one are
 * skipped unopened, and the current one resumes inside itself. Why the whole list and not a
 * hash: a changed file is then named in the error.
 */
import { stat } from 'node:fs/promises';
import type { BatchPosition } from '../core/batch.ts';
import { CheckpointError, IoError } from '../core/errors.ts';
import type { BatchSource } from '../core/source.ts';
import type { CheckpointJson, SourceCheckpointHooks } from '../observe/checkpoint.ts';
import type { DatasetFile } from './dataset-file.ts';
import { isRemoteUrl, redactUrl } from './remote/url.ts';

/** One file as the checkpoint remembers it. */
export interface FileIdentity {
  path: string;
  size: number | null;
  /** Local files: modification time in ms. */
  mtimeMs: number | null;
  /** Remote objects: the ETag, when the store sends one. */
  etag: string | null;
}

/** A dataset's resume state, as written in checkpoint.json. */
export interface DatasetState {
  /** The files as listed by the run that wrote the checkpoint. */
  files: FileIdentity[];
  /** Index in `files` of the file holding the resume point. */
  file: number;
  /** That file's own resume state (its format's adapter). */
  inner: CheckpointJson;
  /** Rows the dataset source delivered up to the resume point. */
  rows: number;
  /** Index of the next batch the dataset source delivers. */
  index: number;
}

/** What the format says about checkpoints of its single-file source, with the dataset's options. */
export interface DatasetCheckpointSpec {
  /** Identity of the dataset input and options (the pipeline fingerprint). */
  identity: CheckpointJson;
  /** Why it cannot be checkpointed; undefined when it can. */
  refuse?: string;
}

/** Size and mtime (local) or size and ETag (remote: a one-byte ranged GET) of `file`. */
async function identify(file: DatasetFile, signal: AbortSignal): Promise<FileIdentity> {
  if (isRemoteUrl(file.path)) {
    const { transportFor } = await import('./remote/open.ts');
    const answer = await transportFor(file.path).get({ start: 0, end: 0 }, undefined, signal);
    answer.cancel();
    const size = Number.isFinite(answer.total) ? answer.total : (file.size ?? null);
    return { path: file.path, size, mtimeMs: null, etag: answer.etag ?? null };
  }
  const info = await stat(file.path);
  return { path: file.path, size: info.size, mtimeMs: info.mtimeMs, etag: null };
}

/** Why `was` and `now` differ, or undefined when they are the same list. */
function difference(was: readonly FileIdentity[], now: readonly FileIdentity[]): string | undefined {
  const before = new Map(was.map((f) => [f.path, f]));
  const after = new Set(now.map((f) => f.path));
  for (const f of now) {
    const old = before.get(f.path);
    if (old === undefined) return `${redactUrl(f.path)} was added`;
    if (old.size !== f.size || old.mtimeMs !== f.mtimeMs || old.etag !== f.etag)
      return `${redactUrl(f.path)} changed (${old.etag !== f.etag ? 'ETag' : old.size !== f.size ? 'size' : 'mtime'})`;
  }
  for (const f of was) if (!after.has(f.path)) return `${redactUrl(f.path)} was removed`;
  return undefined;
}

/**
 * The checkpoint side of a dataset source: its hooks, the identity of the listed files, the
 * state after each delivered batch, and where a resumed run starts.
 */
export class DatasetResume {
  /** True once the pipeline checkpoints this source. */
  enabled = false;
  /** The state to resume from, when resuming. */
  from: DatasetState | undefined;
  readonly hooks: SourceCheckpointHooks;
  #files: FileIdentity[] = [];
  /** Per delivered batch (by its position object): the file and that file's state after it. */
  readonly #states = new WeakMap<BatchPosition, { file: number; inner: CheckpointJson }>();

  constructor(spec: DatasetCheckpointSpec) {
    this.hooks = {
      identity: spec.identity,
      refuse: spec.refuse,
      enable: () => {
        this.enabled = true;
      },
      state: (position, rowsThrough) => {
        const at = this.#states.get(position);
        // every batch the dataset delivers is noted before it is yielded
        if (at === undefined) throw new CheckpointError('A dataset batch has no resume state', {});
        const state: DatasetState = {
          files: this.#files,
          file: at.file,
          inner: at.inner,
          rows: rowsThrough,
          index: position.index + 1,
        };
        return state as unknown as CheckpointJson;
      },
      resume: (state) => {
        this.from = state as unknown as DatasetState;
      },
    };
  }

  /**
   * Notes the listed files (when checkpointing) and, when resuming, checks they are the files
   * the checkpoint was written for.
   * @throws CheckpointError naming a file added, removed or changed since the checkpoint
   */
  async list(files: readonly DatasetFile[], stage: string, signal: AbortSignal): Promise<void> {
    if (!this.enabled) return;
    const ids: FileIdentity[] = [];
    for (const file of files) {
      try {
        ids.push(await identify(file, signal));
      } catch (error) {
        if (error instanceof IoError) throw error;
        throw new IoError(
          `Cannot read dataset file: ${(error as Error).message}`,
          { stage, file: redactUrl(file.path) },
          { cause: error },
        );
      }
    }
    this.#files = ids;
    const from = this.from;
    if (from === undefined) return;
    const why = difference(from.files, ids);
    if (why !== undefined)
      throw new CheckpointError(
        `The dataset changed since the checkpoint was written: ${why}; remove the checkpoint to start over`,
        { stage },
      );
  }

  /** The size of listed file `index`, when known (for progress over the files a resume skips). */
  sizeOf(index: number): number | undefined {
    return this.#files[index]?.size ?? undefined;
  }

  /** When resuming: true for files wholly delivered before the resume point (`index` in the listed files). */
  skips(index: number): boolean {
    return this.from !== undefined && index < this.from.file;
  }

  /**
   * Readies the single-file source of file `index` for a checkpointed run: turns on its resume
   * tracking, and resumes it inside itself when it holds the resume point.
   * @throws CheckpointError when the file's source cannot be checkpointed
   */
  prepare(source: BatchSource, index: number, stage: string): void {
    if (!this.enabled) return;
    const hooks = source.checkpointHooks;
    if (hooks === undefined || hooks.refuse !== undefined)
      throw new CheckpointError(
        `Cannot checkpoint this pipeline: ${stage} cannot resume inside ${redactUrl(this.#files[index]?.path ?? '')}${hooks?.refuse ? ` (${hooks.refuse})` : ''}`,
        { stage },
      );
    hooks.enable?.();
    if (this.from !== undefined && index === this.from.file) hooks.resume(this.from.inner);
  }

  /**
   * Notes the state after an inner batch of file `index` (its position and row count, before
   * filtering), under the position of the batch the dataset delivers for it.
   */
  note(delivered: BatchPosition, inner: BatchPosition, rows: number, index: number, source: BatchSource): void {
    if (!this.enabled) return;
    const state = source.checkpointHooks!.state(inner, inner.rowStart + rows);
    this.#states.set(delivered, { file: index, inner: state });
  }
}
