/**
 * JSON text for the Arrow path's JSON-carried values (top-level VARIANT, INTERVAL, GEOMETRY),
 * only when parsing the text gives the rows path's value back: a bigint, a Date, bytes, a
 * non-finite number or -0 would come back as something else, so they are refused instead.
 */
import { UnsupportedError } from '../../../core/errors.ts';

/** Why `value` has no exact JSON text, or undefined when it has one. */
function inexact(value: unknown): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number')
    return Number.isFinite(value) && !Object.is(value, -0) ? undefined : `the number ${String(value)}`;
  if (typeof value === 'bigint') return `the integer ${value} (beyond 2^53)`;
  if (Array.isArray(value)) {
    for (const v of value) {
      const why = inexact(v);
      if (why) return why;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value as Record<string, unknown>)) {
      const why = inexact(v);
      if (why) return why;
    }
    return undefined;
  }
  if (value instanceof Date) return `the timestamp ${value.toISOString()}`;
  if (value instanceof Uint8Array) return 'binary bytes';
  return `a ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value} value`;
}

/**
 * `JSON.stringify(value)` when `JSON.parse` of it gives `value` back.
 * @throws UnsupportedError naming the column and what JSON text cannot hold
 */
export function exactJsonText(value: unknown, column: string, file: string): string {
  const why = inexact(value);
  if (why !== undefined) {
    throw new UnsupportedError(
      `Parquet column \`${column}\` travels through Arrow as JSON text, which cannot hold ${why} exactly; read it with output 'rows'`,
      { file },
    );
  }
  return JSON.stringify(value);
}
