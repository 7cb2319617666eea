/**
 * A join's output of no rows, with its columns: what the join emits when no row matched (or an
 * input had none), so that a sink still writes the schema. Without it, a join whose keys never
 * met failed in toParquet ("Cannot infer a Parquet schema without rows") and toCsv wrote no header.
 */
import { Field, type RecordBatch } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import { inferSchema } from '../formats/arrow/infer.ts';
import { emptyRecordBatch } from '../formats/arrow/record-batch.ts';
import type { JoinHow, JoinOutput } from './join-output.ts';

/** The right input's columns as far as the build saw them: an Arrow batch's fields, or its first rows. */
export class RightColumns {
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
    return this.#fields ?? (this.#sample && inferSchema(this.#sample).fields);
  }
}

/**
 * The output of no rows for left input columns `left`: semi and anti joins give the left columns;
 * the others the left columns, then the right ones as {@link JoinOutput} names them (a shared
 * key once), every column nullable. Undefined when the right input's columns are unknown (it had
 * no batch) or a type has no empty column in apache-arrow.
 */
export function emptyJoin(
  left: RecordBatch,
  right: RightColumns,
  output: JoinOutput,
  how: JoinHow,
): RecordBatch | undefined {
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
