/**
 * The checkpoint hooks of a write to `s3://` (upload-sink.ts): the local output (one file or a
 * partitioned tree) lives under the checkpoint directory (`<checkpoint>/upload/`) instead of a
 * fresh temporary directory, so a resumed run finds it; the format's own checkpoint hooks (a
 * Parquet or CSV file's, or the partitioned writer's) commit and resume it there. No new resume
 * logic: only where the local output lives, and the identity, change. Nothing is uploaded before
 * the end; a run that fails after a checkpoint keeps the directory, the one that finishes uploads
 * and removes it.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchSink } from '../../core/sink.ts';
import { CheckpointError } from '../../core/errors.ts';
import type { CheckpointJson, SinkCheckpointHooks } from '../../observe/checkpoint.ts';
import { redactUrl } from './url.ts';

/** What identifies a remote write in a checkpoint (URL and options, never credentials), and why it cannot resume. */
export interface UploadResume {
  /** The options of the write (the format's, and the partition options of a tree). */
  identity: CheckpointJson;
  /** Why the format's sink, with these options, cannot be checkpointed (e.g. a gzip CSV). */
  refuse?: string | undefined;
}

/** What the hooks need from the upload they serve. */
export interface UploadLocal {
  /** Opens the local sink writing under `dir`; returns it. */
  open(dir: string): BatchSink<unknown>;
  /** The local sink, once opened. */
  current(): BatchSink<unknown> | undefined;
  /** `true`: a failed run keeps the local directory (a checkpoint names it). */
  keep(on: boolean): void;
}

/** The identity of a format's single-file sink with its local path left out (the URL replaces it). */
export function withoutPath(identity: CheckpointJson): CheckpointJson {
  const entries = Object.entries(identity as Record<string, CheckpointJson>);
  return Object.fromEntries(entries.filter(([key]) => key !== 'path')) as CheckpointJson;
}

/** The checkpoint hooks of the upload of `url` by the stage `name` (see the module comment). */
export function uploadCheckpoint(
  url: string,
  name: string,
  resume: UploadResume,
  local: UploadLocal,
): SinkCheckpointHooks {
  let fixedDir: string | undefined;
  const inner = (): SinkCheckpointHooks => local.current()!.checkpointHooks!;
  /** Opens the local sink in the fixed directory, emptied first when the run starts over. */
  const prepare = async (fresh: boolean): Promise<SinkCheckpointHooks> => {
    if (fixedDir === undefined)
      throw new CheckpointError(`${name}: the checkpoint did not say where to keep the local output`, {
        stage: name,
      });
    if (fresh) await rm(fixedDir, { recursive: true, force: true });
    await mkdir(fixedDir, { recursive: true });
    local.open(fixedDir);
    return inner();
  };
  return {
    // the URL (never credentials: they come from the AWS chain) replaces the local path
    identity: { sink: name, url: redactUrl(url), ...(resume.identity as object) } as CheckpointJson,
    ...(resume.refuse === undefined ? {} : { refuse: resume.refuse }),
    locate: (checkpointDir) => {
      fixedDir = join(checkpointDir, 'upload');
    },
    restart: async () => {
      await (await prepare(true)).restart?.();
    },
    resume: async (state, context) => {
      await (await prepare(false)).resume(state, context);
    },
    commit: (context) =>
      local.current() === undefined ? Promise.resolve({ rows: 0, state: null }) : inner().commit(context),
    keep: (on) => {
      local.keep(on);
      local.current()?.checkpointHooks?.keep(on);
    },
  };
}
