/**
 * The Arrow fields a groupBy's or distinct's input gave its columns, so that its output keeps
 * their types. A key or a kept row passes through JS values (a DECIMAL as its exact text, a BIGINT
 * as a number or a bigint, a timestamp as a Date); built from the values alone it came out as text
 * or doubles, and a BIGINT column whose first values were small numbers and later ones bigints was
 * refused by toParquet. One tracker serves every table of an aggregation, before and after it
 * spills. A column is typed only while every Arrow batch gave it the same field and no batch came
 * as rows; a type the builders cannot make from values exactly is left to the output's own typing.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  DataType,
  Field,
  Float64,
  type Dictionary,
  RecordBatch,
  Schema,
  Struct,
  Type,
  makeData,
  vectorFromArray,
  type Data,
} from 'apache-arrow';
import { SchemaMismatchError, UnsupportedError } from '../core/errors.ts';
import { widenField } from '../formats/arrow/widen.ts';
import type { Row } from '../core/batch.ts';
import { buildColumn } from '../formats/arrow/build.ts';
import { valueReader } from '../formats/arrow/to-rows.ts';
import { emptyRecordBatch } from '../formats/arrow/record-batch.ts';
import { inferSchema } from '../formats/arrow/infer.ts';
import { JSON_METADATA_KEY } from '../formats/arrow/metadata-keys.ts';
import { aggregateSpec, type Aggregate } from './aggregates.ts';
import { hasMadeOverLeaf, nestedCanonical } from './nested-values.ts';
import { simpleType } from './output-columns.ts';

/** True for the types lib/formats/arrow/build.ts builds from JS values exactly, and the nested ones {@link buildTyped} checks. */
function rebuilt(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Int:
      return true;
    case Type.Float:
      return (type as unknown as { precision: number }).precision !== 0; // not a half float
    case Type.Timestamp:
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
    case Type.Struct:
    case Type.Map:
    case Type.Null:
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

/** The wider decimal field of two decimal fields of one column, else null (the column is not typed). */
function widerDecimal(a: Field, b: Field): Field | null {
  if (!DataType.isDecimal(a.type) || !DataType.isDecimal(b.type)) return null;
  if (a.metadata.get(JSON_METADATA_KEY) !== b.metadata.get(JSON_METADATA_KEY)) return null;
  try {
    return widenField(a, b);
  } catch {
    return null; // past 38 digits
  }
}

function sameField(a: Field, b: Field): boolean {
  return String(a.type) === String(b.type) && a.metadata.get(JSON_METADATA_KEY) === b.metadata.get(JSON_METADATA_KEY);
}

/** See the module comment. */
export class InputTypes {
  /** By column name, in input order: its field, or null once it had two. */
  readonly #fields = new Map<string, Field | null>();
  /** Decimal columns whose scale changed between batches, with the scales seen first and last. */
  readonly #rescaled = new Map<string, [number, number]>();
  #rows = false;

  /**
   * Notes the fields of an Arrow input batch. A decimal of another scale or precision (the files
   * of a dataset need not agree) keeps the column a decimal, of the wider type: its values are
   * exact text of either scale, which min and max compare by value (compareDecimalText).
   */
  noteArrow(batch: RecordBatch): void {
    for (const field of batch.schema.fields) {
      const seen = this.#fields.get(field.name);
      if (seen === undefined) this.#fields.set(field.name, field);
      else if (seen !== null && !sameField(seen, field)) this.#fields.set(field.name, widerDecimal(seen, field));
      if (
        seen &&
        DataType.isDecimal(seen.type) &&
        DataType.isDecimal(field.type) &&
        seen.type.scale !== field.type.scale
      )
        this.#rescaled.set(field.name, [this.#rescaled.get(field.name)?.[0] ?? seen.type.scale, field.type.scale]);
    }
  }

  /**
   * Throws a {@link SchemaMismatchError} when one of `keys` is a decimal whose scale changed
   * between batches: keys compare as their exact text, so 0.50 and 0.5000 would be two keys
   * (the join refuses the same; join-key-types.ts).
   */
  checkKeyScales(keys: readonly string[], operator: string): void {
    for (const key of keys) {
      const scales = this.#rescaled.get(key);
      if (scales === undefined) continue;
      throw new SchemaMismatchError(
        `${operator} key column "${key}" is a decimal whose scale changed between batches (${scales[0]}, then ${scales[1]}; the files of a dataset may differ): keys compare as their exact text, so equal values such as 0.50 and 0.5000 would be two keys. Cast the column to one scale first`,
        {},
      );
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

  /** Column `name`'s input field (named `as`), when it has a type the builders make from values. */
  field(name: string, as = name): Field | undefined {
    return this.#fieldOf(name, as);
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
    return field && buildTyped(field, values);
  }

  /**
   * `rows` as one batch of the input's columns, each of its input type where it has one the
   * builders make (see {@link typedBatch}); undefined when none has, or a value does not fit.
   */
  batch(rows: readonly Row[]): RecordBatch | undefined {
    return typedBatch(rows, [...this.#fields.keys()], (name) => this.#fieldOf(name));
  }

  #fieldOf(name: string, as = name): Field | undefined {
    const field = this.#rows ? undefined : this.#fields.get(name);
    // a dictionary's values come out decoded, of its value type (as toParquet writes them)
    const type = field?.type.typeId === Type.Dictionary ? (field.type as Dictionary).dictionary : field?.type;
    return field && type && rebuilt(type) ? new Field(as, type, true, field.metadata) : undefined;
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

/**
 * `rows` as one batch of columns `columns` (the rows' keys when not given): a column `typed` gives a field for is built with it, the
 * others are typed as a sink types rows (inferred from their values, a number a double, so that
 * every batch agrees). Undefined when no column is typed, a column without a type holds nested
 * values (their inference is JSON text, where toParquet writes a LIST or STRUCT from rows), or a
 * value does not fit its type: the caller keeps the rows.
 */
export function typedBatch(
  rows: readonly Row[],
  columns: readonly string[] | undefined,
  typed: (name: string) => Field | undefined,
): RecordBatch | undefined {
  // without `columns`, the rows' own keys, from one inference that also types the untyped columns
  let inferred = columns ? undefined : inferSchema(rows);
  const names = columns ?? inferred!.fields.map((f) => f.name);
  const given = names.map(typed);
  if (!given.some((field) => field !== undefined)) return undefined;
  if (!inferred && !given.every((field) => field !== undefined)) inferred = attempt(() => inferSchema(rows, names));
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const [c, name] of names.entries()) {
    const values = rows.map((row) => (row as Record<string, unknown>)[name]);
    const typedData = given[c] && buildTyped(given[c], values);
    let field = typedData ? given[c]! : undefined;
    let data = typedData;
    if (!field) {
      // untyped, or its values do not fit its type: typed as a sink types them, this column alone
      inferred ??= attempt(() => inferSchema(rows, names));
      const guess = inferred?.fields.find((f) => f.name === name);
      if (!guess || guess.metadata.has(JSON_METADATA_KEY)) return undefined;
      // a string with a lone surrogate: rows keep it exactly, a Utf8 column could not (output-columns.ts)
      if (guess.type.typeId === Type.Utf8 && simpleType(values) === undefined) return undefined;
      field = asSinkTypes(guess);
      data = buildTyped(field, values);
    }
    if (!data) return undefined;
    fields.push(field);
    children.push(data);
  }
  return new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children }),
  );
}

/**
 * Field `inferred` (Arrow's inference from JS values) as a sink types the same rows: a JS number is
 * a double there (toParquet's DOUBLE), where Arrow's inference makes a column of integers Int32.
 */
export function asSinkTypes(inferred: Field): Field {
  return inferred.type.typeId === Type.Int && (inferred.type as unknown as { bitWidth: number }).bitWidth === 32
    ? new Field(inferred.name, new Float64(), true)
    : inferred;
}

const NESTED = new Set<Type>([Type.List, Type.LargeList, Type.FixedSizeList, Type.Struct, Type.Map]);

/** True for a list, struct or map: built by apache-arrow's builders (buildTyped), not by buildColumn. */
export function isNested(type: DataType): boolean {
  return NESTED.has(type.typeId);
}

/**
 * A column of output values no input type covers and that are not all numbers, strings or
 * booleans: all dates (a `first` of a Date from rows) become a timestamp column, as a sink types
 * such rows. Anything else, or no value at all, is undefined: the caller keeps rows (a column
 * mixing numbers and bigints, say, whose rows keep each value's type). Lists stay rows: a batch
 * whose lists are all null would be rows and the next an Arrow list, and toParquet cannot take an
 * Arrow list into a column a rows batch left untyped (a spilled full join failed so).
 */
export function inferredColumn(name: string, values: readonly unknown[]): Data | undefined {
  let dates = false;
  for (const v of values) {
    if (v === null) continue;
    if (!(v instanceof Date)) return undefined;
    dates = true;
  }
  if (!dates) return undefined;
  const guess = attempt(
    () =>
      inferSchema(
        values.map((v) => ({ [name]: v })),
        [name],
      ).fields[0]!,
  );
  return guess && buildTyped(guess, values);
}

/**
 * Column `field` built from `values`, or undefined when a value does not fit its type. A nested
 * column is built by apache-arrow's builders and read back: kept only when every value reads back
 * as it was (a builder may coerce a value it does not expect rather than refuse it). Its 64-bit
 * integer leaves go in as bigints and compare by their integer (nested-values.ts): they read back
 * as numbers where safe, as they came from an Arrow input.
 */
function buildTyped(field: Field, values: readonly unknown[]): Data | undefined {
  if (!NESTED.has(field.type.typeId)) return attempt(() => buildColumn(field, values));
  const type = field.type;
  const madeOver = hasMadeOverLeaf(type);
  const same = madeOver
    ? (a: unknown, b: unknown) => isDeepStrictEqual(nestedCanonical(type, a), nestedCanonical(type, b))
    : isDeepStrictEqual;
  try {
    // a map reads as its entries, [{ key, value }, ...]; apache-arrow builds one from a Map
    const input = madeOver
      ? values.map((v) => nestedCanonical(type, v, true))
      : type.typeId === Type.Map
        ? values.map((v) =>
            Array.isArray(v) ? new Map(v.map((e: { key: unknown; value: unknown }) => [e.key, e.value])) : v,
          )
        : (values as unknown[]);
    const data = vectorFromArray(input, type).data;
    if (data.length !== 1) return undefined;
    const read = valueReader(data[0]!, {}, field.name);
    for (let i = 0; i < values.length; i++) if (!same(read(i), values[i] ?? null)) return undefined;
    return data[0];
  } catch {
    return undefined;
  }
}
