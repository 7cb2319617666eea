/**
 * Committing a partitioned tree to S3 as one unit, as far as S3 allows. S3 has no rename, so a
 * tree cannot appear at once; instead (as Spark's and Hadoop's committers do) readers are told
 * when it is complete: the tree is written locally first, then `_SPILLWAY_PENDING` is put under
 * the prefix, an old `_SUCCESS` is removed, every part file is uploaded (each object whole:
 * s3-upload.ts), the old objects an overwrite replaces are deleted, `_SUCCESS` is put last, and
 * the pending marker removed. A reader that finds the pending marker without `_SUCCESS` knows the
 * tree is incomplete (spillway's own reader refuses it: {@link checkCommitted}). On a failure the
 * parts already uploaded are deleted (a multipart upload under way is aborted by uploadFile); when
 * none of them replaced an old object, the old tree is back as it was, and its markers too.
 */
import { IoError } from '../../core/errors.ts';
import { s3, s3Error } from './s3-client.ts';
import { deleteKeys, uploadFile, type UploadReport } from './s3-upload.ts';
import type { ResolvedRemoteSettings } from './settings.ts';
import { s3Url } from './url.ts';

/** The marker of a complete tree (Spark and Hadoop write the same name; readers check it). */
export const SUCCESS_MARKER = '_SUCCESS';
/** The marker of a tree being written (or left incomplete by a failed write) by spillway. */
export const PENDING_MARKER = '_SPILLWAY_PENDING';

/** One local file of the tree and its path relative to the tree (`/`-separated). */
export interface TreeFile {
  local: string;
  rel: string;
}

async function putSmall(bucket: string, key: string, body: string, stage: string): Promise<void> {
  const { sdk, client } = await s3();
  const bytes = Buffer.from(body);
  try {
    await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
  } catch (error) {
    throw s3Error('PutObject', s3Url(bucket, key), error, stage);
  }
}

/**
 * Uploads `files` under `prefix` (ending in `/`, or empty) of `bucket` as described in the module
 * comment; `before` are the keys under the prefix before the write, `replace` deletes those the
 * new tree does not hold (overwrite).
 * @throws IoError (or AggregateError with the cleanup's failure) when the upload failed
 */
export async function commitTree(
  bucket: string,
  prefix: string,
  files: readonly TreeFile[],
  before: readonly string[],
  replace: boolean,
  settings: ResolvedRemoteSettings,
  stage: string,
): Promise<UploadReport> {
  const pending = prefix + PENDING_MARKER;
  const success = prefix + SUCCESS_MARKER;
  const old = new Set(before);
  const uploaded: string[] = [];
  const report: UploadReport = { bytes: 0, parts: 0 };
  await putSmall(bucket, pending, JSON.stringify({ writer: 'spillway', startedAt: new Date().toISOString() }), stage);
  try {
    if (old.has(success)) await deleteKeys(bucket, [success], stage);
    for (const file of files) {
      const key = prefix + file.rel;
      const done = await uploadFile(file.local, s3Url(bucket, key), settings, stage);
      uploaded.push(key);
      report.bytes += done.bytes;
      report.parts += done.parts;
    }
    const written = new Set(uploaded);
    if (replace)
      await deleteKeys(
        bucket,
        before.filter((k) => !written.has(k) && k !== pending && k !== success),
        stage,
      );
    await putSmall(bucket, success, JSON.stringify({ writer: 'spillway', files: files.map((f) => f.rel) }), stage);
  } catch (error) {
    await undo(bucket, uploaded, old, { pending, success }, stage, error);
    throw error;
  }
  await deleteKeys(bucket, [pending], stage);
  return report;
}

/** Deletes what a failed commit uploaded; puts the old tree's markers back when nothing old was replaced. */
async function undo(
  bucket: string,
  uploaded: readonly string[],
  old: ReadonlySet<string>,
  markers: { pending: string; success: string },
  stage: string,
  error: unknown,
): Promise<void> {
  try {
    await deleteKeys(bucket, uploaded, stage);
    // an old object overwritten is gone for good: the pending marker stays, so readers refuse the tree
    if (uploaded.some((k) => old.has(k))) return;
    if (old.has(markers.success)) await putSmall(bucket, markers.success, '', stage);
    await deleteKeys(bucket, [markers.pending], stage);
  } catch (cleanup) {
    throw new AggregateError(
      [error, cleanup],
      `${(error as Error).message}; removing the objects uploaded before the failure failed too`,
    );
  }
}

/**
 * Refuses listed keys that lie in a tree spillway has not finished writing: a directory holding
 * `_SPILLWAY_PENDING` and no `_SUCCESS`, at or above a data key (within the listing).
 * @throws IoError naming the incomplete tree
 */
export function checkCommitted(bucket: string, keys: readonly string[], data: readonly string[]): void {
  const pendingDirs = new Set<string>();
  const successDirs = new Set<string>();
  for (const key of keys) {
    const slash = key.lastIndexOf('/') + 1;
    const name = key.slice(slash);
    if (name === PENDING_MARKER) pendingDirs.add(key.slice(0, slash));
    else if (name === SUCCESS_MARKER) successDirs.add(key.slice(0, slash));
  }
  const incomplete = [...pendingDirs].filter((d) => !successDirs.has(d));
  if (incomplete.length === 0) return;
  for (const dir of incomplete) {
    if (!data.some((k) => k.startsWith(dir))) continue;
    throw new IoError(
      `${s3Url(bucket, dir)} is a tree spillway has not finished writing (${PENDING_MARKER} without ${SUCCESS_MARKER}): a write is under way, or one failed after replacing objects; rerun the write, or delete the prefix`,
      { file: s3Url(bucket, dir + PENDING_MARKER) },
    );
  }
}
