/**
 * The structured clone a piece falls back to, made exact for PreciseDate: V8's clone keeps a
 * Date's milliseconds only (and gives a plain Date), so a piece holding a PreciseDate is written
 * as the clone of `[records, nanos]`, each Date's nanoseconds in walk order (-1 for a plain Date),
 * and the decoder walks the same Dates in the same order to make them PreciseDates again.
 */
import v8 from 'node:v8';
import { PreciseDate, isPreciseDate } from '../values.ts';
import { UnsupportedError } from '../../core/errors.ts';

/** The first byte of a clone with nanoseconds beside it (a plain clone starts with 0xFF). */
export const CLONED_NANOS = 3;

/** A structured clone of `records`, with the nanoseconds of PreciseDates beside it when it holds any. */
export function cloned(records: readonly unknown[]): Uint8Array {
  const nanos: number[] = [];
  let precise = false;
  walkDates(records, (date) => {
    // -1: a plain Date
    const n = isPreciseDate(date) ? date.nanos : -1;
    if (n !== -1) precise = true;
    nanos.push(n);
    return date;
  });
  if (!precise) return serialized(records);
  const clone = serialized([records, nanos]);
  const piece = new Uint8Array(clone.length + 1);
  piece[0] = CLONED_NANOS;
  piece.set(clone, 1);
  return piece;
}

/**
 * V8's clone of `value`; a value it cannot clone (a function, a symbol: a user aggregate's state
 * holding one) is an UnsupportedError that says so, where V8's DataCloneError had no code.
 */
function serialized(value: unknown): Uint8Array {
  try {
    return v8.serialize(value);
  } catch (error) {
    throw new UnsupportedError(
      `A value cannot be written to a spill file: ${(error as Error).message} Rows and aggregate states that spill must be data a structured clone copies (no functions or symbols)`,
      {},
      { cause: error },
    );
  }
}

/**
 * True when a worker's message clone would not give `records` back as they are: they hold a
 * PreciseDate (a plain Date to the clone) or a Buffer (a plain Uint8Array to it, whose
 * `toString()` is its numbers, not its text) anywhere. {@link cloned} keeps both.
 */
export function cloneLoses(records: readonly unknown[]): boolean {
  let found = false;
  walkDates(
    records,
    (date) => {
      found ||= isPreciseDate(date);
      return date;
    },
    new Set(),
    (view) => {
      found ||= Buffer.isBuffer(view);
    },
  );
  return found;
}

/**
 * Visits every Date inside `value` in a fixed order (array items, object keys, Map entries, Set
 * elements; a shared object once), replacing each by what `visit` returns. A structured clone
 * keeps that order and sharing, so the encoder's walk and the decoder's meet the same Dates.
 */
function walkDates(
  value: unknown,
  visit: (date: Date) => Date,
  seen = new Set<object>(),
  onView?: (view: ArrayBufferView) => void,
): unknown {
  if (value instanceof Date) return visit(value);
  if (onView !== undefined && ArrayBuffer.isView(value)) onView(value);
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || seen.has(value)) return value;
  // the clone keeps an Error's message and stack, not its own properties: both walks skip it
  if (value instanceof Error) return value;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = walkDates(value[i], visit, seen, onView);
      if (item !== value[i]) value[i] = item;
    }
  } else if (value instanceof Map) {
    let changed = false;
    const entries = [...value].map(([k, v]) => {
      const key = walkDates(k, visit, seen, onView);
      const item = walkDates(v, visit, seen, onView);
      changed ||= key !== k || item !== v;
      return [key, item] as const;
    });
    if (changed) {
      value.clear();
      for (const [k, v] of entries) value.set(k, v);
    }
  } else if (value instanceof Set) {
    let changed = false;
    const items = [...value].map((item) => {
      const next = walkDates(item, visit, seen, onView);
      changed ||= next !== item;
      return next;
    });
    if (changed) {
      value.clear();
      for (const item of items) value.add(item);
    }
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = walkDates(record[key], visit, seen, onView);
      if (item !== record[key]) record[key] = item;
    }
  }
  return value;
}

/** Decodes a piece written by {@link cloned} (either form). */
export function decodeCloned(bytes: Uint8Array): unknown[] {
  if (bytes[0] !== CLONED_NANOS) return v8.deserialize(bytes) as unknown[];
  const [records, nanos] = v8.deserialize(bytes.subarray(1)) as [unknown[], number[]];
  let k = 0;
  walkDates(records, (date) => {
    const n = nanos[k++]!;
    return n === -1 ? date : new PreciseDate(date.getTime(), n);
  });
  return records;
}
