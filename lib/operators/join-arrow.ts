/**
 * The join's columnar probe: a left Arrow batch is probed against the in-memory build table
 * without a row object, and the joined batch is built by column. The left columns are gathered by
 * index from the batch (gather.ts: every Arrow type, values as they are); the right columns are
 * built from the table's value arrays with one type each, fixed once from every right value
 * (numbers Float64, strings Utf8, booleans Bool: the types toParquet gives those values as rows,
 * so a file written from a join is the same whichever path ran); a column the table holds in a
 * Float64Array is gathered from it into the output's values at once.
 *
 * Used for inner, left, semi and anti joins that did not partition; the key values are read as
 * the rows path reads them (valueReader: the same JS values, so the same matches). A right and
 * full join (its unmatched right rows come as rows at the end), a partitioned join, a build whose
 * right columns hold values with no such type (output-columns.ts: bigints, dates, objects,
 * undefined, strings with a lone surrogate, mixed kinds, only nulls) or rows lacking columns, and
 * a left batch with a repeated column name take the rows path.
 */
import {
  Field,
  Schema,
  Struct,
  Type,
  makeData,
  type Data,
  type DataType,
  type Float64,
  type RecordBatch,
} from 'apache-arrow';
import { buildColumn, valueReader } from '../formats/arrow/convert.ts';
import { makeRecordBatchFast, repeatsNames } from '../formats/arrow/record-batch.ts';
import { gatherColumn } from './gather.ts';
import { simpleType } from './output-columns.ts';
import { isNested, type InputTypes } from './input-types.ts';
import type { KeyGetter } from './key-encoding.ts';
import { isPlainNumber, type JoinTable } from './join-table.ts';
import type { JoinHow, JoinOutput } from './join-output.ts';

/** A right column of the output: where its values are in the table, its output field. */
/** What a join's columnar probe is made from, beside its table (see {@link ArrowProbe.of}). */
export interface ProbeSpec {
  how: JoinHow;
  leftKeys: readonly string[];
  output: JoinOutput;
  /** The right input's column types (input-types.ts), which the probe's right columns keep. */
  rightTypes?: InputTypes | undefined;
}

interface RightColumn {
  values: readonly unknown[];
  field: Field;
}

/** The probe's cursor: the left row being looked up, read by the key getters. */
interface Cursor {
  i: number;
}

/** Probes left Arrow batches against one built table; see the module comment. */
export class ArrowProbe {
  readonly #table: JoinTable;
  readonly #how: JoinHow;
  readonly #right: RightColumn[];
  readonly #keys: readonly string[];

  private constructor(table: JoinTable, how: JoinHow, keys: readonly string[], right: RightColumn[]) {
    this.#table = table;
    this.#how = how;
    this.#keys = keys;
    this.#right = right;
  }

  /**
   * The probe of `table` (built: its right columns are final), or undefined when this join takes
   * the rows path (see the module comment). `partition`: the table is one partition's of a
   * partitioned join, probed this way only when its right columns are those of the whole right
   * side (a partition's rows may lack a column others have, or be none, and its output batches
   * would then lack that column).
   */
  static of(table: JoinTable, spec: ProbeSpec, partition = false): ArrowProbe | undefined {
    const { how, leftKeys, output, rightTypes } = spec;
    if (how === 'right' || how === 'full' || table.ragged) return undefined;
    if (partition) {
      const all = output.rightColumns;
      if (table.length === 0 || all === undefined || table.names.length !== all.length) return undefined;
      if (!table.names.every((name) => all.includes(name))) return undefined;
    }
    const right: RightColumn[] = [];
    // a table of no rows (every right key null, or no right row) has no columns: the right
    // input's are all null, each of its input type (without one, the rows path names them)
    const none = table.length === 0;
    const names = none ? (output.rightColumns ?? []) : table.names;
    if (how !== 'semi' && how !== 'anti') {
      for (const [c, name] of names.entries()) {
        const target = output.rightName(name);
        if (target === null) continue;
        const values = none ? [] : table.values(c);
        if (none) {
          const input = rightTypes?.column(name, values, target)?.type;
          if (input === undefined || isNested(input)) return undefined;
          right.push({ values, field: new Field(target, input, true) });
          continue;
        }
        // a column the right input typed otherwise than text or doubles (a DECIMAL, a BIGINT, a
        // timestamp, an INTEGER of any width) keeps that type when every value the table holds fits
        // it (built once here to know); every partition's table then gives it alike
        const input = rightTypes?.typeOf(name);
        // (a nested column is not: its values take the rows path, as objects)
        const typed =
          input && input.typeId !== Type.Utf8 && !isDouble(input) && !isNested(input)
            ? rightTypes!.column(name, heldValues(values, table.length), target)?.type
            : undefined;
        const type = typed ?? simpleType(values);
        if (type === undefined) return undefined;
        right.push({ values, field: new Field(target, type, true) });
      }
    }
    return new ArrowProbe(table, how, leftKeys, right);
  }

  /**
   * Joins `batch` (only its rows `only`, in that order, when given), handing the output to `sink`
   * in batches of at most `batchSize` rows; false (nothing done) when the batch cannot take this
   * path (a key column missing, a repeated name).
   */
  async probe(
    batch: RecordBatch,
    batchSize: number,
    sink: (out: RecordBatch) => Promise<void>,
    only?: ArrayLike<number>,
  ): Promise<boolean> {
    const schema = batch.schema;
    if (repeatsNames(schema)) return false;
    const keyData: Data[] = [];
    for (const name of this.#keys) {
      const c = schema.fields.findIndex((f) => f.name === name);
      if (c === -1) return false;
      keyData.push(batch.data.children[c]!);
    }
    // the key values as rows would hold them (valueReader), so matches are the rows path's; a
    // Float64 or 32-bit integer column without nulls is read in place (valueReader gives `values[i]`)
    const keyValues = keyData.map((data, k): ArrayLike<unknown> => {
      if (data.nullCount === 0 && isPlainNumber(data.type)) return data.values as Float64Array | Int32Array;
      const read = valueReader(data, {}, this.#keys[k]);
      const values = new Array<unknown>(data.length);
      for (let i = 0; i < values.length; i++) values[i] = read(i);
      return values;
    });
    const getters: KeyGetter[] = keyValues.map((values) => (cursor) => values[(cursor as Cursor).i]);
    // one key read in place from a typed array (no nulls): looked up as a number, with no getter
    const numbers =
      keyValues.length === 1 && ArrayBuffer.isView(keyValues[0]) ? (keyValues[0] as Float64Array) : undefined;
    const cursor: Cursor = { i: 0 };
    const table = this.#table;
    const how = this.#how;
    const lefts: number[] = [];
    const rights: number[] = [];
    const n = only === undefined ? batch.numRows : only.length;
    for (let j = 0; j < n; j++) {
      const i = only === undefined ? j : only[j]!;
      let head = -1;
      if (numbers !== undefined) head = table.findNumber(numbers[i]!);
      else {
        let nullKey = false;
        for (const values of keyValues) {
          const v = values[i];
          if (v === null || v === undefined) nullKey = true;
        }
        if (!nullKey) {
          cursor.i = i;
          head = table.find(cursor, getters);
        }
      }
      if (how === 'semi') {
        if (head !== -1) lefts.push(i);
      } else if (how === 'anti') {
        if (head === -1) lefts.push(i);
      } else if (head !== -1) table.matchChain(i, head, lefts, rights);
      else if (how === 'left') {
        lefts.push(i);
        rights.push(-1);
      }
      if (lefts.length >= batchSize) {
        await sink(this.#assemble(batch, lefts, rights));
        lefts.length = 0;
        rights.length = 0;
      }
    }
    if (lefts.length > 0) await sink(this.#assemble(batch, lefts, rights));
    return true;
  }

  /** The output batch: left rows `lefts` of `batch`, each beside right row `rights[k]` (-1: none). */
  #assemble(batch: RecordBatch, lefts: readonly number[], rights: readonly number[]): RecordBatch {
    const n = lefts.length;
    const plan = { from: new Uint8Array(n), rows: lefts, length: n };
    const whole = n === batch.numRows && isIdentity(lefts);
    const fields: Field[] = [...batch.schema.fields];
    const children: Data[] = batch.schema.fields.map((field, c) =>
      whole ? batch.data.children[c]! : gatherColumn(field, [batch.data.children[c]!], plan),
    );
    for (const column of this.#right) {
      fields.push(column.field);
      if (column.values instanceof Float64Array && isPlainNumber(column.field.type)) {
        children.push(numberColumn(column.field, column.values, rights));
        continue;
      }
      const values = new Array<unknown>(n);
      for (let k = 0; k < n; k++) {
        const r = rights[k]!;
        values[k] = r === -1 ? null : column.values[r];
      }
      children.push(buildColumn(column.field, values));
    }
    const schema = new Schema(fields, batch.schema.metadata);
    return makeRecordBatchFast(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
  }
}

/** True for a Float64: the type the probe gives a column of numbers from their values alone. */
function isDouble(type: DataType): boolean {
  return type.typeId === Type.Float && isPlainNumber(type);
}

/** The `length` values a table holds of a column (a Float64Array's length is a capacity; join-table.ts). */
function heldValues(values: readonly unknown[] | Float64Array, length: number): readonly unknown[] {
  return values instanceof Float64Array ? Array.from(values.subarray(0, length)) : values;
}

/**
 * The column of right rows `rights` (-1: null) of a column the table holds in a Float64Array
 * (join-table.ts), gathered from it at once: a Float64, or the 32-bit or narrower integer the
 * right input gave it (every value the table holds fits it; see ArrowProbe.of).
 */
function numberColumn(field: Field, from: Float64Array, rights: readonly number[]): Data<Float64> {
  const n = rights.length;
  const values = new (field.type as Float64).ArrayType(n);
  let nullCount = 0;
  for (let k = 0; k < n; k++) {
    const r = rights[k]!;
    if (r === -1) nullCount++;
    else values[k] = from[r]!;
  }
  let nullBitmap: Uint8Array | undefined;
  if (nullCount > 0) {
    nullBitmap = new Uint8Array(((n + 63) >> 6) << 3);
    for (let k = 0; k < n; k++) if (rights[k] !== -1) nullBitmap[k >> 3]! |= 1 << (k & 7);
  }
  return makeData({ type: field.type as Float64, length: n, nullCount, data: values, nullBitmap });
}

/** True when `rows` is 0, 1, 2, ...: the left batch passes whole (a semi or anti join keeping every row, a 1:1 inner join). */
function isIdentity(rows: readonly number[]): boolean {
  for (let k = 0; k < rows.length; k++) if (rows[k] !== k) return false;
  return true;
}
