/**
 * Redis connections for the BullMQ backend and `spillway worker`: fail fast when the server cannot
 * be reached at start, tell the owner when it is lost mid-run for longer than a grace period, and
 * never put credentials in an error or a log line. ioredis and BullMQ are loaded on first use, so
 * pipelines that never use a queue never load them.
 */
import { logger } from '../../core/log.ts';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import type { QueueError } from '../../core/errors.ts';
import { connectionLabel } from './options.ts';
import { ConnectionWatch } from './redis-watch.ts';
import { loadIoredis } from './peer.ts';
import type { ResolvedConnection } from './options.ts';

const debug = logger('distributed');

/** Options of {@link connectRedis}. */
export interface ConnectOptions {
  /** Shown as the connection's client name (`CLIENT LIST`). */
  role: string;
  /** Milliseconds a lost connection may take to come back before `onLost` fires. */
  reconnectTimeoutMs: number;
  /** Called once when the connection is lost for good. */
  onLost?: (error: QueueError) => void;
}

/** A connected client and how to close it (closing on purpose is not a loss). */
export interface RedisHandle {
  readonly client: Redis;
  /** `redis://host:port/db`. */
  readonly label: string;
  /** QUIT within `ms` (default 1000), else drops the socket. Never throws. */
  close(ms?: number): Promise<void>;
}

/** ioredis options for `c` (what BullMQ's own connections get too), without a retry policy. */
export function redisOptions(c: ResolvedConnection): RedisOptions {
  return {
    host: c.host,
    port: c.port,
    db: c.db,
    connectTimeout: c.connectTimeoutMs,
    ...(c.username === undefined ? {} : { username: c.username }),
    ...(c.password === undefined ? {} : { password: c.password }),
    ...(c.tls === undefined ? {} : { tls: c.tls }),
    ...(c.family === undefined ? {} : { family: c.family }),
  };
}

/**
 * Connection options for BullMQ's own clients (the same server and credentials). They retry a lost
 * connection every 50-1000 ms until `stopped()` says their owner is closing: a closed backend must
 * not keep the process alive with reconnection timers.
 */
export function bullmqConnection(c: ResolvedConnection, name: string, stopped: () => boolean): BullRedisOptions {
  return {
    ...redisOptions(c),
    connectionName: name,
    retryStrategy: (times: number) => (stopped() ? null : Math.min(50 * times, 1000)),
  } as BullRedisOptions;
}

/** Rejects with `error()` if `promise` has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      // kept referenced: a promise the process waits on must settle before it may exit
      timer = setTimeout(() => reject(error()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Connects to Redis and checks it answers (PING), or rejects with a QueueError (`unreachable`)
 * naming the server without credentials. Once connected, a lost connection is retried; if it is
 * not back within `reconnectTimeoutMs`, `onLost` gets a QueueError (`lost`) and retries stop.
 */
export async function connectRedis(c: ResolvedConnection, options: ConnectOptions): Promise<RedisHandle> {
  const { Redis: RedisClient } = await loadIoredis();
  const label = connectionLabel(c);
  const watch = new ConnectionWatch({
    role: options.role,
    label,
    secrets: [c.password],
    reconnectTimeoutMs: options.reconnectTimeoutMs,
    onLost: options.onLost,
  });
  const client = new RedisClient({
    ...redisOptions(c),
    lazyConnect: true,
    connectionName: `spillway-${options.role}`,
    maxRetriesPerRequest: null,
    retryStrategy: watch.retryStrategy,
  });
  watch.attach(client);
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      c.connectTimeoutMs + 1000,
      () => new Error(`no answer within ${c.connectTimeoutMs} ms`),
    );
  } catch (error) {
    watch.stop();
    client.disconnect();
    throw watch.unreachable(error);
  }
  watch.ready = true;
  debug('%s: connected to %s', options.role, label);
  return {
    client,
    label,
    async close(ms = 1000) {
      watch.stop();
      try {
        await withTimeout(client.quit(), ms, () => new Error('quit timed out'));
      } catch {
        client.disconnect();
      }
    },
  };
}
