/**
 * `spillway/extend`: building on spillway rather than using it. The three stream adapters a
 * source, transform or sink is made of (copy one of sources/, transforms/ or sinks/ to start),
 * batches, the stage face and its capabilities, brands, error context, the governor's internals,
 * checkpoints, process-wide pipeline defaults, the formatting helpers the CLI uses and every
 * error class.
 *
 * @packageDocumentation
 */
// a Batch built here converts between rows and Arrow at once: load the conversions with the entry
import '../formats/arrow/convert.ts';

export { Batch, isBatch, estimateRowsBytes } from '../core/batch.ts';
export type { Row, BatchPosition } from '../core/batch.ts';
export { BatchSource } from '../core/source.ts';
export type { SourceSpec } from '../core/source.ts';
export { BatchTransform } from '../core/transform.ts';
export type { TransformSpec, PushBatch } from '../core/transform.ts';
export { BatchSink } from '../core/sink.ts';
export type { SinkSpec } from '../core/sink.ts';
export { STAGE, isStage, capabilities } from '../core/stage.ts';
export type {
  StageStats,
  StageKind,
  StageContext,
  StageInfo,
  SpillwayStage,
  GovernorGate,
  SourceProgress,
  StageCapabilities,
  BatchForm,
} from '../core/stage.ts';
export { hasBrand } from '../core/brand.ts';
export type { BrandName } from '../core/brand.ts';
export { describeContext } from '../core/errors.ts';
// every error class, for `instanceof` (the main entry offers the common ones and ErrorCodes)
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
} from '../core/errors.ts';
export type { ErrorContext } from '../core/errors.ts';

export {
  MemoryGovernor,
  defaultGovernor,
  resolveLimit,
  ProcessMemoryProbe,
  systemMemoryLimit,
  defaultMemoryLimit,
  usableHeapLimit,
  memoryBreakdown,
} from '../memory/governor.ts';
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
} from '../memory/governor.ts';
export { estimateBatchSize, AdaptiveBatchSize } from '../memory/batch-size.ts';
export type {
  BatchSizeOption,
  AdaptiveBatchSizeOptions,
  BatchSizeSummary,
  HeadroomSource,
} from '../memory/batch-size.ts';

export { removeCheckpoint, hasCheckpoint, CHECKPOINT_FILE } from '../observe/checkpoint.ts';
export type {
  CheckpointOption,
  CheckpointOptions,
  CheckpointJson,
  SourceCheckpointHooks,
  SinkCheckpointHooks,
  SinkCommit,
} from '../observe/checkpoint.ts';
export { setPipelineDefaults, pipelineDefaults } from '../core/defaults.ts';
export type { PipelineDefaults, PipelineEnd } from '../core/defaults.ts';
export { expectPredicate } from '../dataset/predicate.ts';
export { Spilled } from '../formats/spill/spilled.ts';

export { formatProgress } from '../observe/progress-line.ts';
export type { ProgressStream } from '../observe/progress.ts';
export { parseBytes } from '../core/validate.ts';
export { formatBytes, formatCount, formatDuration, formatRate, formatPercent, formatExact } from '../core/format.ts';
export { withContext } from '../core/errors.ts';
