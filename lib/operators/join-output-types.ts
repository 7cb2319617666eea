/**
 * The types of a join's output columns, where its values alone would not give them:
 *
 * - its output of no rows, emitted when no row matched (or an input had none), so that a sink
 *   still writes the schema (a join whose keys never met failed in toParquet, "Cannot infer a
 *   Parquet schema without rows", and toCsv wrote no header);
 * - the rows its rows path outputs (a right or full join, a partitioned join on several keys, rows
 *   in), as a batch of the inputs' types for the columns whose values do not say their type: a
 *   BIGINT holds numbers and bigints (toParquet typed it DOUBLE from the first batch, then refused
 *   a bigint), a DECIMAL its text, a DATE or TIME a Date or text, an INTEGER of any width or a
 *   FLOAT numbers (a DOUBLE from them), a LIST, STRUCT or MAP objects (JSON text from them, so the
 *   rows stayed rows and every column lost its type).
 */
import { Field, Precision, Type, type DataType, type RecordBatch } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import { inferSchema } from '../formats/arrow/infer.ts';
import { ROWS_METADATA_KEY } from '../formats/arrow/metadata-keys.ts';
import { emptyRecordBatch } from '../formats/arrow/record-batch.ts';
import { InputTypes, asSinkTypes, isNested, typedBatch } from './input-types.ts';
import type { JoinHow, JoinOutput } from './join-output.ts';
import type { EmitRows } from './operator-transform.ts';

/** The right input's columns as far as the build saw them: an Arrow batch's fields, or its first rows. */
class RightColumns {
  #fields: readonly Field[] | undefined;
  #sample: readonly Row[] | undefined;

  /** Notes a chunk of the build (an Arrow batch of any rows, or rows); the first one says. */
  note(chunk: RecordBatch | readonly Row[]): void {
    if (this.#fields || this.#sample) return;
    if (Array.isArray(chunk)) {
      if (chunk.length > 0) this.#sample = chunk.slice(0, 64);
    } else this.#fields = (chunk as RecordBatch).schema.fields;
  }

  /** The fields: the Arrow batch's, or typed from the first rows' values as a sink would type them. */
  fields(): readonly Field[] | undefined {
    return this.#fields ?? (this.#sample && inferSchema(this.#sample).fields.map(asSinkTypes));
  }
}

/**
 * The output of no rows for left input columns `left`: semi and anti joins give the left columns;
 * the others the left columns, then the right ones as {@link JoinOutput} names them (a shared
 * key once), every column nullable. Undefined when the right input's columns are unknown (it had
 * no batch) or a type has no empty column in apache-arrow.
 */
function emptyJoin(left: RecordBatch, right: RightColumns, output: JoinOutput, how: JoinHow): RecordBatch | undefined {
  if (how === 'semi' || how === 'anti') return left;
  const rightFields = right.fields();
  if (!rightFields) return undefined;
  output.noteLeftNames(left.schema.fields.map((f) => f.name));
  const fields = left.schema.fields.map((f) => new Field(f.name, f.type, true, f.metadata));
  for (const field of rightFields) {
    const name = output.rightName(field.name);
    if (name !== null) fields.push(new Field(name, field.type, true, field.metadata));
  }
  try {
    return emptyRecordBatch(fields);
  } catch {
    return undefined;
  }
}

/**
 * True for a type the rows path's values do not keep: inferred from them, it would be another (an
 * integer of any width or a FLOAT a DOUBLE, a LIST of integers a DOUBLE[]; a LIST or STRUCT column
 * made the whole batch rows, every column then typed from its values). A DOUBLE, text, a boolean
 * or a binary are what their values give.
 */
function lostInRows(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Float:
      return (type as unknown as { precision: number }).precision !== Precision.DOUBLE;
    case Type.Int:
    case Type.Decimal:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
      return true;
    default:
      return isNested(type);
  }
}

/** True for an integer narrower than 64 bits or a FLOAT: a value of another number type may not fit it. */
function narrow(type: DataType): boolean {
  if (type.typeId === Type.Int) return (type as unknown as { bitWidth: number }).bitWidth < 64;
  return type.typeId === Type.Float && (type as unknown as { precision: number }).precision !== Precision.DOUBLE;
}

/** A join's output types (see the module comment), noted from its inputs as they come. */
export class JoinOutputTypes {
  /** The left input's column types (noted from each batch). */
  readonly #left = new InputTypes();
  /** The right input's column types (noted from each chunk of the build; the columnar probe's too, see HashJoinOptions.rightTypes). */
  readonly right = new InputTypes();
  readonly #rightColumns = new RightColumns();
  readonly #output: JoinOutput;
  readonly #how: JoinHow;
  /** By output name, the fields to build rows with; fixed at the first output. */
  #typed: Map<string, Field> | undefined;

  constructor(output: JoinOutput, how: JoinHow) {
    this.#output = output;
    this.#how = how;
  }

  /** Notes a chunk of the right input: its rows, its Arrow batch, or both. */
  noteRight(rows: readonly Row[] | undefined, arrow: RecordBatch | undefined): void {
    this.#rightColumns.note(arrow ?? rows!);
    // rows of array shape are rows to the join (hash-join.ts reads them by name): untyped
    this.right.note(arrow?.schema.metadata.get(ROWS_METADATA_KEY) === 'array' ? undefined : arrow);
  }

  /** Notes a left batch: its Arrow columns, or (undefined) that it came as rows. */
  noteLeft(arrow: RecordBatch | undefined): void {
    this.#left.note(arrow);
  }

  /** The output of no rows for left input columns `left` (see emptyJoin). */
  empty(left: RecordBatch): RecordBatch | undefined {
    return emptyJoin(left, this.#rightColumns, this.#output, this.#how);
  }

  /** `emit` for the rows path: rows go out {@link JoinOutputTypes.typed}. */
  typedEmit(emit: EmitRows): EmitRows {
    return (rows) => emit(Array.isArray(rows) ? this.typed(rows) : rows);
  }

  /** `rows` as one batch of the input types where values alone lose them (see typedBatch); the rows themselves when none would, or a value does not fit. */
  typed(rows: Row[]): RecordBatch | Row[] {
    const typed = (this.#typed ??= this.#plan());
    if (typed.size === 0 || rows.length === 0) return rows;
    return typedBatch(rows, undefined, (name) => typed.get(name)) ?? rows;
  }

  #plan(): Map<string, Field> {
    const typed = new Map<string, Field>();
    for (const field of this.#left.fields()) if (lostInRows(field.type)) typed.set(field.name, field);
    const right = new Map(this.right.fields().map((field) => [field.name, field]));
    for (const field of right.values()) {
      const name = this.#output.rightName(field.name);
      if (name !== null && lostInRows(field.type)) typed.set(name, new Field(name, field.type, true, field.metadata));
    }
    // a shared key holds the right value on rows only the right has: a narrow number type (an
    // INTEGER, a FLOAT) the left gave it is kept only when the right gave it the same
    for (const name of this.#output.rightColumns ?? []) {
      const type = typed.get(name)?.type;
      if (
        type &&
        narrow(type) &&
        this.#output.rightName(name) === null &&
        String(right.get(name)?.type) !== String(type)
      )
        typed.delete(name);
    }
    return typed;
  }
}
