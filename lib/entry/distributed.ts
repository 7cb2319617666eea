/**
 * `spillway/distributed`: batches of a `parallel()` stage through a BullMQ queue to
 * `spillway worker` processes on other machines. bullmq and ioredis are optional peer
 * dependencies (`npm install bullmq ioredis`): importing this entry works without them, and the
 * first connection without them fails with a coded UnsupportedError (ERR_SPILLWAY_UNSUPPORTED) that says so.
 *
 * @packageDocumentation
 */
export { BullmqBackend } from '../workers/distributed/bullmq-backend.ts';
export type { RemoteWorkerStats } from '../workers/distributed/bullmq-backend.ts';
export { QueueWorker } from '../workers/distributed/queue-worker.ts';
export type { QueueWorkerStats } from '../workers/distributed/queue-worker.ts';
export type {
  BullmqBackendOptions,
  RedisConnectionOptions,
  ParallelBackendOption,
  QueueWorkerOptions,
} from '../workers/distributed/options.ts';
