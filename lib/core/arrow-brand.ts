/**
 * Recognises apache-arrow objects without loading apache-arrow: core modules must not import it
 * (issue 17 item 8: it is ~20 MB and ~150 ms of the import). apache-arrow marks its classes with
 * `Symbol.for` keys and its own `instanceof` checks them, so these agree with `instanceof` for
 * every copy of apache-arrow in the process.
 */
import type { RecordBatch, Schema, Table } from 'apache-arrow';

const RECORD_BATCH = Symbol.for('apache-arrow/RecordBatch');
const SCHEMA = Symbol.for('apache-arrow/Schema');
const TABLE = Symbol.for('apache-arrow/Table');

function marked(value: unknown, key: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[key] === true;
}

/** True when `value` is an apache-arrow RecordBatch (as `value instanceof RecordBatch`). */
export function isArrowRecordBatch(value: unknown): value is RecordBatch {
  return marked(value, RECORD_BATCH);
}

/** True when `value` is an apache-arrow Schema (as `value instanceof Schema`). */
export function isArrowSchema(value: unknown): value is Schema {
  return marked(value, SCHEMA);
}

/** True when `value` is an apache-arrow Table (as `value instanceof Table`). */
export function isArrowTable(value: unknown): value is Table {
  return marked(value, TABLE);
}
