/**
 * Options of the parallel stage and its worker pool, validated synchronously (before any worker
 * starts) into a resolved form with every default filled in.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ValidationError, describeValue } from '../../core/errors.ts';
import {
  expectBoolean,
  expectInteger,
  expectOneOf,
  expectOptions,
  expectString,
  parseBytes,
} from '../../core/validate.ts';
import type { ByteSize } from '../../core/validate.ts';

/** Options of `parallel(module, options)` and {@link WorkerPool}. */
export interface ParallelOptions {
  /** Number of workers, or `'auto'` for `os.availableParallelism()`. Default `'auto'`. */
  workers?: number | 'auto';
  /**
   * `'thread'` (default): worker_threads, cheap to start, share the process's memory.
   * `'process'`: forked children; a hard memory cap (`workerMemoryLimit`) and recycling return
   * leaked memory to the system.
   */
  isolation?: 'thread' | 'process';
  /** Emit results in input order (default `true`) or as they complete. */
  ordered?: boolean;
  /** Milliseconds a batch may run, counted from when a worker starts it (not when it was queued). No limit by default. */
  timeoutMs?: number;
  /** Times a failed batch is retried on a restarted worker before giving up. Default 2. */
  retries?: number;
  /** Recycle (replace) a worker after this many batches. No limit by default. */
  maxTasksPerWorker?: number;
  /**
   * Memory limit per worker. Threads: the V8 old-generation limit (`resourceLimits`), which does
   * not bound ArrayBuffers. Processes: resident set size (lib/memory/child-rss.ts) sampled every
   * `memoryCheckIntervalMs`; a child over it is killed and its batch retried.
   */
  workerMemoryLimit?: ByteSize;
  /** The user module exports a row function (default `'row'`) or a batch function (`'batch'`). */
  kind?: 'row' | 'batch';
  /** Name of the export to call. Default `'default'`. */
  export?: string;
  /** Most batches in flight plus waiting to be reordered. Default twice the number of workers. */
  window?: number;
  /** `'fail'` (default) rejects with a WorkerError; `{ deadLetter: path }` writes the rows there (JSON lines) and goes on. */
  onError?: 'fail' | { deadLetter: string };
  /** Milliseconds between RSS samples of child processes when `workerMemoryLimit` is set. Default 200. */
  memoryCheckIntervalMs?: number;
  /**
   * Replace a worker whose user function threw (default `true`: its module state may be broken).
   * `false` keeps it, which is much cheaper when code throws on bad input as a matter of course.
   * Workers that crash, time out or run out of memory are always replaced.
   */
  replaceOnError?: boolean;
}

/** {@link ParallelOptions} with every default applied. */
export interface ResolvedPoolOptions {
  moduleUrl: URL;
  workers: number;
  isolation: 'thread' | 'process';
  ordered: boolean;
  timeoutMs: number | undefined;
  retries: number;
  maxTasksPerWorker: number;
  workerMemoryLimit: number | undefined;
  kind: 'row' | 'batch';
  exportName: string;
  window: number;
  deadLetter: string | undefined;
  memoryCheckIntervalMs: number;
  replaceOnError: boolean;
}

/** Turns a URL, a `file:` URL string or a path into a URL (paths resolve against the cwd). */
export function toModuleUrl(module: unknown, path = 'module'): URL {
  if (module instanceof URL) return module;
  const text = expectString(module, path);
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !isAbsolute(text)) {
    try {
      return new URL(text);
    } catch (error) {
      throw new ValidationError(`Expected \`${path}\` to be a URL or a file path, got ${describeValue(module)}`, {
        cause: error,
      });
    }
  }
  return pathToFileURL(resolve(text));
}

/** Validates `options` synchronously; throws a ValidationError naming the option path. */
export function resolvePoolOptions(module: unknown, options: ParallelOptions | undefined): ResolvedPoolOptions {
  const o = expectOptions(options);
  const moduleUrl = toModuleUrl(module);
  const workers =
    o.workers === 'auto' || o.workers === undefined
      ? Math.max(1, availableParallelism())
      : expectInteger(o.workers, 'options.workers', 1, 1, 1024);
  const isolation = expectOneOf(o.isolation, 'options.isolation', ['thread', 'process'] as const, 'thread');
  const timeoutMs =
    o.timeoutMs === undefined ? undefined : expectInteger(o.timeoutMs, 'options.timeoutMs', 1, 1, 2 ** 31 - 1);
  const maxTasks =
    o.maxTasksPerWorker === undefined
      ? Infinity
      : expectInteger(o.maxTasksPerWorker, 'options.maxTasksPerWorker', 1, 1);
  const workerMemoryLimit =
    o.workerMemoryLimit === undefined ? undefined : parseBytes(o.workerMemoryLimit, 'options.workerMemoryLimit');
  if (workerMemoryLimit !== undefined && workerMemoryLimit < 16 * 1024 * 1024) {
    throw new ValidationError(
      `Expected \`options.workerMemoryLimit\` to be at least 16 MiB, got ${describeValue(o.workerMemoryLimit)}`,
    );
  }
  let deadLetter: string | undefined;
  if (o.onError !== undefined && o.onError !== 'fail') {
    const policy = o.onError as unknown;
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) {
      throw new ValidationError(
        `Expected \`options.onError\` to be 'fail' or { deadLetter: path }, got ${describeValue(policy)}`,
      );
    }
    deadLetter = expectString((policy as { deadLetter?: unknown }).deadLetter, 'options.onError.deadLetter');
  }
  return {
    moduleUrl,
    workers,
    isolation,
    ordered: expectBoolean(o.ordered, 'options.ordered', true),
    timeoutMs,
    retries: expectInteger(o.retries, 'options.retries', 2, 0, 100),
    maxTasksPerWorker: maxTasks,
    workerMemoryLimit,
    kind: expectOneOf(o.kind, 'options.kind', ['row', 'batch'] as const, 'row'),
    exportName: o.export === undefined ? 'default' : expectString(o.export, 'options.export'),
    window: expectInteger(o.window, 'options.window', workers * 2, 1),
    deadLetter,
    memoryCheckIntervalMs: expectInteger(o.memoryCheckIntervalMs, 'options.memoryCheckIntervalMs', 200, 10),
    replaceOnError: expectBoolean(o.replaceOnError, 'options.replaceOnError', true),
  };
}
