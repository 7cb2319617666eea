/**
 * `spillway/arrow`: Apache Arrow at the edges of a pipeline. Rows <-> record batches (one schema
 * inference for both), the IPC compression codecs spillway registers (lz4, zstd), zero-copy row
 * selection and read-only row views over a batch.
 *
 * @packageDocumentation
 */
export { registerArrowCodecs } from '../formats/arrow/codecs.ts';
export type { Compression } from '../formats/arrow/codecs.ts';
export {
  rowsToRecordBatch,
  recordBatchToRows,
  inferSchema,
  unifySchemas,
  castRecordBatch,
  schemasEqual,
  recordBatchBytes,
} from '../formats/arrow/convert.ts';
export type { ToRowsOptions, FromRowsOptions, Int64Mode } from '../formats/arrow/convert.ts';
export { selectRows, isBatchSelectable } from '../formats/arrow/select.ts';
export type { RowSelection } from '../formats/arrow/select.ts';
export { RowViewer, isViewable } from '../core/row-view.ts';
export { inspectArrow } from '../formats/arrow/inspect.ts';
export type { ArrowInspection, ArrowFieldInfo, InspectArrowOptions } from '../formats/arrow/inspect.ts';
