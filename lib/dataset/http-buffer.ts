/**
 * Kept for the modules that imported the first HTTP reader from here (the Parquet reader,
 * fromJsonl): the remote machinery now lives in lib/dataset/remote/, one concept per file, and
 * covers `s3://` as well as `http(s)://`.
 */
export { isHttpUrl, isRemoteUrl, redactUrl } from './remote/url.ts';
export { openRemoteBuffer, openRemoteBuffer as openHttpBuffer } from './remote/open.ts';
