/**
 * Remote locations as plain strings: `http(s)://...` and `s3://bucket/key`. Everything that must
 * tell a remote input from a local path asks here, so the rule lives in one place; and every
 * message that shows a URL shows it redacted (signed URLs carry secrets in the query, and a URL
 * may carry a user and password).
 */
import { ValidationError, describeValue } from '../../core/errors.ts';

/** True for `http://` and `https://` URLs. */
export function isHttpUrl(path: unknown): path is string {
  return typeof path === 'string' && /^https?:\/\//i.test(path);
}

/** True for `s3://bucket/key` URLs. */
export function isS3Url(path: unknown): path is string {
  return typeof path === 'string' && /^s3:\/\//i.test(path);
}

/** True for any location read or written through the network (HTTP(S) or S3). */
export function isRemoteUrl(path: unknown): path is string {
  return isHttpUrl(path) || isS3Url(path);
}

/** An S3 location split into its bucket and key (the key without a leading `/`). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Splits `s3://bucket/key` (the key may be empty, or hold glob syntax).
 * @throws ValidationError when there is no bucket
 */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url);
  if (!match || match[1]!.length === 0)
    throw new ValidationError(`Expected an S3 URL of the form s3://bucket/key, got ${describeValue(url)}`);
  return { bucket: match[1]!, key: match[2]! };
}

/** `s3://bucket/key` from its parts. */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** A URL as it may be shown: no user, password or query string (S3 URLs and local paths are returned as they are). */
export function redactUrl(url: string): string {
  if (!isHttpUrl(url)) return url;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = u.search ? '?…' : '';
    return u.toString();
  } catch {
    return '(url)';
  }
}

/** The path part of a remote URL (what its extension is read from; a query never counts). */
export function remotePathname(url: string): string {
  if (isS3Url(url)) return `/${parseS3Url(url).key}`;
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    throw new ValidationError(`Expected a valid URL, got ${describeValue(redactUrl(url))}`);
  }
}
