/**
 * Checks that a join's key columns can match. A hash join compares canonical encodings, so a
 * string key never equals a number key and an Int32 key never meets a Float64 key's fractions:
 * such a join would silently return nothing. The first batches of each side fix each key column's
 * type (the Arrow type when the batch carries Arrow, else the JS type of the first non-null
 * value); a pair that differs raises {@link JoinKeyMismatchError} naming both columns.
 *
 * A float column whose values in that batch are all integers counts as a number of either kind:
 * its values meet an integer column's (the join compares numbers by value), and a CSV read as
 * Arrow for the join (format negotiation) holds every number column as Float64, integers included,
 * where the same file read as rows held plain numbers.
 */
import { valueFamily } from '../formats/values.ts';
import { DataType, type Data, type RecordBatch } from 'apache-arrow';
import { JoinKeyMismatchError } from '../core/errors.ts';
import type { Row } from '../core/batch.ts';

/** A key column's type as the check sees it: a family and, from Arrow, the exact type. */
interface KeyType {
  family: string;
  /** Arrow family when known: int, float, decimal, ... (Int32 vs Int64 are both `int`). */
  arrow?: string;
  /** The exact type, as an error shows it when two number types differ (Int32, Float64; or bigint). */
  shown: string;
  /** A decimal's scale: keys are its exact text, so two scales never meet (1.00 against 1.000). */
  scale?: number;
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

/** True when every valid value of a float column is an integer. */
function integralFloats(data: Data): boolean {
  // a Data's values start at its first value (apache-arrow slices them; only validity keeps `offset`)
  const values = data.values as Float64Array | Float32Array | Uint16Array;
  if (!(values instanceof Float64Array || values instanceof Float32Array)) return false;
  for (let i = 0; i < data.length; i++) {
    if ((data.nullCount === 0 || data.getValid(i)) && !Number.isInteger(values[i])) return false;
  }
  return true;
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
  observe(side: 'left' | 'right', rows: readonly Row[] | (() => readonly Row[]), arrow: RecordBatch | undefined): void {
    if (this.#done) return;
    const columns = side === 'left' ? this.#left : this.#right;
    const types = side === 'left' ? this.#leftTypes : this.#rightTypes;
    for (const [i, column] of columns.entries()) {
      if (types[i] !== undefined) continue;
      const c = arrow ? arrow.schema.fields.findIndex((f) => f.name === column) : -1;
      const field = c === -1 ? undefined : arrow!.schema.fields[c]!;
      if (field && !DataType.isNull(field.type)) {
        const { family, arrow: exact } = arrowFamily(field.type);
        const integral = exact === 'float' && integralFloats(arrow!.data.children[c]!);
        types[i] = { family, arrow: integral ? undefined : exact, shown: String(field.type) };
        if (DataType.isDecimal(field.type)) types[i]!.scale = field.type.scale;
        continue;
      }
      for (const row of typeof rows === 'function' ? rows() : rows) {
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
      if (l.scale !== undefined && r.scale !== undefined && l.scale !== r.scale) {
        const left = { column: this.#left[i]!, type: l.shown };
        const right = { column: this.#right[i]!, type: r.shown };
        throw new JoinKeyMismatchError(
          `Join key types differ: left column "${left.column}" is a decimal of scale ${l.scale}, right column "${right.column}" of scale ${r.scale}; the join compares decimals as their exact text, so equal values would not match (cast one side to the other's scale first)`,
          left,
          right,
          { stage: 'join' },
        );
      }
      if (mismatch) {
        // families that differ are named as families, so a CSV read as rows or as Arrow fails alike;
        // a decimal is named as one (its values are text, its family string)
        const exact = l.family === r.family || l.arrow === 'decimal' || r.arrow === 'decimal';
        const left = { column: this.#left[i]!, type: exact ? l.shown : l.family };
        const right = { column: this.#right[i]!, type: exact ? r.shown : r.family };
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
