/**
 * `spillway/parquet`: Parquet beyond `fromParquet` and `toParquet`. The file writer those use
 * (for writing row groups yourself), the value types the reader produces (`PreciseDate`,
 * intervals) and what `inspectParquet` describes.
 *
 * @packageDocumentation
 */
export { ParquetFileWriter } from '../formats/parquet/writer.ts';
export type {
  ParquetCompression,
  ParquetFieldSpec,
  ParquetWriteType,
  ParquetWriteOptions,
  ParquetWriterState,
  ParquetColumnKind,
  ParquetRowGroupMeta,
} from '../formats/parquet/writer.ts';
export { PreciseDate } from '../formats/parquet/types.ts';
export type { ParquetColumn, ParquetColumnType } from '../formats/parquet/types.ts';
export type { RenamedColumn } from '../formats/parquet/read/names.ts';
export type { ParquetInterval, InvalidUtf8 } from '../formats/parquet/read/values.ts';
export { inspectParquet } from '../formats/parquet/inspect.ts';
export type {
  ParquetInspection,
  ParquetSchemaNode,
  ParquetRowGroupInfo,
  ParquetChunkInfo,
  ParquetChunkStatistics,
  InspectParquetOptions,
} from '../formats/parquet/inspect.ts';
