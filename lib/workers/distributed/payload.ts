/**
 * How batches and results travel through Redis: one binary value per batch, a tag byte then an
 * LZ4 frame. Tag `A`: an Arrow IPC stream (the batch's own bytes when it is held as Arrow, else its
 * rows converted). Tag `V`: the rows as lib/formats/records/record-codec.ts writes them (by shape,
 * or V8's structured clone with a PreciseDate's nanoseconds beside it), used only when Arrow could
 * not give the rows back exactly (bigints, `undefined`, mixed column types, rows of different
 * shapes, Dates inside nested values, PreciseDates, class instances, ...), so results always equal a serial run.
 */
import { decodeRecords, encodeRecords } from '../../formats/records/record-codec.ts';
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { compressFrameSync, decompressFrameSync } from '../../formats/lz4.ts';
import { recordBatchToRows, rowsToRecordBatch } from '../../formats/arrow/convert.ts';
import type { Row } from '../../core/batch.ts';
import { QueueError } from '../../core/errors.ts';

const ARROW = 0x41; // 'A'
const V8 = 0x56; // 'V'

/** A decoded payload: Arrow IPC stream bytes (decoded to rows where they are used), or rows. */
export type Payload = { kind: 'arrow'; ipc: Uint8Array } | { kind: 'v8'; rows: unknown[] };

function frame(tag: number, body: Uint8Array): Buffer {
  const compressed = compressFrameSync(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  const out = Buffer.allocUnsafe(compressed.byteLength + 1);
  out[0] = tag;
  compressed.copy(out, 1);
  return out;
}

/** An Arrow IPC stream, compressed. */
export function encodeIpc(ipc: Uint8Array): Buffer {
  return frame(ARROW, ipc);
}

/** Rows as Arrow IPC when that round-trips exactly, else V8 serialization; compressed either way. */
export function encodeRows(rows: readonly unknown[]): { bytes: Buffer; kind: 'arrow' | 'v8' } {
  if (arrowExact(rows)) {
    try {
      return { bytes: frame(ARROW, tableToIPC(new Table(rowsToRecordBatch(rows as Row[])), 'stream')), kind: 'arrow' };
    } catch {
      // a column mixing types: Arrow has no type for it
    }
  }
  return { bytes: frame(V8, encodeRecords(rows)), kind: 'v8' };
}

/** Reads a payload written by {@link encodeIpc} or {@link encodeRows}; throws a QueueError when it is not one. */
export function decodePayload(bytes: Uint8Array, what: string): Payload {
  const tag = bytes[0];
  if (bytes.byteLength < 2 || (tag !== ARROW && tag !== V8))
    throw new QueueError(`The payload of ${what} is not a spillway batch`, {}, 'payload');
  let body: Buffer;
  try {
    body = decompressFrameSync(Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1));
  } catch (error) {
    throw new QueueError(`The payload of ${what} is corrupt (LZ4)`, {}, 'payload', { cause: error });
  }
  if (tag === ARROW) return { kind: 'arrow', ipc: body };
  const rows = decodeRecords(body) as unknown;
  if (!Array.isArray(rows)) throw new QueueError(`The payload of ${what} does not hold rows`, {}, 'payload');
  return { kind: 'v8', rows };
}

/** Rows from an IPC stream, converted as `Batch.rows` converts them (so every path gives the same rows). */
export function ipcToRows(ipc: Uint8Array): unknown[] {
  return tableFromIPC(ipc).batches.flatMap((batch) => recordBatchToRows(batch));
}

/** The rows of a payload. */
export function payloadRows(payload: Payload): unknown[] {
  return payload.kind === 'v8' ? payload.rows : ipcToRows(payload.ipc);
}

// ---------------------------------------------------------------- exactness

/** `String.prototype.isWellFormed` (Node 20+; not in the ES2023 typings). */
function wellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** True when a scalar comes back from Arrow as it went in (see lib/arrow/convert.ts). */
function scalarExact(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
    case 'boolean':
      return true;
    case 'string':
      return wellFormed(value); // lone surrogates do not survive UTF-8
    case 'object':
      if (value === null) return true;
      if (value instanceof Date) return value.constructor === Date && !Number.isNaN(value.getTime());
      if (value instanceof Uint8Array) return value.constructor === Uint8Array;
      return nestedExact(value, 0);
    default:
      return false; // undefined becomes null, bigint may come back as a number
  }
}

/** Nested values travel as JSON: exact for JSON-safe data only. */
function nestedExact(value: unknown, depth: number): boolean {
  if (depth > 64) return false;
  switch (typeof value) {
    case 'string':
      return wellFormed(value);
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !nestedExact(value[i], depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value)
        if (key === '__proto__' || !nestedExact((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/**
 * True when `rows` convert to Arrow and back to equal rows: all plain objects with the same keys in
 * the same order (or all arrays of one length), and every value exact (see {@link scalarExact}).
 */
export function arrowExact(rows: readonly unknown[]): boolean {
  const first = rows[0];
  if (first === undefined || first === null || typeof first !== 'object') return false;
  if (Array.isArray(first)) {
    const width = first.length;
    if (width === 0) return false;
    for (const row of rows) {
      if (!Array.isArray(row) || row.length !== width) return false;
      for (let i = 0; i < width; i++) if (!(i in row) || !scalarExact(row[i])) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(first) !== Object.prototype) return false;
  const keys = Object.keys(first);
  if (keys.length === 0 || keys.includes('__proto__')) return false;
  for (const row of rows) {
    if (row === null || typeof row !== 'object' || Object.getPrototypeOf(row) !== Object.prototype) return false;
    const own = Object.keys(row);
    if (own.length !== keys.length) return false;
    for (let k = 0; k < keys.length; k++) {
      if (own[k] !== keys[k] || !scalarExact((row as Record<string, unknown>)[keys[k]!])) return false;
    }
  }
  return true;
}
