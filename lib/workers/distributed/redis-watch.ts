/**
 * The life of one Redis connection after `connectRedis` made it: the retry policy (fail fast
 * before the first connection, retry for a grace period after), the timer that declares a lost
 * connection gone for good, and the errors, scrubbed of credentials.
 */
import { logger } from '../../core/log.ts';
import type { Redis } from 'ioredis';
import { QueueError } from '../../core/errors.ts';
import { redact, redactError } from './options.ts';

const debug = logger('distributed');

/** What the watch needs to know of its connection's owner. */
export interface WatchOptions {
  /** Shown in debug lines. */
  role: string;
  /** `redis://host:port/db`. */
  label: string;
  /** Texts to scrub from every message (the password). */
  secrets: readonly (string | undefined)[];
  /** Milliseconds a lost connection may take to come back before `onLost` fires. */
  reconnectTimeoutMs: number;
  /** Called once when the connection is lost for good. */
  onLost?: (error: QueueError) => void;
}

/** Tracks one client's connection: whether it was ever ready, whether its owner is closing it, and since when it is lost. */
export class ConnectionWatch {
  /** Set once the first connection answered. */
  ready = false;
  /** Set when the owner closes on purpose (or the connection is gone for good): no more retries. */
  closing = false;
  #lostSince: number | undefined;
  #lostTimer: NodeJS.Timeout | undefined;
  #lastError: Error | undefined;
  #client: Redis | undefined;

  constructor(readonly options: WatchOptions) {}

  /** ioredis's `retryStrategy`: before the first connection fail fast; after, retry until the grace period ends. */
  readonly retryStrategy = (times: number): number | null => {
    if (!this.ready || this.closing) return null;
    if (this.#lostSince !== undefined && Date.now() - this.#lostSince >= this.options.reconnectTimeoutMs) return null;
    return Math.min(50 * times, 500);
  };

  /** Listens to `client`'s connection events. */
  attach(client: Redis): void {
    const { role, label, secrets, reconnectTimeoutMs } = this.options;
    this.#client = client;
    client.on('error', (error: Error) => {
      this.#lastError = error;
      debug('%s: redis %s: %s', role, label, redact(error.message, secrets));
    });
    client.on('close', () => {
      if (!this.ready || this.closing || this.#lostSince !== undefined) return;
      this.#lostSince = Date.now();
      debug('%s: connection to %s lost; retrying for %d ms', role, label, reconnectTimeoutMs);
      this.#lostTimer = setTimeout(() => this.#lost(), reconnectTimeoutMs);
      this.#lostTimer.unref();
    });
    client.on('ready', () => {
      if (this.#lostSince !== undefined) debug('%s: reconnected to %s', role, label);
      this.#lostSince = undefined;
      clearTimeout(this.#lostTimer);
    });
    client.on('end', () => {
      if (this.ready && !this.closing) this.#lost();
    });
  }

  /** The connection is gone for good: stop retrying and tell the owner. */
  #lost(): void {
    if (this.closing) return;
    const { role, label, secrets, reconnectTimeoutMs } = this.options;
    this.closing = true;
    clearTimeout(this.#lostTimer);
    const lastError = this.#lastError;
    const why = lastError === undefined ? '' : `: ${redact(lastError.message, secrets)}`;
    const error = new QueueError(
      `Lost the connection to Redis at ${label} for more than ${reconnectTimeoutMs} ms${why}`,
      {},
      'lost',
      lastError === undefined ? undefined : { cause: redactError(lastError, secrets) },
    );
    debug('%s: %s', role, error.message);
    this.#client?.disconnect();
    this.options.onLost?.(error);
  }

  /** The QueueError (`unreachable`) for a first connection that failed with `error` (or the client's last error). */
  unreachable(error: unknown): QueueError {
    const { label, secrets } = this.options;
    const cause = this.#lastError ?? error;
    const text = cause instanceof Error ? cause.message : String(cause);
    return new QueueError(`Cannot reach Redis at ${label}: ${redact(text, secrets)}`, {}, 'unreachable', {
      cause: redactError(cause, secrets),
    });
  }

  /** The owner closes on purpose: a loss from now on is not reported. */
  stop(): void {
    this.closing = true;
    clearTimeout(this.#lostTimer);
  }
}
