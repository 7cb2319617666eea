/**
 * A file column re-typed by schema drift in the first row group (columns.ts): its footer field
 * takes the wider kind, and what a column all null so far learns from the first batch with values.
 */
import type { DataType } from 'apache-arrow';
import type { ColumnBuffer } from '../encode/column-buffer.ts';
import { decimalOfArrow, isLocalTimestamp, type ColumnKind } from '../encode/schema.ts';
import type { Field } from './options.ts';

/**
 * Sets `field` (and `col`'s decimal) to kind `wider`, which Arrow values of `type` widened it to.
 * A column all null so far takes a zone-less timestamp's wall-clock flag and the first decimal's
 * precision and scale: without them a dataset whose DECIMAL column only a later file held failed
 * with a bare TypeError.
 */
export function widenField(field: Field, col: ColumnBuffer, wider: ColumnKind, type: DataType): void {
  if (field.type === 'null' && isLocalTimestamp(type)) field.local = true;
  if (field.type === 'null' && wider === 'decimal') {
    const decimal = decimalOfArrow(type);
    if (decimal) {
      field.decimal = decimal;
      col.decimal = decimal;
    }
  }
  field.type = wider;
}
