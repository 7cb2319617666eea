/**
 * The shape of a nested column (LIST, STRUCT, MAP) the writer writes as real Parquet groups, and
 * its leaves: each leaf is one column chunk with its own repetition and definition levels. The
 * layout is the standard one of the Parquet spec (3-level LIST, MAP with a `key_value` group), so
 * DuckDB, Arrow and Spark read the columns back with their types.
 */
import type { ColumnKind, DecimalSpec } from './schema.ts';

/** A nested column's type tree (JSON-able: a checkpoint keeps it). */
export type NestedNode =
  | { type: 'leaf'; kind: ColumnKind; decimal?: DecimalSpec; local?: true }
  | { type: 'list'; element: NestedNode; elementNullable: boolean }
  | { type: 'struct'; fields: NestedField[] }
  | { type: 'map'; key: NestedNode; value: NestedNode; valueNullable: boolean };

/** A field of a struct node. */
export interface NestedField {
  name: string;
  node: NestedNode;
  nullable: boolean;
}

/** One leaf of a nested column: its path in the schema, kind and highest levels. */
export interface NestedLeaf {
  path: string[];
  /** The leaf node itself (its kind may still widen in the first row group). */
  node: { type: 'leaf'; kind: ColumnKind; decimal?: DecimalSpec; local?: true };
  maxDef: number;
  maxRep: number;
}

/** The leaves of `node` (a column named `name`, nullable or not), depth first. */
export function nestedLeaves(name: string, node: NestedNode, nullable: boolean): NestedLeaf[] {
  const out: NestedLeaf[] = [];
  const walk = (n: NestedNode, path: string[], optional: boolean, def: number, rep: number): void => {
    const d = def + (optional ? 1 : 0);
    switch (n.type) {
      case 'leaf':
        out.push({ path, node: n, maxDef: d, maxRep: rep });
        return;
      case 'struct':
        for (const f of n.fields) walk(f.node, [...path, f.name], f.nullable, d, rep);
        return;
      case 'list':
        walk(n.element, [...path, 'list', 'element'], n.elementNullable, d + 1, rep + 1);
        return;
      case 'map':
        walk(n.key, [...path, 'key_value', 'key'], false, d + 1, rep + 1);
        walk(n.value, [...path, 'key_value', 'value'], n.valueNullable, d + 1, rep + 1);
    }
  };
  walk(node, [name], nullable, 0, 0);
  return out;
}

/** A short description of a node for error messages (`list<struct<x: double>>`). */
export function describeNode(node: NestedNode): string {
  switch (node.type) {
    case 'leaf':
      return node.decimal ? `decimal(${node.decimal.precision}, ${node.decimal.scale})` : node.kind;
    case 'list':
      return `list<${describeNode(node.element)}>`;
    case 'struct':
      return `struct<${node.fields.map((f) => `${f.name}: ${describeNode(f.node)}`).join(', ')}>`;
    case 'map':
      return `map<${describeNode(node.key)}, ${describeNode(node.value)}>`;
  }
}

/** Leaves still of kind `null` (only nulls or empty lists seen) become strings, as flat columns do. */
export function resolveNullLeaves(node: NestedNode): void {
  switch (node.type) {
    case 'leaf':
      if (node.kind === 'null') node.kind = 'string';
      return;
    case 'list':
      return resolveNullLeaves(node.element);
    case 'struct':
      for (const f of node.fields) resolveNullLeaves(f.node);
      return;
    case 'map':
      resolveNullLeaves(node.key);
      resolveNullLeaves(node.value);
  }
}
