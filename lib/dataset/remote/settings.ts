/**
 * Process-wide settings of remote reads and writes: the S3 endpoint (for S3-compatible stores),
 * region and client, and the limits of HTTP/S3 requests. They are settings, not per-stage
 * options, because every source and sink shares them and the stages' option lists stay the
 * format's own. Credentials are never a setting here: they come from the standard AWS chain
 * (environment, shared config files, instance roles), or from a client the caller builds.
 */
import { ValidationError, describeValue } from '../../core/errors.ts';
import { expectInteger, parseBytes } from '../../core/validate.ts';

/** The part of an S3 client spillway uses (`S3Client` from `@aws-sdk/client-s3` has it). */
export interface S3ClientLike {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy?(): void;
}

/** Settings of {@link configureRemote}. */
export interface RemoteSettings {
  /** S3 endpoint URL for S3-compatible stores (default: `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`, then AWS). */
  s3Endpoint?: string;
  /** S3 region (default: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `us-east-1`). */
  s3Region?: string;
  /** Path-style S3 URLs (default: true when an endpoint is set, as MinIO and most S3-compatible stores need). */
  s3ForcePathStyle?: boolean;
  /** A ready S3 client to use instead of building one (its credentials are the caller's business). */
  s3Client?: S3ClientLike;
  /** Most requests in flight per remote file (default 4). */
  concurrency?: number;
  /** Retries of a request that failed with a 5xx answer or a dropped connection (default 4). */
  retries?: number;
  /** First backoff in milliseconds, doubling on each retry (default 100). */
  backoffMs?: number;
  /** Outputs up to this size go to S3 in one PutObject; larger ones in a multipart upload (default '16MB'; a single put holds the file in memory). */
  multipartThreshold?: number | string;
  /** Part size of multipart uploads (default '16MB'; S3 needs at least 5 MB for every part but the last). */
  partSize?: number | string;
}

/** The settings in force, with defaults filled in. */
export interface ResolvedRemoteSettings {
  readonly s3Endpoint: string | undefined;
  readonly s3Region: string;
  readonly s3ForcePathStyle: boolean;
  readonly s3Client: S3ClientLike | undefined;
  readonly concurrency: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly multipartThreshold: number;
  readonly partSize: number;
}

const KEYS = new Set([
  's3Endpoint',
  's3Region',
  's3ForcePathStyle',
  's3Client',
  'concurrency',
  'retries',
  'backoffMs',
  'multipartThreshold',
  'partSize',
]);

let current: RemoteSettings = {};
const listeners = new Set<() => void>();

/**
 * Sets how remote inputs and outputs are reached (see {@link RemoteSettings}); each call
 * replaces the previous settings whole (`configureRemote({})` restores the defaults).
 * @throws ValidationError for an unknown or malformed setting
 */
export function configureRemote(settings: RemoteSettings): void {
  if (settings === null || typeof settings !== 'object')
    throw new ValidationError(`Expected \`settings\` to be an object, got ${describeValue(settings)}`);
  for (const key of Object.keys(settings))
    if (!KEYS.has(key))
      throw new ValidationError(`Unknown setting \`settings.${key}\` (expected ${[...KEYS].join(', ')})`);
  const s = settings;
  if (s.s3Endpoint !== undefined && (typeof s.s3Endpoint !== 'string' || !/^https?:\/\//i.test(s.s3Endpoint))) {
    throw new ValidationError(
      `Expected \`settings.s3Endpoint\` to be an http(s) URL, got ${describeValue(s.s3Endpoint)}`,
    );
  }
  if (s.s3Region !== undefined && (typeof s.s3Region !== 'string' || s.s3Region === ''))
    throw new ValidationError(`Expected \`settings.s3Region\` to be a region name, got ${describeValue(s.s3Region)}`);
  if (s.s3ForcePathStyle !== undefined && typeof s.s3ForcePathStyle !== 'boolean')
    throw new ValidationError(
      `Expected \`settings.s3ForcePathStyle\` to be a boolean, got ${describeValue(s.s3ForcePathStyle)}`,
    );
  if (s.s3Client !== undefined && (s.s3Client === null || typeof (s.s3Client as S3ClientLike).send !== 'function')) {
    throw new ValidationError(
      `Expected \`settings.s3Client\` to be an S3 client (with a send method), got ${describeValue(s.s3Client)}`,
    );
  }
  resolve(s);
  current = { ...s };
  for (const listener of listeners) listener();
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

function resolve(s: RemoteSettings): ResolvedRemoteSettings {
  const endpoint = s.s3Endpoint ?? env('AWS_ENDPOINT_URL_S3') ?? env('AWS_ENDPOINT_URL');
  const partSize = s.partSize === undefined ? 16 * 1024 * 1024 : parseBytes(s.partSize, 'settings.partSize');
  if (partSize < 5 * 1024 * 1024)
    throw new ValidationError(
      `Expected \`settings.partSize\` to be at least 5MB (S3's smallest part), got ${describeValue(s.partSize)}`,
    );
  return {
    s3Endpoint: endpoint,
    s3Region: s.s3Region ?? env('AWS_REGION') ?? env('AWS_DEFAULT_REGION') ?? 'us-east-1',
    s3ForcePathStyle: s.s3ForcePathStyle ?? endpoint !== undefined,
    s3Client: s.s3Client,
    concurrency: expectInteger(s.concurrency, 'settings.concurrency', 4),
    retries: expectInteger(s.retries, 'settings.retries', 4, 0),
    backoffMs: expectInteger(s.backoffMs, 'settings.backoffMs', 100, 0),
    multipartThreshold:
      s.multipartThreshold === undefined
        ? 16 * 1024 * 1024
        : parseBytes(s.multipartThreshold, 'settings.multipartThreshold'),
    partSize,
  };
}

/** The settings in force (environment variables are read now, so tests and users may set them late). */
export function remoteSettings(): ResolvedRemoteSettings {
  return resolve(current);
}

/** Calls `listener` whenever the settings change (the S3 client cache drops its client). */
export function onRemoteSettingsChange(listener: () => void): void {
  listeners.add(listener);
}
