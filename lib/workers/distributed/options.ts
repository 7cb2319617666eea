/**
 * Options of the BullMQ backend and of `spillway worker`: the Redis connection (password and TLS
 * passed through), the queue, key prefix and timings, validated synchronously. Also how a
 * connection is named in messages (`redis://host:port/db`, never credentials) and how any text
 * is scrubbed of them.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ValidationError, describeValue } from '../../core/errors.ts';
import { expectBoolean, expectInteger, expectOptions, expectString } from '../../core/validate.ts';

/** How to reach Redis. Credentials are used to connect and never appear in errors, stats or logs. */
export interface RedisConnectionOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 6379. */
  port?: number;
  /** ACL user name (Redis 6+). */
  username?: string;
  /** Password (AUTH). */
  password?: string;
  /** Database number. Default 0. */
  db?: number;
  /** `true` or Node `tls.connect` options: connect over TLS. */
  tls?: boolean | TlsOptions;
  /** 4 or 6 to force an address family. */
  family?: 4 | 6;
  /** Milliseconds to wait for the first connection before failing. Default 5000. */
  connectTimeoutMs?: number;
}

/** `parallel(module, { backend: { type: 'bullmq', ... } })`: batches go through a BullMQ queue to `spillway worker` processes. */
export interface BullmqBackendOptions {
  type: 'bullmq';
  /** The Redis server. */
  connection: RedisConnectionOptions;
  /** Queue name (no `:`); the workers must use the same. */
  queue: string;
  /** Prefix of every Redis key, BullMQ's and the payloads'. Default `bull`. */
  prefix?: string;
  /** Milliseconds a batch's payload key lives in Redis if nobody removes it (a crashed producer). Default 3,600,000. */
  payloadTtlMs?: number;
  /** Milliseconds Redis may stay unreachable mid-run before the pipeline fails. Default 10,000. */
  reconnectTimeoutMs?: number;
  /**
   * Milliseconds the run's lease (a liveness key in Redis, refreshed every third of this) outlives
   * a producer that died without cleaning up (SIGKILL, a crashed machine). Once it has lapsed,
   * workers skip the run's jobs and the next run to start on the queue removes its jobs and keys.
   * A producer whose event loop stalls for longer loses its lease and fails with a QueueError
   * (`lost`). Default 30,000; at least 1000.
   */
  leaseTtlMs?: number;
  /**
   * Milliseconds after the first batch is queued within which some worker must take a batch of
   * this run; otherwise the pipeline fails with a QueueError (reason `no-workers`): no
   * `spillway worker` serves the queue. Later, a run whose batches waited this long with none
   * taken or finished fails the same way when no worker is alive any more (all died mid-run;
   * see worker-presence.ts). Default 60,000; 0 waits forever.
   */
  noWorkerTimeoutMs?: number;
}

/** The `backend` option of `parallel()`: the local pool (default) or a BullMQ queue. */
export type ParallelBackendOption = { type: 'local' } | BullmqBackendOptions;

/** {@link RedisConnectionOptions} validated, with defaults. */
export interface ResolvedConnection {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: TlsOptions | undefined;
  family: 4 | 6 | undefined;
  connectTimeoutMs: number;
}

/** {@link BullmqBackendOptions} validated, with defaults. */
export interface ResolvedQueueOptions {
  connection: ResolvedConnection;
  queue: string;
  prefix: string;
  payloadTtlMs: number;
  reconnectTimeoutMs: number;
  noWorkerTimeoutMs: number;
  leaseTtlMs: number;
}

const CONNECTION_KEYS = ['host', 'port', 'username', 'password', 'db', 'tls', 'family', 'connectTimeoutMs'];

/** Validates connection options; `path` names them in messages. */
export function resolveConnection(value: unknown, path: string): ResolvedConnection {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError(
      `Expected \`${path}\` to be an object like { host, port, password? }, got ${describeValue(value)}`,
    );
  const c = value as RedisConnectionOptions & Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!CONNECTION_KEYS.includes(key))
      throw new ValidationError(`Unknown option \`${path}.${key}\` (expected ${CONNECTION_KEYS.join(', ')})`);
  }
  // never describe the password's value in a message
  if (c.password !== undefined && typeof c.password !== 'string')
    throw new ValidationError(`Expected \`${path}.password\` to be a string, got a ${typeof c.password}`);
  let tls: TlsOptions | undefined;
  if (c.tls === true) tls = {};
  else if (c.tls !== undefined && c.tls !== false) {
    if (c.tls === null || typeof c.tls !== 'object')
      throw new ValidationError(
        `Expected \`${path}.tls\` to be a boolean or tls.connect options, got ${describeValue(c.tls)}`,
      );
    tls = c.tls;
  }
  if (c.family !== undefined && c.family !== 4 && c.family !== 6)
    throw new ValidationError(`Expected \`${path}.family\` to be 4 or 6, got ${describeValue(c.family)}`);
  return {
    host: c.host === undefined ? '127.0.0.1' : expectString(c.host, `${path}.host`),
    port: expectInteger(c.port, `${path}.port`, 6379, 1, 65535),
    username: c.username === undefined ? undefined : expectString(c.username, `${path}.username`),
    password: c.password,
    db: expectInteger(c.db, `${path}.db`, 0, 0, 1_000_000),
    tls,
    family: c.family,
    connectTimeoutMs: expectInteger(c.connectTimeoutMs, `${path}.connectTimeoutMs`, 5000, 1),
  };
}

/** Validates a queue name: BullMQ refuses `:`; it is part of every key. */
export function expectQueueName(value: unknown, path: string): string {
  const name = expectString(value, path);
  if (name.length === 0 || name.includes(':') || /\s/.test(name))
    throw new ValidationError(
      `Expected \`${path}\` to be a non-empty name without ':' or spaces, got ${describeValue(value)}`,
    );
  return name;
}

/** Validates the `backend` option of type `bullmq`. */
export function resolveQueueOptions(value: BullmqBackendOptions, path = 'options.backend'): ResolvedQueueOptions {
  const o = expectOptions(value, path);
  const known = [
    'type',
    'connection',
    'queue',
    'prefix',
    'payloadTtlMs',
    'reconnectTimeoutMs',
    'noWorkerTimeoutMs',
    'leaseTtlMs',
  ];
  for (const key of Object.keys(o))
    if (!known.includes(key))
      throw new ValidationError(`Unknown option \`${path}.${key}\` (expected ${known.join(', ')})`);
  return {
    connection: resolveConnection(o.connection, `${path}.connection`),
    queue: expectQueueName(o.queue, `${path}.queue`),
    prefix: o.prefix === undefined ? 'bull' : expectQueueName(o.prefix, `${path}.prefix`),
    payloadTtlMs: expectInteger(o.payloadTtlMs, `${path}.payloadTtlMs`, 3_600_000, 1000),
    reconnectTimeoutMs: expectInteger(o.reconnectTimeoutMs, `${path}.reconnectTimeoutMs`, 10_000, 1),
    noWorkerTimeoutMs: expectInteger(o.noWorkerTimeoutMs, `${path}.noWorkerTimeoutMs`, 60_000, 0),
    leaseTtlMs: expectInteger(o.leaseTtlMs, `${path}.leaseTtlMs`, 30_000, 1000, 2 ** 31 - 1),
  };
}

/**
 * Parses `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS), as `spillway
 * worker --redis` takes it. `password` (e.g. from an environment variable) is used when the URL
 * has none. Errors never repeat the URL (it may hold a password).
 */
export function parseRedisUrl(text: string, password?: string): ResolvedConnection {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError('Expected --redis to be a URL like redis://host:6379 (or rediss:// for TLS)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new ValidationError(`Expected --redis to start with redis:// or rediss://, got ${url.protocol}//`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db))
    throw new ValidationError(`Expected the database in --redis to be a number, got ${describeValue(db)}`);
  const fromUrl = url.password === '' ? undefined : decodeURIComponent(url.password);
  return resolveConnection(
    {
      host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: url.port === '' ? 6379 : Number(url.port),
      ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
      ...((fromUrl ?? password) ? { password: fromUrl ?? password } : {}),
      db: db === '' ? 0 : Number(db),
      tls: url.protocol === 'rediss:',
    },
    '--redis',
  );
}

/** `redis://host:port/db` or `rediss://...`: how messages, stats and logs name a server. */
export function connectionLabel(c: ResolvedConnection): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `${c.tls === undefined ? 'redis' : 'rediss'}://${host}:${c.port}${c.db === 0 ? '' : `/${c.db}`}`;
}

/** Replaces every secret (and any URL user-info) in `text` with `***`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text.replace(/(rediss?:\/\/)[^@\s/]*@/gi, '$1***@');
  for (const secret of secrets) if (secret !== undefined && secret.length > 0) out = out.split(secret).join('***');
  return out;
}

/** An Error like `error` (name, message, code, stack) with secrets scrubbed, for use as a `cause`. */
export function redactError(error: unknown, secrets: readonly (string | undefined)[]): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redact(source.message, secrets));
  copy.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string') (copy as Error & { code?: string }).code = code;
  if (source.stack !== undefined) copy.stack = redact(source.stack, secrets);
  return copy;
}

/** Validates the backend option's type; `undefined` and `{ type: 'local' }` mean the local pool. */
export function isBullmqBackend(value: unknown, path = 'options.backend'): value is BullmqBackendOptions {
  if (value === undefined) return false;
  const type = (value as { type?: unknown } | null)?.type;
  if (value === null || typeof value !== 'object' || (type !== 'local' && type !== 'bullmq')) {
    throw new ValidationError(
      `Expected \`${path}\` to be { type: 'local' } or { type: 'bullmq', connection, queue }, got ${describeValue(value)}`,
    );
  }
  return type === 'bullmq';
}

/** Options of a `spillway worker` (see lib/distributed/queue-worker.ts). */
export interface QueueWorkerOptions {
  connection: RedisConnectionOptions;
  queue: string;
  /** Default `bull`; must match the producer's. */
  prefix?: string;
  /** The user module (path or URL). */
  module: URL | string;
  /** Batches run at once (threads or processes of the local pool). Default 1. */
  concurrency?: number;
  /** How the user function runs inside this worker. Default `'thread'`. */
  isolation?: 'thread' | 'process';
  /** Lock duration (ms): a worker that stops renewing it for this long is presumed dead. Default 30,000. */
  lockDurationMs?: number;
  /** Milliseconds between checks for stalled jobs. Default 30,000. */
  stalledIntervalMs?: number;
  /** Times a batch may be recovered after its worker died before it fails. Default 2. */
  maxStalledCount?: number;
  /** Memory limit per local worker (see `workerMemoryLimit` of parallel()). */
  workerMemoryLimit?: string | number;
  /** Worker id in stats. Default `host:pid`. */
  id?: string;
  /** Milliseconds the module's import at start may take (a hung import fails the start). Default 30,000. */
  moduleTimeoutMs?: number;
  /** Log progress lines to stderr. Default false. */
  verbose?: boolean;
}

/** Validates {@link QueueWorkerOptions} (minus the module and memory limit, which the pool checks). */
export function resolveWorkerTimings(o: QueueWorkerOptions): {
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  concurrency: number;
  verbose: boolean;
  moduleTimeoutMs: number;
} {
  return {
    concurrency: expectInteger(o.concurrency, 'options.concurrency', 1, 1, 1024),
    lockDurationMs: expectInteger(o.lockDurationMs, 'options.lockDurationMs', 30_000, 100),
    stalledIntervalMs: expectInteger(o.stalledIntervalMs, 'options.stalledIntervalMs', 30_000, 100),
    maxStalledCount: expectInteger(o.maxStalledCount, 'options.maxStalledCount', 2, 0, 1000),
    verbose: expectBoolean(o.verbose, 'options.verbose', false),
    moduleTimeoutMs: expectInteger(o.moduleTimeoutMs, 'options.moduleTimeoutMs', 30_000, 1),
  };
}
