/**
 * The Arrow fields a groupBy's or distinct's input gave its columns, so that its output keeps
 * their types. A key or a kept row passes through JS values (a DECIMAL as its exact text, a BIGINT
 * as a number or a bigint, a timestamp as a Date); built from the values alone it came out as text
 * or doubles, and a BIGINT column whose first values were small numbers and later ones bigints was
 * refused by toParquet. One tracker serves every table of an aggregation, before and after it
 * spills. A column is typed only while every Arrow batch gave it the same field and no batch came
 * as rows; a type the builders cannot make from values exactly is left to the output's own typing.
 */
import { Field, Float64, Schema, Type, type Data, type DataType, type RecordBatch } from 'apache-arrow';
import { UnsupportedError } from '../core/errors.ts';
import type { Row } from '../core/batch.ts';
import { buildColumn, rowsToRecordBatch } from '../formats/arrow/build.ts';
import { emptyRecordBatch } from '../formats/arrow/record-batch.ts';
import { inferSchema } from '../formats/arrow/infer.ts';
import { JSON_METADATA_KEY } from '../formats/arrow/metadata-keys.ts';
import { aggregateSpec, type Aggregate } from './aggregates.ts';

/** True for the types lib/formats/arrow/build.ts builds from JS values exactly. */
function rebuilt(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Int: {
      const int = type as unknown as { bitWidth: number; isSigned: boolean };
      return int.isSigned && (int.bitWidth === 32 || int.bitWidth === 64);
    }
    case Type.Float:
      return (type as unknown as { precision: number }).precision === 2;
    case Type.Timestamp:
    case Type.Date:
    case Type.Time:
    case Type.Decimal:
    case Type.Bool:
    case Type.Utf8:
    case Type.Binary:
      return true;
    default:
      return false;
  }
}

function sameField(a: Field, b: Field): boolean {
  return String(a.type) === String(b.type) && a.metadata.get(JSON_METADATA_KEY) === b.metadata.get(JSON_METADATA_KEY);
}

/** See the module comment. */
export class InputTypes {
  /** By column name, in input order: its field, or null once it had two. */
  readonly #fields = new Map<string, Field | null>();
  #rows = false;

  /** Notes the fields of an Arrow input batch. */
  noteArrow(batch: RecordBatch): void {
    for (const field of batch.schema.fields) {
      const seen = this.#fields.get(field.name);
      if (seen === undefined) this.#fields.set(field.name, field);
      else if (seen !== null && !sameField(seen, field)) this.#fields.set(field.name, null);
    }
  }

  /** Rows came: no column is typed from here on. */
  noteRows(): void {
    this.#rows = true;
  }

  /** Notes an input batch: its Arrow fields, or (undefined) that it came as rows. */
  note(batch: RecordBatch | undefined): void {
    if (batch) this.noteArrow(batch);
    else this.noteRows();
  }

  /** True when column `name` has an input type other than text (text is built from its bytes). */
  retyped(name: string): boolean {
    const type = this.typeOf(name);
    return type !== undefined && type.typeId !== Type.Utf8;
  }

  /** Column `name`'s input type, when it has one the builders make from values. */
  typeOf(name: string): DataType | undefined {
    return this.#fieldOf(name)?.type;
  }

  /** The typed columns' fields, in input order (none once rows came). */
  fields(): Field[] {
    const out: Field[] = [];
    for (const name of this.#fields.keys()) {
      const field = this.#fieldOf(name);
      if (field) out.push(field);
    }
    return out;
  }

  /** True when column `name` is a decimal (its values decimal text of one scale; see compareDecimalText). */
  isDecimal(name: string): boolean {
    return this.#fieldOf(name)?.type.typeId === Type.Decimal;
  }

  /**
   * Values of column `name` (or of an aggregate of it that keeps its type, named `as`), built with
   * its input type; undefined when it has none or a value does not fit it.
   */
  column(name: string, values: readonly unknown[], as = name): Data | undefined {
    const field = this.#fieldOf(name, as);
    return field && attempt(() => buildColumn(field, values));
  }

  /**
   * `rows` as one batch of the input's columns, each of its input type where it has one the
   * builders make (the others typed from their values); undefined when no column has one, or a
   * value does not fit its type.
   */
  batch(rows: readonly Row[]): RecordBatch | undefined {
    const names = [...this.#fields.keys()];
    const typed = names.map((name) => this.#fieldOf(name));
    if (!typed.some((field) => field !== undefined)) return undefined;
    const inferred = typed.every((field) => field !== undefined) ? undefined : inferSchema(rows, names);
    const fields = typed.map((field, c) => field ?? inferred!.fields.find((f) => f.name === names[c])!);
    return attempt(() => rowsToRecordBatch(rows, { schema: new Schema(fields) }));
  }

  #fieldOf(name: string, as = name): Field | undefined {
    const field = this.#rows ? undefined : this.#fields.get(name);
    return field && rebuilt(field.type) ? new Field(as, field.type, true, field.metadata) : undefined;
  }
}

/**
 * A groupBy's output of no groups for input columns `input`: its keys with their input types, a
 * count, sum or mean a double (as their values are typed when there are groups), a min or max its
 * column's type. Undefined for a key the input lacks or another aggregate (its type comes from
 * its values).
 */
export function emptyGroups(
  input: RecordBatch,
  plan: { keyNames: readonly string[]; names: readonly string[]; aggregates: readonly Aggregate[] },
): RecordBatch | undefined {
  const byName = new Map(input.schema.fields.map((f) => [f.name, f]));
  const fields: Field[] = [];
  for (const name of plan.keyNames) {
    const field = byName.get(name);
    if (!field) return undefined;
    fields.push(field);
  }
  for (let a = 0; a < plan.names.length; a++) {
    const spec = aggregateSpec(plan.aggregates[a]!);
    let type: DataType | undefined;
    if (spec?.kind === 'count' || spec?.kind === 'sum' || spec?.kind === 'mean') type = new Float64();
    else if (spec?.kind === 'min' || spec?.kind === 'max') type = byName.get(spec.column!)?.type;
    if (!type) return undefined;
    fields.push(new Field(plan.names[a]!, type, true));
  }
  return emptyRecordBatch(fields);
}

/** `build()`, or undefined when a value does not fit its column (the caller types from values instead). */
function attempt<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch (error) {
    if (error instanceof UnsupportedError) return undefined;
    throw error;
  }
}
