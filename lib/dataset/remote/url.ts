/**
 * Remote locations as plain strings: `http(s)://...` and `s3://bucket/key`. Everything that must
 * tell a remote input from a local path asks here, so the rule lives in one place; and every
 * message that shows a URL shows it redacted (signed URLs carry secrets in the query, and a URL
 * may carry a user and password).
 */
import { UnsupportedError, ValidationError, describeValue } from '../../core/errors.ts';

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

/**
 * Refuses glob syntax (`*`, `[`, `{`) in the path of an HTTP(S) URL: HTTP has no listing, so
 * there is nothing to match a glob against. (`?` starts the query, so it is never a glob in a
 * URL.) An S3-compatible server is listed through `s3://` with its endpoint instead.
 * @throws UnsupportedError (ERR_SPILLWAY_UNSUPPORTED) with the reason and what to do
 */
export function expectNoHttpGlob(url: string): void {
  const path = url.replace(/^https?:\/\/[^/]*/i, '').replace(/[?#].*$/s, '');
  if (!/[*[{]/.test(path)) return;
  throw new UnsupportedError(
    `Cannot expand a glob over HTTP (${redactUrl(url)}): HTTP has no listing of a directory's files. Name the files (an array of URLs); for an S3-compatible server (MinIO, R2, Ceph, ...), read s3://bucket/prefix/*.ext with its endpoint (configureRemote({ s3Endpoint }) or AWS_ENDPOINT_URL); a literal * [ or { in a URL path is written %2A %5B %7B`,
    { file: redactUrl(url) },
  );
}
