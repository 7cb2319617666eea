/**
 * Committing a partitioned tree to S3 as one unit, as far as S3 allows. S3 has no rename, so a
 * tree cannot appear at once; instead (as Spark's and Hadoop's committers do) readers are told
 * when it is complete: the tree is written locally first, then `_SPILLWAY_PENDING` is put under
 * the prefix, an old `_SUCCESS` is removed, every part file is uploaded (each object whole:
 * s3-upload.ts), the old objects an overwrite replaces are deleted, `_SUCCESS` is put last, and
 * the pending marker removed. A reader that finds the pending marker without `_SUCCESS` knows the
 * tree is incomplete (spillway's own reader refuses it: {@link checkCommitted}). On a failure the
 * parts already uploaded are deleted (a multipart upload under way is aborted by uploadFile); when
 * none of them replaced an old object (and no old object was deleted yet), the old tree is back
 * as it was, and its markers too. The pending marker lists the keys to upload and its writer, so a
 * later write can clean up after a commit whose process was killed (stale-pending.ts).
 */
import { IoError } from '../../core/errors.ts';
import { s3, s3Error } from './s3-client.ts';
import { pendingRecord } from './pending-marker.ts';
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

/** Puts a small object (a marker) whole. */
export async function putSmall(bucket: string, key: string, body: string, stage: string): Promise<void> {
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
 * new tree does not hold (overwrite). The pending marker lists the keys to upload, before the
 * first upload, and who uploads them (pending-marker.ts): a later write can then tell the
 * leftovers of a commit whose process died.
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
  const markers = { pending: prefix + PENDING_MARKER, success: prefix + SUCCESS_MARKER };
  const old = new Set(before);
  const keys = files.map((f) => prefix + f.rel);
  const oldData = before.filter((k) => k !== markers.pending && k !== markers.success);
  const replacesOld = keys.some((k) => old.has(k)) || (replace && oldData.length > 0);
  const record = pendingRecord(keys, replacesOld, old.has(markers.success));
  const done: Done = { uploaded: [], oldTouched: false };
  const report: UploadReport = { bytes: 0, parts: 0 };
  await putSmall(bucket, markers.pending, JSON.stringify(record), stage);
  try {
    if (old.has(markers.success)) await deleteKeys(bucket, [markers.success], stage);
    for (const file of files) {
      const key = prefix + file.rel;
      const sent = await uploadFile(file.local, s3Url(bucket, key), settings, stage);
      done.uploaded.push(key);
      report.bytes += sent.bytes;
      report.parts += sent.parts;
    }
    const written = new Set(done.uploaded);
    done.oldTouched = replace;
    if (replace)
      await deleteKeys(
        bucket,
        oldData.filter((k) => !written.has(k)),
        stage,
      );
    await putSmall(
      bucket,
      markers.success,
      JSON.stringify({ writer: 'spillway', files: files.map((f) => f.rel) }),
      stage,
    );
  } catch (error) {
    await undo(bucket, done, old, markers, stage, error);
    throw error;
  }
  await deleteKeys(bucket, [markers.pending], stage);
  return report;
}

/** What a commit did before it failed: the keys it uploaded, and whether it began deleting old objects. */
interface Done {
  uploaded: string[];
  oldTouched: boolean;
}

/** Deletes what a failed commit uploaded; puts the old tree's markers back when nothing old was replaced. */
async function undo(
  bucket: string,
  done: Done,
  old: ReadonlySet<string>,
  markers: { pending: string; success: string },
  stage: string,
  error: unknown,
): Promise<void> {
  try {
    await deleteKeys(bucket, done.uploaded, stage);
    // an old object overwritten or deleted is gone for good: the pending marker stays, so readers refuse the tree
    if (done.oldTouched || done.uploaded.some((k) => old.has(k))) return;
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
