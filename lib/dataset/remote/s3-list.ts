/**
 * S3 inputs as dataset files: `s3://bucket/key` is one object; `s3://bucket/prefix/` (or a key
 * that is no object but has objects below it) is every object below, as a directory is; and a
 * glob (`s3://bucket/trades/date=*\/*.parquet`) lists the objects under its fixed prefix and keeps
 * the keys the glob matches, with the same rules as local globs (hidden and `_` directories left
 * out). Listings are paginated; sizes come with them, so totals need no extra request.
 */
import { s3, s3Error, s3Status, s3Code } from './s3-client.ts';
import { parseS3Url, s3Url } from './url.ts';
import type { DatasetFile } from '../dataset-file.ts';
import { checkCommitted } from './tree-commit.ts';

interface ListOutput {
  Contents?: Array<{ Key?: string; Size?: number }>;
  IsTruncated?: boolean;
  NextContinuationToken?: string;
}

/** Every object under `prefix` (paginated), keys and sizes. */
export async function listS3Prefix(bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>> {
  const { sdk, client } = await s3();
  const out: Array<{ key: string; size: number }> = [];
  let token: string | undefined;
  do {
    let page: ListOutput;
    try {
      page = (await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      )) as ListOutput;
    } catch (error) {
      throw s3Error('ListObjectsV2', s3Url(bucket, prefix), error);
    }
    for (const item of page.Contents ?? [])
      if (item.Key !== undefined && !item.Key.endsWith('/')) out.push({ key: item.Key, size: item.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

function hiddenDirectory(rel: string): boolean {
  const parts = rel.split('/');
  return parts.slice(0, -1).some((p) => p.startsWith('.') || p.startsWith('_'));
}

function hiddenName(rel: string): boolean {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  return name.startsWith('.') || name.startsWith('_');
}

/** The size of one object, or undefined when there is no object under that key. */
async function headSize(bucket: string, key: string): Promise<number | undefined> {
  const { sdk, client } = await s3();
  try {
    const head = (await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }))) as {
      ContentLength?: number;
    };
    return head.ContentLength ?? 0;
  } catch (error) {
    if (s3Status(error) === 404 || s3Code(error) === 'NotFound' || s3Code(error) === 'NoSuchKey') return undefined;
    throw s3Error('HeadObject', s3Url(bucket, key), error);
  }
}

/**
 * The files of one S3 input (see the module comment); `glob` tells a glob key from a plain one,
 * `matcher` and `split` are expand.ts's glob helpers (passed in to keep one glob dialect).
 */
export async function expandS3(
  url: string,
  glob: { isGlob(p: string): boolean; split(p: string): { base: string; rest: string }; compile(p: string): RegExp },
): Promise<DatasetFile[]> {
  const { bucket, key } = parseS3Url(url);
  if (glob.isGlob(key)) {
    const { base, rest } = glob.split(key);
    const prefix = base === '' ? '' : `${base}/`;
    const matcher = glob.compile(rest);
    const root = s3Url(bucket, base);
    const listed = await listS3Prefix(bucket, prefix);
    const found = listed
      .map((o) => ({ o, rel: o.key.slice(prefix.length) }))
      .filter(({ rel }) => !hiddenDirectory(rel) && matcher.test(rel))
      .map(({ o }) => ({ path: s3Url(bucket, o.key), root, size: o.size, key: o.key }));
    checkCommitted(
      bucket,
      listed.map((o) => o.key),
      found.map((f) => f.key),
    );
    return found.map(({ key: _key, ...file }) => file);
  }
  if (key !== '' && !key.endsWith('/')) {
    const size = await headSize(bucket, key);
    if (size !== undefined) return [{ path: url, root: '', size }];
  }
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const root = s3Url(bucket, prefix.replace(/\/$/, ''));
  const listed = await listS3Prefix(bucket, prefix);
  const found = listed.filter((o) => {
    const rel = o.key.slice(prefix.length);
    return !hiddenDirectory(rel) && !hiddenName(rel);
  });
  checkCommitted(
    bucket,
    listed.map((o) => o.key),
    found.map((o) => o.key),
  );
  return found.map((o) => ({ path: s3Url(bucket, o.key), root, size: o.size }));
}
