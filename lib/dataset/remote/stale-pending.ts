/**
 * Before a tree is written under an S3 prefix: a `_SPILLWAY_PENDING` marker found there is either
 * a write under way, or what a commit left when its process died during the upload (SIGKILL,
 * power loss: its own cleanup never ran). The marker says who wrote it and which keys it was
 * uploading (pending-marker.ts), so a dead commit's leftovers are known exactly: when the prefix
 * holds `_SUCCESS`, the tree is committed and only the marker goes; when the dead commit could not
 * have touched an older tree's objects, its keys go, the older `_SUCCESS` is put back, and the
 * marker goes, leaving the prefix as it was before that commit, and the write goes on as a fresh
 * one. Anything else is refused (a live writer; a marker that lists no keys; a dead overwrite
 * that may have replaced old objects), except by `existing: 'overwrite'`, which replaces the
 * whole prefix as it always did.
 */
import { IoError } from '../../core/errors.ts';
import { logger } from '../../core/stage.ts';
import { describeWriter, parsePending, writerDead, type PendingRecord } from './pending-marker.ts';
import { s3, s3Code, s3Error, s3Status } from './s3-client.ts';
import { listS3Prefix } from './s3-list.ts';
import { deleteKeys } from './s3-upload.ts';
import { PENDING_MARKER, SUCCESS_MARKER, putSmall } from './tree-commit.ts';
import { s3Url } from './url.ts';

const debug = logger('s3');

/** The text of a small object; undefined when there is none. */
async function readSmall(bucket: string, key: string, stage: string): Promise<string | undefined> {
  const { sdk, client } = await s3();
  try {
    const got = (await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }))) as {
      Body?: { transformToString(): Promise<string> };
    };
    return (await got.Body?.transformToString()) ?? '';
  } catch (error) {
    if (s3Status(error) === 404 || s3Code(error) === 'NoSuchKey') return undefined;
    throw s3Error('GetObject', s3Url(bucket, key), error, stage);
  }
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  return (await listS3Prefix(bucket, prefix)).map((o) => o.key);
}

/**
 * The keys under `prefix` (ending in `/`, or empty) before a tree is written there, once what a
 * dead commit left is removed (see the module comment).
 * @throws IoError naming the marker when one remains that `existing` cannot go past
 */
export async function prepareTreePrefix(
  bucket: string,
  prefix: string,
  existing: 'error' | 'overwrite' | 'append',
  stage: string,
): Promise<string[]> {
  const keys = await keysUnder(bucket, prefix);
  const pending = prefix + PENDING_MARKER;
  if (!keys.includes(pending)) return keys;
  const refusal = await settlePending(bucket, prefix, new Set(keys), stage);
  if (refusal === undefined) return keysUnder(bucket, prefix);
  if (existing === 'overwrite') return keys;
  throw new IoError(refusal, { stage, file: s3Url(bucket, pending) });
}

/**
 * Clears the pending marker under `prefix` when its writer is dead and its leftovers are known;
 * returns why it cannot otherwise (undefined: cleared).
 */
async function settlePending(
  bucket: string,
  prefix: string,
  keys: ReadonlySet<string>,
  stage: string,
): Promise<string | undefined> {
  const pending = prefix + PENDING_MARKER;
  const text = await readSmall(bucket, pending, stage);
  if (text === undefined) return undefined;
  const url = s3Url(bucket, prefix);
  const record = parsePending(text);
  if (record === undefined)
    return `${url} holds a ${PENDING_MARKER} marker that does not say which objects its write uploaded (an older spillway's, or another tool's): a write may be under way, or one failed; delete the prefix, or write it with existing: 'overwrite'`;
  if (!writerDead(record))
    return `${url} is being written by another spillway run (${describeWriter(record)}): its ${PENDING_MARKER} marker belongs to a process that is running (or, from another host, is less than a day old); wait for that write, or delete the marker once sure that none is under way`;
  if (keys.has(prefix + SUCCESS_MARKER)) {
    // killed before its first upload or after `_SUCCESS`: the tree under `_SUCCESS` is whole
    await deleteKeys(bucket, [pending], stage);
    debug('removed the stale pending marker of a committed tree under %s', url);
    return undefined;
  }
  if (record.replacesOld)
    return `${url} holds what a spillway write left when its process died (${describeWriter(record)}) after it may have replaced objects of the tree before it, which cannot be given back; write it with existing: 'overwrite', or delete the prefix`;
  await clearLeftovers(bucket, prefix, keys, record, stage);
  return undefined;
}

/** Deletes the keys a dead commit uploaded, puts back the `_SUCCESS` it had deleted, then the marker goes. */
async function clearLeftovers(
  bucket: string,
  prefix: string,
  keys: ReadonlySet<string>,
  record: PendingRecord,
  stage: string,
): Promise<void> {
  const pending = prefix + PENDING_MARKER;
  const success = prefix + SUCCESS_MARKER;
  // only keys of the prefix's tree: the marker names nothing else
  const leftovers = record.keys.filter((k) => k.startsWith(prefix) && keys.has(k) && k !== pending && k !== success);
  await deleteKeys(bucket, leftovers, stage);
  if (record.hadSuccess) await putSmall(bucket, success, '', stage);
  await deleteKeys(bucket, [pending], stage);
  debug(
    'removed %d object(s) a dead write left under %s (%s)',
    leftovers.length,
    s3Url(bucket, prefix),
    describeWriter(record),
  );
}
