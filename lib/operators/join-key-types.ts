/**
 * Checks that a join's key columns can match. A hash join compares canonical encodings, so a
 * string key never equals a number key and an Int32 key never meets a Float64 key's fractions:
 * such a join would silently return nothing. The first batches of each side fix each key column's
 * type (the Arrow type when the batch carries Arrow, else the JS type of the first non-null
 * value); a pair that differs raises {@link JoinKeyMismatchError} naming both columns.
 */
import { valueFamily } from '../formats/values.ts';
import { DataType, type RecordBatch } from 'apache-arrow';
import { JoinKeyMismatchError } from '../core/errors.ts';
import type { Row } from '../core/batch.ts';

/** A key column's type as the check sees it: a family and, from Arrow, the exact type. */
interface KeyType {
  family: string;
  /** Arrow family when known: int, float, decimal, ... (Int32 vs Int64 are both `int`). */
  arrow?: string;
  shown: string;
}

function arrowFamily(type: DataType): { family: string; arrow: string } {
  if (DataType.isInt(type)) return { family: 'number', arrow: 'int' };
  if (DataType.isFloat(type)) return { family: 'number', arrow: 'float' };
  if (DataType.isDecimal(type)) return { family: 'string', arrow: 'decimal' };
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return { family: 'string', arrow: 'string' };
  if (DataType.isBool(type)) return { family: 'boolean', arrow: 'bool' };
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return { family: 'date', arrow: 'timestamp' };
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type))
    return { family: 'binary', arrow: 'binary' };
  return { family: 'other', arrow: String(type) };
}

/** Learns each key column's type from the first batches of both sides, and compares them. */
export class JoinKeyTypes {
  readonly #left: readonly string[];
  readonly #right: readonly string[];
  readonly #leftTypes: (KeyType | undefined)[];
  readonly #rightTypes: (KeyType | undefined)[];
  #done = false;

  constructor(left: readonly string[], right: readonly string[]) {
    this.#left = left;
    this.#right = right;
    this.#leftTypes = left.map(() => undefined);
    this.#rightTypes = right.map(() => undefined);
  }

  /** Notes the types in a batch of one side (`arrow` when the batch carries it), then checks. */
  observe(side: 'left' | 'right', rows: readonly Row[], arrow: RecordBatch | undefined): void {
    if (this.#done) return;
    const columns = side === 'left' ? this.#left : this.#right;
    const types = side === 'left' ? this.#leftTypes : this.#rightTypes;
    for (const [i, column] of columns.entries()) {
      if (types[i] !== undefined) continue;
      const field = arrow?.schema.fields.find((f) => f.name === column);
      if (field && !DataType.isNull(field.type)) {
        const { family, arrow: exact } = arrowFamily(field.type);
        types[i] = { family, arrow: exact, shown: String(field.type) };
        continue;
      }
      for (const row of rows) {
        const value = (row as Record<string, unknown>)[column];
        if (value === null || value === undefined) continue;
        const family = valueFamily(value);
        types[i] = { family, shown: typeof value === 'bigint' ? 'bigint' : family };
        break;
      }
    }
    this.#check();
  }

  #check(): void {
    let complete = true;
    for (let i = 0; i < this.#left.length; i++) {
      const l = this.#leftTypes[i];
      const r = this.#rightTypes[i];
      if (!l || !r) {
        complete = false;
        continue;
      }
      const mismatch = l.family !== r.family || (l.arrow !== undefined && r.arrow !== undefined && l.arrow !== r.arrow);
      if (mismatch) {
        const left = { column: this.#left[i]!, type: l.shown };
        const right = { column: this.#right[i]!, type: r.shown };
        throw new JoinKeyMismatchError(
          `Join key types differ: left column "${left.column}" is ${left.type}, right column "${right.column}" is ${right.type}; no row could match (cast one side first)`,
          left,
          right,
          { stage: 'join' },
        );
      }
    }
    this.#done = complete;
  }
}
