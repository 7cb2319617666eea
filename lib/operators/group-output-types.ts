/**
 * A groupBy's output groups as one Arrow batch when an aggregate's values alone give its column no
 * Arrow type of output-columns.ts (a sum past 2^53 holds bigints beside numbers, an aggregate of
 * a column all null in the groups at hand holds nulls only): the groups used to come out as rows,
 * and rows lose every key's input type (an INTEGER key a DOUBLE, a DATE a TIMESTAMP WITH TIME
 * ZONE, a DECIMAL text). Here the keys keep their input types, a min, max, first or last keeps
 * its column's, a count, sum or mean all null is the type it has when its values are there (a
 * double; a sum of a DECIMAL column its exact text), and any other column is typed as a sink types
 * the same rows (a sum of integers holding a bigint a BIGINT, as toParquet writes those rows).
 * When a column can have no such type (a `collect`'s lists, a column all null of no known type),
 * the rows stay rows, as before. Values never change: each column is built from them exactly.
 */
import { Field, Float64, Type, Utf8, type RecordBatch } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import { aggregateSpec, type Aggregate } from './aggregates.ts';
import { typedBatch, type InputTypes } from './input-types.ts';

/** What a group table outputs: its key columns and aggregates, in output order. */
export interface OutputPlan {
  keyNames: readonly string[];
  names: readonly string[];
  aggregates: readonly Aggregate[];
}

/** True when every value is null (or there are none). */
function allNull(values: readonly unknown[]): boolean {
  for (const v of values) if (v !== null) return false;
  return true;
}

/**
 * The field of aggregate `a` (output column `name`) from what it computes, when its values alone
 * do not give it (see the module comment); undefined to type it from its values.
 */
function aggregateField(
  aggregate: Aggregate,
  name: string,
  values: readonly unknown[],
  types: InputTypes,
): Field | undefined {
  const spec = aggregateSpec(aggregate);
  if (spec === undefined) return undefined;
  const source = spec.column;
  switch (spec.kind) {
    case 'min':
    case 'max':
    case 'first':
    case 'last':
      return source === undefined ? undefined : types.field(source, name);
    case 'count':
    case 'mean':
      return allNull(values) ? new Field(name, new Float64(), true) : undefined;
    case 'sum':
      if (!allNull(values)) return undefined;
      return new Field(name, source !== undefined && types.isDecimal(source) ? new Utf8() : new Float64(), true);
    default:
      return undefined;
  }
}

/**
 * Groups `rows` (key columns, then aggregates, as `plan` names them; `finished[a]` the values of
 * aggregate `a`) as one batch of the types the module comment gives; undefined when a column
 * can have none, or its values do not fit (the caller keeps the rows).
 */
export function typedGroups(
  rows: readonly Row[],
  plan: OutputPlan,
  finished: readonly (readonly unknown[])[],
  types: InputTypes,
): RecordBatch | undefined {
  // undefined: rows keep it apart from null, an Arrow column could not
  if (finished.some((values) => values.includes(undefined))) return undefined;
  const fields = new Map<string, Field | undefined>();
  for (const key of plan.keyNames) fields.set(key, types.field(key));
  plan.names.forEach((name, a) => fields.set(name, aggregateField(plan.aggregates[a]!, name, finished[a]!, types)));
  const batch = typedBatch(rows, [...plan.keyNames, ...plan.names], (name) => fields.get(name));
  // a column all null of no known type would be Arrow's Null here, where rows are written as text
  if (batch === undefined) return undefined;
  if (batch.schema.fields.some((f) => f.type.typeId === Type.Null && fields.get(f.name) === undefined))
    return undefined;
  return batch;
}
