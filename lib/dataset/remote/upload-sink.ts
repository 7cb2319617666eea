/**
 * A sink whose target is `s3://`: the format's ordinary sink (or the partitioned writer) writes
 * a local temporary file (or tree) exactly as it would write a local target, and only when it has
 * committed cleanly is the result uploaded (s3-upload.ts), so a failed or aborted run leaves
 * nothing under the target key. The temporary directory (`spillway-upload-*`, its `.owner` naming
 * this process so that the next run removes it after a kill) is removed in every case. Trees are
 * uploaded file by file once all are written, then `_SUCCESS` marks them complete (tree-commit.ts).
 * Before a tree is written, and again before its upload, the prefix is listed: what a write killed
 * during its upload left there is removed, or a write under way refused (stale-pending.ts).
 *
 * A checkpointed write (`pipeline(..., { checkpoint })`, one file or a tree) keeps its local
 * output under the checkpoint directory (`<checkpoint>/upload/`) instead of a fresh temporary
 * directory, so a resumed run finds it (upload-checkpoint.ts): the format's own checkpoint hooks
 * commit and resume it, and still nothing is uploaded before the end. A run that fails after a
 * checkpoint keeps that directory; the one that finishes uploads and removes it.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Batch } from '../../core/batch.ts';
import { BatchSink } from '../../core/sink.ts';
import { STAGE, type BatchForm, type StageContext, type StageStats } from '../../core/stage.ts';
import { IoError } from '../../core/errors.ts';
import { lazyImport } from '../../core/lazy-import.ts';
import { forgetOnExit, removeOnExit } from '../../formats/spill/cleanup.ts';
import { createScratchDir } from '../../io/temp-files.ts';
import type { SinkCheckpointHooks } from '../../observe/checkpoint.ts';
import { uploadCheckpoint, type UploadResume } from './upload-checkpoint.ts';
import { remoteSettings } from './settings.ts';
import { parseS3Url } from './url.ts';
import type { CommitPoint } from '../../io/commit-point.ts';

/**
 * What the remote sink uploads: one file, or a tree with its `existing` policy; and the identity
 * of the write (format options, and partition options of a tree) for a checkpoint's fingerprint.
 */
export type UploadShape = ({ kind: 'file' } | { kind: 'tree'; existing: 'error' | 'overwrite' | 'append' }) & {
  /** What identifies the write in a checkpoint; undefined when the format's sink cannot resume. */
  resume: UploadResume | undefined;
};

function writeTo(sink: BatchSink<unknown>, batch: Batch): Promise<void> {
  return new Promise((resolve, reject) => sink.write(batch, (error) => (error ? reject(error) : resolve())));
}

// the S3 client and upload code load when a run uploads, not with `import 'spillway'`
const s3Modules = lazyImport(() =>
  Promise.all([import('./stale-pending.ts'), import('./s3-upload.ts'), import('./tree-commit.ts')]),
);

/** One upload run: the local temporary directory, the local sink writing into it, and the upload. */
class Upload {
  readonly #url: string;
  readonly #name: string;
  readonly #shape: UploadShape;
  readonly #local: (path: string) => BatchSink<unknown>;
  readonly #bucket: string;
  /** The tree's prefix: the key and a `/` (or empty: the whole bucket). */
  readonly #prefix: string;
  /** The local name: the key's base name, so extensions keep their meaning (`.gz`). */
  readonly #fileName: string;
  #dir: string | undefined;
  #inner: BatchSink<unknown> | undefined;
  #starting: Promise<BatchSink<unknown>> | undefined;
  /** The removal of the local directory, once begun. */
  #cleaning: Promise<void> | undefined;
  /** A checkpoint names the local tree: a failed run keeps it. */
  #keep = false;

  constructor(url: string, name: string, shape: UploadShape, local: (path: string) => BatchSink<unknown>) {
    this.#url = url;
    this.#name = name;
    this.#shape = shape;
    this.#local = local;
    const { bucket, key } = parseS3Url(url);
    this.#bucket = bucket;
    this.#prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    this.#fileName = key.slice(key.lastIndexOf('/') + 1) || 'output';
  }

  /** The local sink, made (once) on the first write or at the end. */
  sink(context: StageContext): Promise<BatchSink<unknown>> {
    return (this.#starting ??= this.#start(context));
  }

  /**
   * The keys under the tree's prefix (`key/`), to refuse or replace an existing tree, once what a
   * dead write left there is removed (stale-pending.ts).
   */
  async #treeKeys(existing: 'error' | 'overwrite' | 'append'): Promise<string[]> {
    const [{ prepareTreePrefix }] = await s3Modules.load();
    return prepareTreePrefix(this.#bucket, this.#prefix, existing, this.#name);
  }

  async #start(context: StageContext): Promise<BatchSink<unknown>> {
    const shape = this.#shape;
    // a dead write's leftovers are removed (or a live write refused) before anything is written
    const keys = shape.kind === 'tree' ? await this.#treeKeys(shape.existing) : [];
    if (shape.kind === 'tree' && shape.existing === 'error' && keys.length > 0) {
      throw new IoError("The target prefix holds objects (options.existing is 'error')", {
        stage: this.#name,
        file: this.#url,
      });
    }
    const sink = this.#inner ?? this.#open(await this.#scratch());
    sink[STAGE].attach(context);
    return sink;
  }

  /**
   * A fresh `spillway-upload-*` under the OS temp dir, named with its owner: a later run removes
   * it if this process is killed (lib/io/temp-files.ts), and exit removes it if nothing else did.
   */
  async #scratch(): Promise<string> {
    let dir: string;
    try {
      dir = await createScratchDir(tmpdir(), 'spillway-upload-');
    } catch (error) {
      throw new IoError(
        `Cannot create a local directory for the upload under ${tmpdir()}: ${(error as Error).message}`,
        { stage: this.#name, file: this.#url, dir: tmpdir() },
        { cause: error },
      );
    }
    removeOnExit(dir);
    return dir;
  }

  /** Makes the local sink writing under `dir`. */
  #open(dir: string): BatchSink<unknown> {
    this.#dir = dir;
    const sink = this.#local(join(dir, this.#shape.kind === 'tree' ? 'tree' : this.#fileName));
    sink.on('error', () => undefined);
    this.#inner = sink;
    return sink;
  }

  /**
   * The checkpoint hooks of the upload (upload-checkpoint.ts): the format's own, on a local output
   * under the checkpoint directory; undefined when the format's sink has none.
   */
  checkpointHooks(): SinkCheckpointHooks | undefined {
    const resume = this.#shape.resume;
    if (resume === undefined) return undefined;
    return uploadCheckpoint(this.#url, this.#name, resume, {
      open: (dir) => this.#open(dir),
      current: () => this.#inner,
      keep: (on) => {
        this.#keep = on;
      },
    });
  }

  /** Ends the local sink, uploads what it wrote, and returns its result with the URL as path. */
  async finish(context: StageContext, stats: StageStats, point?: CommitPoint): Promise<Record<string, unknown>> {
    const sink = await this.sink(context);
    try {
      sink.end();
      await finished(sink);
      const result = sink.result() as Record<string, unknown>;
      await this.#upload(result, stats, point);
      return { ...result, path: this.#url };
    } finally {
      await this.#cleanup();
    }
  }

  /** Uploads the file or tree; the object (or the tree's first upload) passes the sink's commit `point` first. */
  async #upload(result: Record<string, unknown>, stats: StageStats, point: CommitPoint | undefined): Promise<void> {
    const settings = remoteSettings();
    const dir = this.#dir!;
    const shape = this.#shape;
    const [, { uploadFile }, { commitTree }] = await s3Modules.load();
    let report: { bytes: number; parts: number };
    if (shape.kind === 'file') {
      report = await uploadFile(join(dir, this.#fileName), this.#url, settings, this.#name, point);
    } else {
      const files = (result.files as string[]).map((rel) => ({
        local: join(dir, 'tree', rel),
        rel: rel.split('\\').join('/'),
      }));
      const existing = await this.#treeKeys(shape.existing);
      const replace = shape.existing === 'overwrite';
      point?.enter(this.#url);
      report = await commitTree(this.#bucket, this.#prefix, files, existing, replace, settings, this.#name);
    }
    stats.details.uploadedBytes = report.bytes;
    stats.details.uploadParts = report.parts;
  }

  /** Destroys the local sink (its own abort removes what it wrote) and the temporary directory. */
  async abort(error: Error | null): Promise<void> {
    const sink = this.#inner;
    if (sink && !sink.destroyed) sink.destroy(error ?? new Error(`${this.#name}: aborted`));
    if (sink) await finished(sink).catch(() => undefined);
    await this.#starting?.catch(() => undefined);
    // a checkpoint names the local tree: a resumed run continues it
    if (!this.#keep) await this.#cleanup();
  }

  /** Removes the local directory; a second caller (an abort beside a failing finish) waits for the first. */
  #cleanup(): Promise<void> {
    const dir = this.#dir;
    this.#dir = undefined;
    if (dir !== undefined) this.#cleaning = rm(dir, { recursive: true, force: true }).then(() => forgetOnExit(dir));
    return this.#cleaning ?? Promise.resolve();
  }
}

/**
 * A sink writing to `url` through a local sink made by `local(path)` (see the module comment).
 */
export function uploadSink<R extends { path: string }>(
  url: string,
  name: string,
  shape: UploadShape,
  local: (path: string) => BatchSink<unknown>,
  accepts: readonly BatchForm[],
): BatchSink<R> {
  const upload = new Upload(url, name, shape, local);
  const checkpoint = upload.checkpointHooks();
  return new BatchSink<R>({
    name,
    // the forms the local sink takes: a source gives it Arrow as it would give the local write
    capabilities: { accepts },
    ...(checkpoint === undefined ? {} : { checkpoint }),
    async write(batch, context) {
      await writeTo(await upload.sink(context), batch);
    },
    async finish(context, stats, point) {
      return (await upload.finish(context, stats, point)) as unknown as R;
    },
    async abort(error) {
      await upload.abort(error);
    },
  });
}
