/**
 * The schema elements of a nested column in the footer, depth first as Parquet lists them:
 * a STRUCT is a group, a LIST is `<name> (LIST) { repeated group list { <element> } }` and a MAP
 * is `<name> (MAP) { repeated group key_value { required <key>; <value> } }`. Leaves are written
 * by the caller's `leaf` (the flat columns' element writer).
 */
import type { ThriftWriter } from './thrift.ts';
import type { ColumnKind, DecimalSpec } from './schema.ts';
import type { NestedNode } from './nested-schema.ts';

/** Writes a leaf element (the flat column writer's). */
export type LeafElementWriter = (
  w: ThriftWriter,
  leaf: { name: string; kind: ColumnKind; nullable: boolean; decimal?: DecimalSpec },
) => void;

const REPETITION = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
const CONVERTED = { MAP: 1, LIST: 3 } as const;
/** LogicalType union ids. */
const LOGICAL = { MAP: 2, LIST: 3 } as const;

/** Number of schema elements `node` takes (groups and leaves). */
export function elementCount(node: NestedNode): number {
  switch (node.type) {
    case 'leaf':
      return 1;
    case 'struct':
      return 1 + node.fields.reduce((sum, f) => sum + elementCount(f.node), 0);
    case 'list':
      return 2 + elementCount(node.element);
    case 'map':
      return 2 + elementCount(node.key) + elementCount(node.value);
  }
}

function group(w: ThriftWriter, name: string, repetition: number, children: number, annotation?: 'MAP' | 'LIST'): void {
  w.begin();
  w.i32(3, repetition);
  w.string(4, name);
  w.i32(5, children);
  if (annotation !== undefined) {
    w.i32(6, CONVERTED[annotation]);
    w.struct(10);
    w.struct(LOGICAL[annotation]);
    w.end();
    w.end();
  }
  w.end();
}

/** Writes the elements of a column `name` of type `node`. */
export function writeNestedElements(
  w: ThriftWriter,
  name: string,
  node: NestedNode,
  nullable: boolean,
  leaf: LeafElementWriter,
): void {
  const repetition = nullable ? REPETITION.OPTIONAL : REPETITION.REQUIRED;
  switch (node.type) {
    case 'leaf':
      leaf(w, {
        name,
        kind: node.kind,
        nullable,
        ...(node.decimal ? { decimal: node.decimal } : {}),
        ...(node.local ? { local: true as const } : {}),
      });
      return;
    case 'struct':
      group(w, name, repetition, node.fields.length);
      for (const f of node.fields) writeNestedElements(w, f.name, f.node, f.nullable, leaf);
      return;
    case 'list':
      group(w, name, repetition, 1, 'LIST');
      group(w, 'list', REPETITION.REPEATED, 1);
      writeNestedElements(w, 'element', node.element, node.elementNullable, leaf);
      return;
    case 'map':
      group(w, name, repetition, 1, 'MAP');
      group(w, 'key_value', REPETITION.REPEATED, 2);
      writeNestedElements(w, 'key', node.key, false, leaf);
      writeNestedElements(w, 'value', node.value, node.valueNullable, leaf);
  }
}
