/**
 * spillway: push datasets far larger than memory through your own code.
 *
 * Sources read files chunk by chunk into batches of rows, transforms run your functions per row
 * or per batch, sinks write the results; `pipeline()` runs them with backpressure and returns the
 * sink's output and the run's stats.
 *
 * This entry holds what a pipeline author uses. The rest lives behind subpaths, each a file in
 * lib/entry/: `spillway/arrow` (rows <-> Arrow, codecs, views), `spillway/parquet` (the writer,
 * Parquet value types), `spillway/workers` (the worker pool), `spillway/distributed` (the BullMQ
 * backend; needs `npm install bullmq ioredis`) and `spillway/extend` (authoring stages, governor
 * internals, checkpoints, formatting, every error class). test/api/exports.test.ts pins the list of values below.
 *
 * @packageDocumentation
 */
export { pipeline } from './lib/core/pipeline.ts';
export type { PipelineOptions, PipelineStage, PipelineFunction } from './lib/core/pipeline.ts';
export type { PipelineResult, PipelineStats } from './lib/core/stats.ts';
export type { Row } from './lib/core/batch.ts';
export type { StageStats } from './lib/core/stage.ts';
// the errors a pipeline author handles; every other class is told apart by `code` (ErrorCodes),
// and offered for `instanceof` by `spillway/extend`
export {
  SpillwayError,
  ValidationError,
  AbortError,
  StageError,
  CollectLimitError,
  MemoryLimitError,
  ErrorCodes,
} from './lib/core/errors.ts';
export type {
  CsvParseError,
  JsonParseError,
  IoError,
  FormatError,
  UnsupportedError,
  WorkerError,
  SchemaMismatchError,
  SpillError,
  SpillCorruptError,
  CheckpointError,
  QueueError,
  JoinKeyMismatchError,
} from './lib/core/errors.ts';
export type { ErrorCode, ErrorContext, WorkerFailureReason, QueueFailureReason } from './lib/core/errors.ts';
// stream-chain's sentinels: what a row function returns to drop a row, emit several, or stop
export { none, stop, many, Stop } from 'stream-chain/defs.js';

// what pipeline options, progress and reports refer to
export type { CheckpointOption, CheckpointOptions } from './lib/observe/checkpoint.ts';
export { formatReport } from './lib/observe/report.ts';
export type { ReportOptions } from './lib/observe/report.ts';
export type { ProgressEvent, ProgressOption, ProgressOptions, ProgressStage } from './lib/observe/progress.ts';
export type { DashboardOption, DashboardOptions } from './lib/observe/dashboard/dashboard.ts';
export type { Timeline, TimelineMemory } from './lib/observe/timeline.ts';
export { MemoryGovernor } from './lib/memory/governor.ts';
export type {
  MemoryLevel,
  MemoryGovernorOptions,
  MemorySummary,
  MemorySample,
  LevelTimes,
} from './lib/memory/governor.ts';
export type { BatchSizeOption } from './lib/memory/batch-size.ts';
export type { ErrorPolicy, DeadLetterRecord } from './lib/io/dead-letter.ts';
export type { ByteSize } from './lib/core/validate.ts';
export type { Compression } from './lib/formats/arrow/codecs.ts';
export type { Int64Mode } from './lib/formats/arrow/convert.ts';

// sources
export { fromCsv } from './sources/fromCsv.ts';
export type { FromCsvOptions } from './sources/fromCsv.ts';
export type { CsvSchema, CsvColumnType } from './lib/formats/csv/cast.ts';
export { inspectCsv } from './lib/formats/csv/read/inspect-lazy.ts';
export type { CsvDescription } from './lib/formats/csv/read/inspect.ts';
export type { DetectedType as CsvDetectedType } from './lib/formats/csv/read/detect-types.ts';
export { fromParquet } from './sources/fromParquet.ts';
export type { FromParquetOptions } from './sources/fromParquet.ts';
export type { ParquetColumn, ParquetColumnType } from './lib/formats/parquet/types.ts';
export { inspectParquet } from './lib/formats/parquet/inspect-lazy.ts';
export type {
  ParquetInspection,
  ParquetSchemaNode,
  ParquetRowGroupInfo,
  ParquetChunkInfo,
  ParquetChunkStatistics,
  InspectParquetOptions,
} from './lib/formats/parquet/inspect.ts';
export { inspectArrow } from './lib/formats/arrow/inspect-lazy.ts';
export type { ArrowInspection, ArrowFieldInfo, InspectArrowOptions } from './lib/formats/arrow/inspect.ts';
export { fromArrow } from './sources/fromArrow.ts';
export type { FromArrowOptions } from './sources/fromArrow.ts';
export { fromIterable } from './sources/fromIterable.ts';
export type { FromIterableOptions } from './sources/fromIterable.ts';
export { fromJsonl } from './sources/fromJsonl.ts';
export type { FromJsonlOptions } from './sources/fromJsonl.ts';
export type { DatasetOptions } from './lib/dataset/multi-file.ts';
export type { DatasetInput } from './lib/dataset/expand.ts';
export type { HiveType, HiveValue } from './lib/dataset/hive.ts';
export type { Predicate, PredicateValue, ComparisonOp } from './lib/dataset/predicate.ts';

// transforms
export { map } from './transforms/map.ts';
export { filter } from './transforms/filter.ts';
export { select } from './transforms/select.ts';
export type { SelectRenames } from './transforms/select.ts';
export { flatMap } from './transforms/flatMap.ts';
export type { RowOptions, ViewRowOptions } from './lib/core/row-stage.ts';
export type { RowInput } from './lib/core/row-function.ts';
export { mapBatch } from './transforms/mapBatch.ts';
export type { MapBatchOptions } from './transforms/mapBatch.ts';
export { batch } from './transforms/batch.ts';
export type { BatchOptions } from './transforms/batch.ts';
export { parallel } from './transforms/parallel.ts';
export type { ParallelStageOptions } from './transforms/parallel.ts';
export type { ParallelOptions } from './lib/workers/pool/options.ts';
export type {
  ParallelBackendOption,
  BullmqBackendOptions,
  RedisConnectionOptions,
} from './lib/workers/distributed/options.ts';
export { groupBy, mergeGroups } from './transforms/groupBy.ts';
export { partialGroups } from './lib/operators/partial-groups.ts';
export type { GroupByOptions } from './transforms/groupBy.ts';
export { agg } from './lib/operators/aggregates.ts';
export type { Aggregate, Aggregates, CollectAggregateOptions } from './lib/operators/aggregates.ts';
export type { HashOperatorOptions } from './lib/operators/operator-options.ts';
export { distinct } from './transforms/distinct.ts';
export type { DistinctOptions } from './transforms/distinct.ts';
export { join } from './transforms/join.ts';
export type { JoinOptions, JoinOn, JoinRight, JoinHow } from './transforms/join.ts';
export { sort } from './transforms/sort.ts';
export type { SortOptions } from './transforms/sort.ts';
export { topK } from './transforms/topK.ts';
export type { TopKOptions } from './transforms/topK.ts';
export { limit } from './transforms/limit.ts';
export type { LimitOptions } from './transforms/limit.ts';
export type { SortKey, SortKeys, SortOrder, NullsOrder, Collation } from './lib/operators/sort-key-spec.ts';
export type { OperatorOptions } from './lib/operators/operator-options.ts';

// sinks
export { toCsv } from './sinks/toCsv.ts';
export type { ToCsvOptions, ToCsvResult } from './sinks/toCsv.ts';
export { toParquet } from './sinks/toParquet.ts';
export type { ToParquetOptions, ToParquetResult } from './sinks/toParquet.ts';
export type { ParquetCompression, ParquetFieldSpec, ParquetWriteType } from './lib/formats/parquet/writer.ts';
export { toJsonl } from './sinks/toJsonl.ts';
export type { ToJsonlOptions, ToJsonlResult } from './sinks/toJsonl.ts';
export type { PartitionOptions, PartitionedResult } from './lib/dataset/partitioned-writer.ts';
export { configureRemote, closeRemote } from './lib/dataset/remote/index.ts';
export type { RemoteSettings, S3ClientLike } from './lib/dataset/remote/index.ts';
export { toArrow } from './sinks/toArrow.ts';
export type { ToArrowOptions, ToArrowResult } from './sinks/toArrow.ts';
export { toSpill } from './sinks/toSpill.ts';
export type { ToSpillOptions } from './sinks/toSpill.ts';
export { openSpill } from './lib/formats/spill/open-lazy.ts';
export type { Spilled, OpenSpillOptions } from './lib/formats/spill/spilled.ts';
export type { SpillManifest } from './lib/formats/spill/manifest.ts';
export { collect } from './sinks/collect.ts';
export type { CollectOptions } from './sinks/collect.ts';
export { drain } from './sinks/drain.ts';
export type { DrainResult } from './sinks/drain.ts';
