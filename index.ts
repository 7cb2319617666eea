/**
 * spillway: push datasets far larger than memory through your own code.
 *
 * Sources read files chunk by chunk into batches of rows, transforms run your functions per row
 * or per batch, sinks write the results; `pipeline()` runs them with backpressure and returns the
 * sink's output and the run's stats.
 *
 * @packageDocumentation
 */
export { pipeline } from './lib/core/pipeline.ts';
export type { PipelineOptions, PipelineStage, PipelineFunction } from './lib/core/pipeline.ts';
export type { PipelineResult, PipelineStats } from './lib/core/stats.ts';
export { Batch, isBatch, estimateRowsBytes } from './lib/core/batch.ts';
export type { Row, BatchPosition } from './lib/core/batch.ts';
export { BatchSource } from './lib/core/source.ts';
export type { SourceSpec } from './lib/core/source.ts';
export { BatchTransform } from './lib/core/transform.ts';
export type { TransformSpec, PushBatch } from './lib/core/transform.ts';
export { BatchSink } from './lib/core/sink.ts';
export type { SinkSpec } from './lib/core/sink.ts';
export { STAGE, isStage } from './lib/core/stage.ts';
export type { StageStats, StageKind, StageContext, StageInfo, SpillwayStage, GovernorGate, SourceProgress } from './lib/core/stage.ts';
export {
  SpillwayError,
  ValidationError,
  AbortError,
  CsvParseError,
  JsonParseError,
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
  JoinKeyMismatchError,
  ErrorCodes,
} from './lib/core/errors.ts';
export type { ErrorCode, ErrorContext, WorkerFailureReason, QueueFailureReason } from './lib/core/errors.ts';
export { BullmqBackend } from './lib/workers/distributed/bullmq-backend.ts';
export type { RemoteWorkerStats } from './lib/workers/distributed/bullmq-backend.ts';
export { QueueWorker } from './lib/workers/distributed/queue-worker.ts';
export type { QueueWorkerStats } from './lib/workers/distributed/queue-worker.ts';
export type { BullmqBackendOptions, RedisConnectionOptions, ParallelBackendOption, QueueWorkerOptions } from './lib/workers/distributed/options.ts';

export { removeCheckpoint, hasCheckpoint, CHECKPOINT_FILE } from './lib/observe/checkpoint.ts';
export type { CheckpointOption, CheckpointOptions, CheckpointJson, SourceCheckpointHooks, SinkCheckpointHooks, SinkCommit } from './lib/observe/checkpoint.ts';
export { formatReport } from './lib/observe/report.ts';
export type { ReportOptions } from './lib/observe/report.ts';
export { formatProgress } from './lib/observe/progress-line.ts';
export { formatCount, formatDuration } from './lib/core/format.ts';
export type { ProgressEvent, ProgressOption, ProgressOptions, ProgressStage, ProgressStream } from './lib/observe/progress.ts';
export { setPipelineDefaults, pipelineDefaults } from './lib/core/defaults.ts';
export type { PipelineDefaults, PipelineEnd } from './lib/core/defaults.ts';
export type { DashboardOption, DashboardOptions } from './lib/observe/dashboard/dashboard.ts';
export type { Timeline, TimelineMemory } from './lib/observe/timeline.ts';
export { MemoryGovernor, defaultGovernor, resolveLimit, ProcessMemoryProbe, systemMemoryLimit, defaultMemoryLimit, usableHeapLimit, memoryBreakdown } from './lib/memory/governor.ts';
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
  MemoryBreakdown,
} from './lib/memory/governor.ts';
export { estimateBatchSize, AdaptiveBatchSize } from './lib/memory/batch-size.ts';
export type { BatchSizeOption } from './lib/memory/batch-size.ts';
export type { AdaptiveBatchSizeOptions, BatchSizeSummary, HeadroomSource } from './lib/memory/batch-size.ts';

export { registerArrowCodecs } from './lib/formats/arrow/codecs.ts';
export type { Compression } from './lib/formats/arrow/codecs.ts';
export { rowsToRecordBatch, recordBatchToRows, inferSchema, unifySchemas, castRecordBatch, schemasEqual, recordBatchBytes } from './lib/formats/arrow/convert.ts';
export type { ToRowsOptions, FromRowsOptions, Int64Mode } from './lib/formats/arrow/convert.ts';

export { WorkerPool } from './lib/workers/pool/worker-pool.ts';
export type { WorkerStats, PoolStats, PoolTotals, WorkerExitReason } from './lib/workers/pool/worker-pool.ts';
export type { ParallelOptions } from './lib/workers/pool/options.ts';
export { mapBatchesInPool } from './lib/workers/pool/reorder.ts';
export type { BatchTask, BatchResult, MapBatchesOptions } from './lib/workers/pool/reorder.ts';
export type { BatchRunner, ParallelBackend, ArrowInput, BatchInput } from './lib/workers/pool/backend.ts';
export { isArrowInput } from './lib/workers/pool/backend.ts';
export type { ErrorPolicy, DeadLetterRecord } from './lib/io/dead-letter.ts';
export { parseBytes } from './lib/core/validate.ts';
export { formatBytes } from './lib/core/format.ts';
export type { ByteSize } from './lib/core/validate.ts';
export { none, stop, many, Stop } from 'stream-chain/defs.js';

export { fromCsv } from './sources/fromCsv.ts';
export type { FromCsvOptions } from './sources/fromCsv.ts';
export type { CsvSchema, CsvColumnType } from './sources/csv-cast.ts';
export { inspectCsv } from './sources/csv/inspect.ts';
export type { CsvDescription } from './sources/csv/inspect.ts';
export type { DetectedType as CsvDetectedType } from './sources/csv/detect-types.ts';
export { fromParquet } from './sources/fromParquet.ts';
export type { FromParquetOptions } from './sources/fromParquet.ts';
export type { ParquetColumn, ParquetColumnType } from './lib/formats/parquet/types.ts';
export { PreciseDate } from './lib/formats/parquet/types.ts';
export { inspectParquet } from './lib/formats/parquet/inspect.ts';
export type { ParquetInspection, ParquetSchemaNode, ParquetRowGroupInfo, ParquetChunkInfo, ParquetChunkStatistics, InspectParquetOptions } from './lib/formats/parquet/inspect.ts';
export type { RenamedColumn } from './lib/formats/parquet/read/names.ts';
export type { ParquetInterval, InvalidUtf8 } from './lib/formats/parquet/read/values.ts';
export { inspectArrow } from './lib/formats/arrow/inspect.ts';
export type { ArrowInspection, ArrowFieldInfo, InspectArrowOptions } from './lib/formats/arrow/inspect.ts';
export { fromArrow } from './sources/fromArrow.ts';
export type { FromArrowOptions } from './sources/fromArrow.ts';
export { fromIterable } from './sources/fromIterable.ts';
export { fromJsonl } from './sources/fromJsonl.ts';
export type { FromJsonlOptions } from './sources/fromJsonl.ts';
export type { DatasetOptions } from './lib/dataset/multi-file.ts';
export type { DatasetInput } from './lib/dataset/expand.ts';
export type { HiveType, HiveValue } from './lib/dataset/hive.ts';
export { expectPredicate } from './lib/dataset/predicate.ts';
export type { Predicate, PredicateValue, ComparisonOp } from './lib/dataset/predicate.ts';
export type { FromIterableOptions } from './sources/fromIterable.ts';

export { map } from './transforms/map.ts';
export { filter } from './transforms/filter.ts';
export { flatMap } from './transforms/flatMap.ts';
export type { RowOptions, ViewRowOptions } from './lib/core/row-stage.ts';
export type { RowInput } from './lib/core/row-function.ts';
export { RowViewer, isViewable } from './lib/core/row-view.ts';
export { selectRows, isBatchSelectable } from './lib/formats/arrow/select.ts';
export type { RowSelection } from './lib/formats/arrow/select.ts';
export { mapBatch } from './transforms/mapBatch.ts';
export type { MapBatchOptions } from './transforms/mapBatch.ts';
export { batch } from './transforms/batch.ts';
export { parallel } from './transforms/parallel.ts';
export type { ParallelStageOptions } from './transforms/parallel.ts';
export type { BatchOptions } from './transforms/batch.ts';
export { groupBy } from './transforms/groupBy.ts';
export type { GroupByOptions } from './transforms/groupBy.ts';
export { distinct } from './transforms/distinct.ts';
export type { DistinctOptions } from './transforms/distinct.ts';
export { join } from './transforms/join.ts';
export type { JoinOptions, JoinOn, JoinRight, JoinHow } from './transforms/join.ts';
export { agg, count, sum, mean, min, max, first, last, countDistinct, collectValues } from './lib/operators/aggregates.ts';
export type { Aggregate, Aggregates, MemoryMeter, SumState, CollectAggregateOptions } from './lib/operators/aggregates.ts';
export type { HashOperatorOptions } from './lib/operators/operator-options.ts';

export { toCsv } from './sinks/toCsv.ts';
export type { ToCsvOptions, ToCsvResult } from './sinks/toCsv.ts';
export { toParquet } from './sinks/toParquet.ts';
export { toJsonl } from './sinks/toJsonl.ts';
export type { ToJsonlOptions, ToJsonlResult } from './sinks/toJsonl.ts';
export type { PartitionOptions, PartitionedResult } from './lib/dataset/partitioned-writer.ts';
export type { ToParquetOptions, ToParquetResult } from './sinks/toParquet.ts';
export { ParquetFileWriter } from './lib/formats/parquet/writer.ts';
export type { ParquetCompression, ParquetFieldSpec, ParquetWriteType, ParquetWriteOptions, ParquetWriterState, ParquetColumnKind, ParquetRowGroupMeta } from './lib/formats/parquet/writer.ts';
export { toArrow } from './sinks/toArrow.ts';
export type { ToArrowOptions, ToArrowResult } from './sinks/toArrow.ts';
export { toSpill } from './sinks/toSpill.ts';
export type { ToSpillOptions } from './sinks/toSpill.ts';
export { openSpill, Spilled } from './lib/formats/spill/spilled.ts';
export type { OpenSpillOptions } from './lib/formats/spill/spilled.ts';
export type { SpillManifest } from './lib/formats/spill/manifest.ts';
export { collect } from './sinks/collect.ts';
export type { CollectOptions } from './sinks/collect.ts';
export { drain } from './sinks/drain.ts';
export type { DrainResult } from './sinks/drain.ts';
