/**
 * The Arrow conversions core needs (rows <-> RecordBatch, byte counts, value readers, row
 * selection), reached through a slot rather than a static import, so that importing spillway
 * does not load apache-arrow (issue 17 item 8). lib/formats/arrow/convert.ts fills the slot when
 * it loads; the stream adapters load it (lib/core/arrow-load.ts) before the first batch that
 * holds Arrow, and every module that makes Arrow from rows imports convert.ts itself.
 */
import type { Data, Field, RecordBatch } from 'apache-arrow';
import { UnsupportedError } from './errors.ts';
import type { Row } from './row.ts';
import type { SniffedTypes } from './sniffed-types.ts';
import type { PrimitiveType } from '../formats/arrow/primitives.ts';

/** A reader of one column's values by row index. */
export type ArrowValueReader = (i: number) => unknown;

/** What lib/formats/arrow/convert.ts and select.ts provide to core. */
export interface ArrowKernels {
  recordBatchToRows(batch: RecordBatch, options?: { selection?: ArrayLike<number> }): Row[];
  rowsToRecordBatch(
    rows: readonly Row[],
    options: { columns?: readonly string[]; sniffed?: SniffedTypes },
  ): RecordBatch;
  recordBatchBytes(batch: RecordBatch): number;
  valueReader(data: Data, options: { int64?: 'bigint' }, column: string): ArrowValueReader;
  /** True when rows hold only primitives for `field` (lib/formats/arrow/primitives.ts). */
  primitiveValued(field: Field): boolean;
  isBatchSelectable(batch: RecordBatch): boolean;
  keepsAll(selection: ArrayLike<number>, numRows: number): boolean;
  selectRows(batch: RecordBatch, selection: ArrayLike<number>): RecordBatch;
  selectColumns(batch: RecordBatch, names: readonly string[], as?: readonly string[]): RecordBatch;
  /** `batch` with `added`'s columns set (replaced in place or appended; lib/formats/arrow/record-batch.ts). */
  withColumns(batch: RecordBatch, added: RecordBatch): RecordBatch;
  /** A batch of rows' columns of known primitive JS types (lib/formats/arrow/primitives.ts). */
  primitiveBatch(
    rows: readonly Row[],
    columns: readonly { readonly name: string; readonly type: PrimitiveType }[],
  ): RecordBatch;
  /** True when `field` is the column primitiveBatch would build from its values (lib/formats/arrow/primitives.ts). */
  rebuildsAsItself(field: Field): boolean;
}

let kernels: ArrowKernels | undefined;

/** Fills the slot; called once by lib/formats/arrow/convert.ts as it loads. */
export function provideArrowKernels(provided: ArrowKernels): void {
  kernels ??= provided;
}

/** True once the Arrow conversions have loaded. */
export function hasArrowKernels(): boolean {
  return kernels !== undefined;
}

/** The Arrow conversions; throws when they have not loaded yet (a bug: a caller skipped the load). */
export function arrowKernels(): ArrowKernels {
  if (kernels === undefined)
    throw new UnsupportedError(
      'Arrow conversions were used before spillway loaded them: await loadArrowKernels() first',
      {},
    );
  return kernels;
}
