/**
 * Nested columns from JS rows: the type a column's values suggest (arrays -> LIST, plain objects
 * -> STRUCT, `Map`s -> MAP, of the leaf kinds the flat columns infer) and the access the shredder
 * reads them through. The rule for what stays JSON text: a column whose values do not agree on
 * one nested type in the first batch (an array of strings and numbers, a struct field that is a
 * number in one row and a string in another, an object that is not plain, a struct with no
 * fields) is written as JSON text, as before; a later value that does not fit the inferred type
 * is refused with an error, never converted.
 */
import { describeValue } from '../../../core/errors.ts';
import type { ColumnKind } from './schema.ts';
import type { NestedField, NestedNode } from './nested-schema.ts';
import type { NestedAccess } from './nested-shred.ts';
import { dateKind, pushValue } from './rows.ts';
import { widenKind } from './drift.ts';
import { LONE_SURROGATE_HINT, wellFormed } from '../../values.ts';

/** Values do not agree on one nested type. */
const MIXED = Symbol('mixed');

/** True for `{...}` objects (not class instances, arrays, dates or buffers). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The flat kind of a scalar JS value (as the flat columns infer it), or undefined. */
export function scalarKind(v: unknown): ColumnKind | undefined {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'string') return 'string';
  if (v instanceof Date) return dateKind(v);
  if (v instanceof Uint8Array) return 'binary';
  return undefined;
}

const unknownLeaf = (): NestedNode => ({ type: 'leaf', kind: 'null' });

function fresh(v: unknown): NestedNode {
  if (Array.isArray(v)) return { type: 'list', element: unknownLeaf(), elementNullable: true };
  if (v instanceof Map) return { type: 'map', key: unknownLeaf(), value: unknownLeaf(), valueNullable: true };
  if (isPlainObject(v)) return { type: 'struct', fields: [] };
  const kind = scalarKind(v);
  if (kind === undefined) throw MIXED;
  return { type: 'leaf', kind };
}

/** `node` grown to hold `v` too; throws MIXED when it cannot. */
function observe(node: NestedNode, v: unknown): NestedNode {
  if (v === null || v === undefined) return node;
  const n = node.type === 'leaf' && node.kind === 'null' ? fresh(v) : node;
  if (n.type === 'leaf') {
    const kind = scalarKind(v);
    // timestamps of several precisions: the finest holds them all
    const wider = kind === undefined || kind === 'double' || n.kind === 'double' ? undefined : widenKind(n.kind, kind);
    if (kind !== n.kind && (wider === undefined || !wider.startsWith('timestamp'))) throw MIXED;
    if (wider !== undefined) n.kind = wider;
  } else if (n.type === 'list') {
    if (!Array.isArray(v)) throw MIXED;
    for (const item of v) n.element = observe(n.element, item);
  } else if (n.type === 'map') {
    if (!(v instanceof Map)) throw MIXED;
    for (const [key, value] of v) {
      if (key === null || key === undefined) throw MIXED;
      n.key = observe(n.key, key);
      n.value = observe(n.value, value);
    }
  } else {
    if (!isPlainObject(v)) throw MIXED;
    for (const [name, value] of Object.entries(v)) {
      let f = n.fields.find((x) => x.name === name);
      if (f === undefined) n.fields.push((f = { name, node: unknownLeaf(), nullable: true }));
      f.node = observe(f.node, value);
    }
  }
  return n;
}

function hasEmptyStruct(node: NestedNode): boolean {
  if (node.type === 'struct')
    return node.fields.length === 0 || node.fields.some((f: NestedField) => hasEmptyStruct(f.node));
  if (node.type === 'list') return hasEmptyStruct(node.element);
  if (node.type === 'map') return hasEmptyStruct(node.key) || hasEmptyStruct(node.value);
  return false;
}

/**
 * The nested type of a column whose first non-null value is an array, plain object or Map, from
 * all its `values`; undefined when they do not agree (the column stays JSON text).
 */
export function inferNested(values: Iterable<unknown>): NestedNode | undefined {
  let node = unknownLeaf();
  try {
    for (const v of values) node = observe(node, v);
  } catch (error) {
    if (error === MIXED) return undefined;
    throw error;
  }
  return node.type === 'leaf' || hasEmptyStruct(node) ? undefined : node;
}

/** Reads JS values for the shredder; `widen` re-types a leaf in the first row group. */
export function jsAccess(
  widen: (col: Parameters<NestedAccess<unknown>['push']>[0], node: { kind: ColumnKind }, to: ColumnKind) => boolean,
): NestedAccess<unknown> {
  return {
    isNull: (v) => v === null || v === undefined,
    items(v, node) {
      if (node.type === 'map') return v instanceof Map ? [...v] : `expected a Map, got ${describeValue(v)}`;
      return Array.isArray(v) ? v : `expected a list, got ${describeValue(v)}`;
    },
    fields(v, node) {
      if (!isPlainObject(v)) return `expected a plain object, got ${describeValue(v)}`;
      for (const key in v) {
        if (!node.fields.some((f) => f.name === key))
          return `has field \`${key}\`, which the struct inferred from the first rows lacks (it has ${node.fields.map((f) => f.name).join(', ')})`;
      }
      return node.fields.map((f) => v[f.name]);
    },
    entry: (v) => v as [unknown, unknown],
    push(col, v, node) {
      if (pushValue(col, v)) return undefined;
      const to = scalarKind(v);
      if (to !== undefined && widen(col, node, to) && pushValue(col, v)) return undefined;
      if (typeof v === 'string' && !wellFormed(v)) return `${describeValue(v)} holds ${LONE_SURROGATE_HINT}`;
      return `${describeValue(v)} does not fit ${node.kind}`;
    },
  };
}
