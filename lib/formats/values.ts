/**
 * Value types the formats share: how int64 columns become JavaScript values, a Date that
 * keeps the sub-millisecond digits of micro- and nanosecond timestamps, and the family of a value.
 */

/**
 * The family of a non-null JavaScript value, for type checks across batches or files of row
 * objects: numbers and bigints are one family (`number`), then string, boolean, date, binary, object.
 */
export function valueFamily(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      if (value instanceof Date) return 'date';
      if (value instanceof Uint8Array) return 'binary';
      return 'object';
  }
}

/** How 64-bit integers (Int64, UInt64, durations) come out: `auto` = number when safe, else bigint. */
export type Int64Mode = 'number' | 'bigint' | 'auto';

/**
 * A Date that keeps nanoseconds below the millisecond (`nanos`, 0..999999), for TIMESTAMP MICROS
 * and NANOS and INT96 columns. `getTime()` is floored to the millisecond; `toISOString()` (and so
 * `JSON.stringify`) prints the extra digits when there are any.
 */
export class PreciseDate extends Date {
  /** Nanoseconds after `getTime()`'s millisecond, 0..999999. */
  readonly nanos: number;
  constructor(millis: number, nanos: number) {
    super(millis);
    this.nanos = nanos;
  }

  override toISOString(): string {
    const iso = super.toISOString();
    if (this.nanos === 0) return iso;
    const digits = String(this.nanos).padStart(6, '0').replace(/0+$/, '');
    return `${iso.slice(0, -1)}${digits}Z`;
  }
}
