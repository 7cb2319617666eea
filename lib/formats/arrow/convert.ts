/**
 * Rows <-> Arrow RecordBatches, one import for the callers: the schema of rows (infer.ts), Arrow
 * columns and batches built from rows (build.ts), schemas that change between batches (widen.ts)
 * and rows read back from Arrow (to-rows.ts). Loading it fills core's slot for these
 * conversions (lib/core/arrow-kernels.ts), which core reaches without importing apache-arrow.
 */
import { provideArrowKernels } from '../../core/arrow-kernels.ts';
import { recordBatchBytes, rowsToRecordBatch } from './build.ts';
import { recordBatchToRows, valueReader } from './to-rows.ts';
import { primitiveBatch, primitiveValued, rebuildsAsItself } from './primitives.ts';
import { isBatchSelectable, keepsAll, selectRows } from './select.ts';
import { selectColumns, withColumns } from './record-batch.ts';

export type { Int64Mode } from '../values.ts';
export { JSON_METADATA_KEY, ROWS_METADATA_KEY, inferSchema } from './infer.ts';
export { buildColumn, recordBatchBytes, rowsToRecordBatch, type FromRowsOptions } from './build.ts';
export { castRecordBatch, schemasEqual, unifySchemas } from './widen.ts';
export { recordBatchToRows, valueReader, type ToRowsOptions, type ValueReader } from './to-rows.ts';

provideArrowKernels({
  recordBatchToRows,
  rowsToRecordBatch,
  recordBatchBytes,
  valueReader,
  primitiveValued,
  isBatchSelectable,
  keepsAll,
  selectRows,
  selectColumns,
  withColumns,
  primitiveBatch,
  rebuildsAsItself,
});
