/**
 * A sink whose target is `s3://`: the format's ordinary sink (or the partitioned writer) writes
 * a local temporary file (or tree) exactly as it would write a local target, and only when it has
 * committed cleanly is the result uploaded (s3-upload.ts), so a failed or aborted run leaves
 * nothing under the target key. The temporary directory is removed in every case. Trees are
 * uploaded file by file once all are written, then `_SUCCESS` marks them complete (tree-commit.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Batch } from '../../core/batch.ts';
import { BatchSink } from '../../core/sink.ts';
import { STAGE, type StageContext, type StageStats } from '../../core/stage.ts';
import { IoError } from '../../core/errors.ts';
import { listS3Prefix } from './s3-list.ts';
import { uploadFile } from './s3-upload.ts';
import { commitTree } from './tree-commit.ts';
import { remoteSettings } from './settings.ts';
import { parseS3Url } from './url.ts';

/** What the remote sink uploads: one file, or a tree with its `existing` policy. */
export type UploadShape = { kind: 'file' } | { kind: 'tree'; existing: 'error' | 'overwrite' | 'append' };

function writeTo(sink: BatchSink<unknown>, batch: Batch): Promise<void> {
  return new Promise((resolve, reject) => sink.write(batch, (error) => (error ? reject(error) : resolve())));
}

/** The keys under a tree's prefix (`prefix/`), to refuse or replace an existing tree. */
async function treeKeys(url: string): Promise<string[]> {
  const { bucket, key } = parseS3Url(url);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  return (await listS3Prefix(bucket, prefix)).map((o) => o.key);
}

/**
 * A sink writing to `url` through a local sink made by `local(path)`; `fileName` is the local
 * name (the key's base name, so extensions keep their meaning, e.g. `.gz`).
 */
export function uploadSink<R extends { path: string }>(
  url: string,
  name: string,
  shape: UploadShape,
  local: (path: string) => BatchSink<unknown>,
): BatchSink<R> {
  const { bucket, key } = parseS3Url(url);
  const fileName = key.slice(key.lastIndexOf('/') + 1) || 'output';
  let dir: string | undefined;
  let inner: BatchSink<unknown> | undefined;
  let starting: Promise<BatchSink<unknown>> | undefined;

  async function start(context: StageContext): Promise<BatchSink<unknown>> {
    if (shape.kind === 'tree' && shape.existing === 'error' && (await treeKeys(url)).length > 0) {
      throw new IoError("The target prefix holds objects (options.existing is 'error')", { stage: name, file: url });
    }
    dir = await mkdtemp(join(tmpdir(), 'spillway-upload-'));
    const sink = local(join(dir, shape.kind === 'tree' ? 'tree' : fileName));
    sink.on('error', () => undefined);
    sink[STAGE].attach(context);
    inner = sink;
    return sink;
  }

  async function upload(result: Record<string, unknown>, stats: StageStats): Promise<void> {
    const settings = remoteSettings();
    let bytes = 0;
    let parts = 0;
    if (shape.kind === 'file') {
      const report = await uploadFile(join(dir!, fileName), url, settings, name);
      bytes = report.bytes;
      parts = report.parts;
    } else {
      const files = (result.files as string[]).map((rel) => ({
        local: join(dir!, 'tree', rel),
        rel: rel.split('\\').join('/'),
      }));
      const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
      const report = await commitTree(
        bucket,
        prefix,
        files,
        await treeKeys(url),
        shape.existing === 'overwrite',
        settings,
        name,
      );
      bytes = report.bytes;
      parts = report.parts;
    }
    stats.details.uploadedBytes = bytes;
    stats.details.uploadParts = parts;
  }

  async function cleanup(): Promise<void> {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  }

  return new BatchSink<R>({
    name,
    async write(batch, context) {
      starting ??= start(context);
      await writeTo(await starting, batch);
    },
    async finish(context, stats) {
      starting ??= start(context);
      const sink = await starting;
      try {
        sink.end();
        await finished(sink);
        const result = sink.result() as Record<string, unknown>;
        await upload(result, stats);
        return { ...result, path: url } as unknown as R;
      } finally {
        await cleanup();
      }
    },
    async abort(error) {
      const sink = inner;
      if (sink && !sink.destroyed) sink.destroy(error ?? new Error(`${name}: aborted`));
      if (sink) await finished(sink).catch(() => undefined);
      await starting?.catch(() => undefined);
      await cleanup();
    },
  });
}
