/**
 * A complete local file put under an S3 key, so that no partial object is ever visible there:
 * a file up to `multipartThreshold` goes in one PutObject (read into memory: the threshold bounds it) (S3 makes it visible only once whole);
 * a larger one in a multipart upload, part by part (one part in memory at a time), completed only
 * after every part is in, and aborted on any failure, so its parts never become an object. When
 * the abort itself fails, both errors are reported (an AggregateError): the store may keep the
 * orphan parts until its lifecycle rule removes them, but the key never shows them.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { IoError } from '../../core/errors.ts';
import { s3, s3Error } from './s3-client.ts';
import type { ResolvedRemoteSettings } from './settings.ts';
import { parseS3Url } from './url.ts';
import type { CommitPoint } from '../../io/commit-point.ts';

/** What an upload did. */
export interface UploadReport {
  /** Bytes sent. */
  bytes: number;
  /** Parts of the multipart upload (0: a single PutObject). */
  parts: number;
}

/** The S3 client, the target and what the failures name, for one upload. */
interface Target {
  sdk: Awaited<ReturnType<typeof s3>>['sdk'];
  client: Awaited<ReturnType<typeof s3>>['client'];
  bucket: string;
  key: string;
  url: string;
  stage: string | undefined;
}

/**
 * Uploads the file at `local` to `url` (`s3://bucket/key`). A sink's commit `point` is entered
 * just before the request that makes the object visible (PutObject, or CompleteMultipartUpload:
 * an abort during the parts then aborts the upload instead).
 * @throws IoError when S3 refuses; AggregateError when a multipart upload failed and its abort failed too
 */
export async function uploadFile(
  local: string,
  url: string,
  settings: ResolvedRemoteSettings,
  stage?: string,
  point?: CommitPoint,
): Promise<UploadReport> {
  const { bucket, key } = parseS3Url(url);
  const { sdk, client } = await s3();
  const target: Target = { sdk, client, bucket, key, url, stage };
  const size = (await stat(local)).size;
  if (size <= settings.multipartThreshold) {
    point?.enter(url);
    await putWhole(target, local, size);
    return { bytes: size, parts: 0 };
  }
  const uploadId = await createUpload(target);
  let parts: number;
  try {
    parts = await uploadParts(target, uploadId, local, size, settings.partSize, point);
  } catch (error) {
    await abortUpload(target, uploadId, error);
    throw error;
  }
  return { bytes: size, parts };
}

/** A file up to the threshold in one PutObject. */
async function putWhole(target: Target, local: string, size: number): Promise<void> {
  const { sdk, client, bucket, key, url, stage } = target;
  try {
    // a buffer, not a stream: streamed bodies go out aws-chunked, which some S3-compatible stores store as it is
    await client.send(
      new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(local), ContentLength: size }),
    );
  } catch (error) {
    throw s3Error('PutObject', url, error, stage);
  }
}

/** Starts a multipart upload; returns its id. */
async function createUpload(target: Target): Promise<string> {
  const { sdk, client, bucket, key, url, stage } = target;
  try {
    const created = (await client.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))) as {
      UploadId?: string;
    };
    if (created.UploadId === undefined)
      throw new IoError('S3 CreateMultipartUpload answered without an UploadId', { file: url });
    return created.UploadId;
  } catch (error) {
    throw error instanceof IoError ? error : s3Error('CreateMultipartUpload', url, error, stage);
  }
}

/** Sends the file part by part (one part in memory at a time) and completes the upload; returns the part count. */
async function uploadParts(
  target: Target,
  uploadId: string,
  local: string,
  size: number,
  partSize: number,
  point: CommitPoint | undefined,
): Promise<number> {
  const { sdk, client, bucket, key, url, stage } = target;
  const parts: Array<{ PartNumber: number; ETag: string | undefined }> = [];
  const handle = await open(local, 'r');
  try {
    const buffer = Buffer.allocUnsafe(partSize);
    for (let offset = 0, number = 1; offset < size; offset += partSize, number++) {
      const length = Math.min(partSize, size - offset);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      if (bytesRead !== length)
        throw new IoError(`The local file shrank while uploading (${bytesRead} of ${length} bytes at ${offset})`, {
          file: local,
        });
      let answer: { ETag?: string };
      try {
        answer = (await client.send(
          new sdk.UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: number,
            Body: buffer.subarray(0, length),
            ContentLength: length,
          }),
        )) as { ETag?: string };
      } catch (error) {
        throw s3Error(`UploadPart ${number}`, url, error, stage);
      }
      parts.push({ PartNumber: number, ETag: answer.ETag });
    }
  } finally {
    await handle.close();
  }
  point?.enter(url);
  try {
    await client.send(
      new sdk.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (error) {
    throw s3Error('CompleteMultipartUpload', url, error, stage);
  }
  return parts.length;
}

/**
 * Aborts a failed multipart upload, so its parts never become an object.
 * @throws AggregateError of `error` and the abort's own, when the abort fails too
 */
async function abortUpload(target: Target, uploadId: string, error: unknown): Promise<void> {
  const { sdk, client, bucket, key, url, stage } = target;
  try {
    await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch (abortError) {
    throw new AggregateError(
      [error, s3Error('AbortMultipartUpload', url, abortError, stage)],
      `${(error as Error).message}; aborting the multipart upload failed too`,
    );
  }
}

/** Deletes `keys` in `bucket` (DeleteObjects, 1000 a request). */
export async function deleteKeys(bucket: string, keys: readonly string[], stage?: string): Promise<void> {
  const { sdk, client } = await s3();
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    try {
      await client.send(
        new sdk.DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    } catch (error) {
      throw s3Error('DeleteObjects', `s3://${bucket}/${chunk[0]}`, error, stage);
    }
  }
}
