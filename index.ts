/**
 * spillway: push datasets far larger than memory through your own code.
 *
 * Sources read files chunk by chunk into batches of rows, transforms run your functions per row
 * or per batch, sinks write the results; `pipeline()` runs them with backpressure and returns the
 * sink's output and the run's stats.
 *
 * @packageDocumentation
 */
export { pipeline } from './lib/pipeline.ts';
export type { PipelineOptions, PipelineResult, PipelineStats, PipelineStage, PipelineFunction } from './lib/pipeline.ts';
export { Batch, isBatch, estimateRowsBytes } from './lib/batch.ts';
export type { Row, BatchPosition } from './lib/batch.ts';
export { BatchSource } from './lib/source.ts';
export type { SourceSpec } from './lib/source.ts';
export { BatchTransform } from './lib/transform.ts';
export type { TransformSpec, PushBatch } from './lib/transform.ts';
export { BatchSink } from './lib/sink.ts';
export type { SinkSpec } from './lib/sink.ts';
export { STAGE, isStage } from './lib/stage.ts';
export type { StageStats, StageKind, StageContext, StageInfo, SpillwayStage, GovernorGate, SourceProgress } from './lib/stage.ts';
export {
  SpillwayError,
  ValidationError,
  AbortError,
  CsvParseError,
  StageError,
  CollectLimitError,
  IoError,
  FormatError,
  UnsupportedError,
  MemoryLimitError,
  WorkerError,
  SchemaMismatchError,
  SpillError,
  SpillCorruptError,
  CheckpointError,
  QueueError,
  ErrorCodes,
} from './lib/errors.ts';
export type { ErrorCode, ErrorContext, WorkerFailureReason, QueueFailureReason } from './lib/errors.ts';
export { BullmqBackend } from './lib/distributed/bullmq-backend.ts';
export type { RemoteWorkerStats } from './lib/distributed/bullmq-backend.ts';
export { QueueWorker } from './lib/distributed/queue-worker.ts';
export type { QueueWorkerStats } from './lib/distributed/queue-worker.ts';
export type { BullmqBackendOptions, RedisConnectionOptions, ParallelBackendOption, QueueWorkerOptions } from './lib/distributed/options.ts';

export { removeCheckpoint, hasCheckpoint, CHECKPOINT_FILE } from './lib/checkpoint.ts';
export type { CheckpointOption, CheckpointOptions, CheckpointJson, SourceCheckpointHooks, SinkCheckpointHooks, SinkCommit } from './lib/checkpoint.ts';
export { formatReport } from './lib/report.ts';
export type { ReportOptions } from './lib/report.ts';
export { formatProgress, formatCount, formatDuration } from './lib/progress.ts';
export type { ProgressEvent, ProgressOption, ProgressOptions, ProgressStage, ProgressStream } from './lib/progress.ts';
export { setPipelineDefaults, pipelineDefaults } from './lib/defaults.ts';
export type { PipelineDefaults, PipelineEnd } from './lib/defaults.ts';
export type { DashboardOption, DashboardOptions } from './lib/dashboard/dashboard.ts';
export type { Timeline, TimelineMemory } from './lib/dashboard/timeline.ts';
export { MemoryGovernor, defaultGovernor, resolveLimit, ProcessMemoryProbe, systemMemoryLimit } from './lib/governor.ts';
export type {
  MemoryLevel,
  MemorySample,
  MemoryGovernorOptions,
  MemorySummary,
  MemoryGovernorEvents,
  LevelTimes,
  MemoryProbe,
  MemoryReading,
  LeakInfo,
} from './lib/governor.ts';
export { estimateBatchSize, AdaptiveBatchSize } from './lib/batch-size.ts';
export type { BatchSizeOption } from './lib/batch-size.ts';
export type { AdaptiveBatchSizeOptions, BatchSizeSummary, HeadroomSource } from './lib/batch-size.ts';

export { registerArrowCodecs } from './lib/arrow/codecs.ts';
export type { Compression } from './lib/arrow/codecs.ts';
export { rowsToRecordBatch, recordBatchToRows, inferSchema, unifySchemas, castRecordBatch, schemasEqual, recordBatchBytes } from './lib/arrow/convert.ts';
export type { ToRowsOptions, FromRowsOptions, Int64Mode } from './lib/arrow/convert.ts';

export { WorkerPool } from './lib/pool/worker-pool.ts';
export type { WorkerStats, PoolStats, PoolTotals, WorkerExitReason } from './lib/pool/worker-pool.ts';
export type { ParallelOptions } from './lib/pool/options.ts';
export { mapBatchesInPool } from './lib/pool/reorder.ts';
export type { BatchTask, BatchResult, MapBatchesOptions } from './lib/pool/reorder.ts';
export type { BatchRunner, ParallelBackend, ArrowInput, BatchInput } from './lib/pool/backend.ts';
export { isArrowInput } from './lib/pool/backend.ts';
export type { ErrorPolicy, DeadLetterRecord } from './lib/dead-letter.ts';
export { parseBytes, formatBytes } from './lib/validate.ts';
export type { ByteSize } from './lib/validate.ts';
export { none, stop, many, Stop } from 'stream-chain/defs.js';

export { fromCsv } from './sources/fromCsv.ts';
export type { FromCsvOptions } from './sources/fromCsv.ts';
export type { CsvSchema, CsvColumnType } from './sources/csv-cast.ts';
export { fromParquet } from './sources/fromParquet.ts';
export type { FromParquetOptions } from './sources/fromParquet.ts';
export type { ParquetColumn, ParquetColumnType } from './lib/parquet/types.ts';
export { PreciseDate } from './lib/parquet/types.ts';
export { fromArrow } from './sources/fromArrow.ts';
export type { FromArrowOptions } from './sources/fromArrow.ts';
export { fromIterable } from './sources/fromIterable.ts';
export type { FromIterableOptions } from './sources/fromIterable.ts';

export { map } from './transforms/map.ts';
export { filter } from './transforms/filter.ts';
export { flatMap } from './transforms/flatMap.ts';
export type { RowOptions, ViewRowOptions } from './lib/row-stage.ts';
export type { RowInput } from './lib/row-function.ts';
export { RowViewer, isViewable } from './lib/row-view.ts';
export { selectRows, isBatchSelectable } from './lib/arrow/select.ts';
export type { RowSelection } from './lib/arrow/select.ts';
export { mapBatch } from './transforms/mapBatch.ts';
export type { MapBatchOptions } from './transforms/mapBatch.ts';
export { batch } from './transforms/batch.ts';
export { parallel } from './transforms/parallel.ts';
export type { ParallelStageOptions } from './transforms/parallel.ts';
export type { BatchOptions } from './transforms/batch.ts';
export { sort } from './transforms/sort.ts';
export type { SortOptions } from './transforms/sort.ts';
export { topK } from './transforms/topK.ts';
export type { TopKOptions } from './transforms/topK.ts';
export { limit } from './transforms/limit.ts';
export type { LimitOptions } from './transforms/limit.ts';
export type { SortKey, SortKeys, SortOrder, NullsOrder, Collation } from './lib/operators/sort-keys.ts';
export { OperatorSpillStore, SpilledRun, RunWriter } from './lib/operators/operator-spill.ts';
export type { OperatorSpillOptions } from './lib/operators/operator-spill.ts';

export { toCsv } from './sinks/toCsv.ts';
export type { ToCsvOptions, ToCsvResult } from './sinks/toCsv.ts';
export { toParquet } from './sinks/toParquet.ts';
export type { ToParquetOptions, ToParquetResult } from './sinks/toParquet.ts';
export { ParquetFileWriter } from './lib/parquet/writer.ts';
export type { ParquetCompression, ParquetFieldSpec, ParquetWriteType, ParquetWriteOptions, ParquetWriterState, ParquetColumnKind, ParquetRowGroupMeta } from './lib/parquet/writer.ts';
export { toArrow } from './sinks/toArrow.ts';
export type { ToArrowOptions, ToArrowResult } from './sinks/toArrow.ts';
export { toSpill } from './sinks/toSpill.ts';
export type { ToSpillOptions } from './sinks/toSpill.ts';
export { openSpill, Spilled } from './lib/spill/spilled.ts';
export type { OpenSpillOptions } from './lib/spill/spilled.ts';
export type { SpillManifest } from './lib/spill/manifest.ts';
export { collect } from './sinks/collect.ts';
export type { CollectOptions } from './sinks/collect.ts';
export { drain } from './sinks/drain.ts';
export type { DrainResult } from './sinks/drain.ts';
