/**
 * `spillway/workers`: the worker pool behind `parallel()`, for running batches in threads or
 * processes outside a pipeline, and the interface a custom `parallel()` backend implements.
 *
 * @packageDocumentation
 */
export { WorkerPool } from '../workers/pool/worker-pool.ts';
export type { WorkerStats, PoolStats, PoolTotals, WorkerExitReason } from '../workers/pool/worker-pool.ts';
export type { ParallelOptions } from '../workers/pool/options.ts';
export { mapBatchesInPool } from '../workers/pool/reorder.ts';
export type { BatchTask, BatchResult, MapBatchesOptions } from '../workers/pool/reorder.ts';
export { isArrowInput } from '../workers/pool/backend.ts';
export type { BatchRunner, ParallelBackend, ArrowInput, BatchInput } from '../workers/pool/backend.ts';
