/**
 * The parallel stage's options for the BullMQ backend, validated synchronously: the ones that
 * configure a local pool are refused (they belong on each `spillway worker`), the rest are
 * resolved with their defaults next to the queue's own options.
 */
import { ValidationError, describeValue } from '../../core/errors.ts';
import { expectBoolean, expectInteger, expectOneOf, expectOptions, expectString } from '../../core/validate.ts';
import { toModuleUrl } from '../pool/options.ts';
import type { ParallelOptions } from '../pool/options.ts';
import { connectionLabel, resolveQueueOptions } from './options.ts';
import type { BullmqBackendOptions, ResolvedQueueOptions } from './options.ts';

/** Options of the parallel stage that apply to a queue; the rest configure local pools only. */
export interface ResolvedBullmqOptions {
  moduleUrl: URL;
  ordered: boolean;
  window: number;
  timeoutMs: number | undefined;
  retries: number;
  kind: 'row' | 'batch';
  exportName: string;
  deadLetter: string | undefined;
  queue: ResolvedQueueOptions;
  /** `redis://host:port/db` (no credentials). */
  redis: string;
}

const LOCAL_ONLY = [
  'workers',
  'isolation',
  'maxTasksPerWorker',
  'workerMemoryLimit',
  'memoryCheckIntervalMs',
  'replaceOnError',
] as const;

/** Validates the stage's options for the BullMQ backend synchronously. */
export function resolveBullmqOptions(
  module: unknown,
  options: ParallelOptions | undefined,
  backend: BullmqBackendOptions,
): ResolvedBullmqOptions {
  const o = expectOptions(options);
  for (const key of LOCAL_ONLY) {
    if (o[key] !== undefined)
      throw new ValidationError(
        `\`options.${key}\` configures the local pool; with backend 'bullmq' set it on each \`spillway worker\` (--concurrency, --isolation, ...)`,
      );
  }
  let deadLetter: string | undefined;
  if (o.onError !== undefined && o.onError !== 'fail') {
    const policy = o.onError as unknown;
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy))
      throw new ValidationError(
        `Expected \`options.onError\` to be 'fail' or { deadLetter: path }, got ${describeValue(policy)}`,
      );
    deadLetter = expectString((policy as { deadLetter?: unknown }).deadLetter, 'options.onError.deadLetter');
  }
  const queue = resolveQueueOptions(backend);
  return {
    moduleUrl: toModuleUrl(module),
    ordered: expectBoolean(o.ordered, 'options.ordered', true),
    window: expectInteger(o.window, 'options.window', 16, 1),
    timeoutMs:
      o.timeoutMs === undefined ? undefined : expectInteger(o.timeoutMs, 'options.timeoutMs', 1, 1, 2 ** 31 - 1),
    retries: expectInteger(o.retries, 'options.retries', 2, 0, 100),
    kind: expectOneOf(o.kind, 'options.kind', ['row', 'batch'] as const, 'row'),
    exportName: o.export === undefined ? 'default' : expectString(o.export, 'options.export'),
    deadLetter,
    queue,
    redis: connectionLabel(queue.connection),
  };
}
