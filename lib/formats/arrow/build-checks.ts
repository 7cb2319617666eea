/**
 * What every column builder checks (build.ts, build-temporal.ts): which values are null, and the
 * error for a value its column's type cannot hold.
 */
import type { Field } from 'apache-arrow';
import { UnsupportedError, describeValue } from '../../core/errors.ts';

/** The validity bitmap of `values` (null and undefined are nulls) and how many are null. */
export function validityOf(values: readonly unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(((values.length + 63) >> 6) << 3);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nullCount };
}

/** The error for `value` in column `field`, naming the column's type and the value. */
export function mismatch(field: Field, value: unknown): UnsupportedError {
  return new UnsupportedError(
    `Column "${field.name}" is ${String(field.type)} in the schema but holds ${describeValue(value)}`,
    {},
  );
}
