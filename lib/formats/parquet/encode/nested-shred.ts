/**
 * Shredding one value of a nested column into its leaves (the Dremel algorithm): each leaf gets
 * one entry per value slot with its repetition level (0 at a new row, the depth of the list that
 * repeats otherwise) and definition level (how many optional or repeated ancestors are there). A
 * null at some depth, or an empty list, gives every leaf below it one null entry at that depth.
 * The values come through a {@link NestedAccess}: JS values (rows) or Arrow data (batches).
 */
import type { ColumnBuffer } from './column-buffer.ts';
import type { NestedNode } from './nested-schema.ts';

/** How the shredder reads one kind of input value. */
export interface NestedAccess<V> {
  isNull(v: V): boolean;
  /** The items of a list (or the entries of a map), or why `v` is not one. */
  items(v: V, node: NestedNode & { type: 'list' | 'map' }): V[] | string;
  /** The values of the struct's fields in `node`'s order, or why `v` does not fit it. */
  fields(v: V, node: NestedNode & { type: 'struct' }): V[] | string;
  /** A map entry's key and value. */
  entry(v: V): [V, V];
  /** Appends a leaf value to its column (levels apart); why it does not fit, or undefined. */
  push(col: ColumnBuffer, v: V, node: NestedNode & { type: 'leaf' }): string | undefined;
}

/** Leaves under `node`. */
export function leafCount(node: NestedNode): number {
  switch (node.type) {
    case 'leaf':
      return 1;
    case 'struct':
      return node.fields.reduce((sum, f) => sum + leafCount(f.node), 0);
    case 'list':
      return leafCount(node.element);
    case 'map':
      return leafCount(node.key) + leafCount(node.value);
  }
}

/** `why` under path segment `segment` (`.tags[0]: ...`). */
function withPath(segment: string, why: string): string {
  return why.startsWith('.') || why.startsWith('[') ? segment + why : `${segment}: ${why}`;
}

/** One value's position: rep and def levels so far, list depth, first leaf. */
interface At {
  rep: number;
  def: number;
  depth: number;
  leaf: number;
}

/** Shreds values of one nested column into its leaf columns (each with `levels`). */
export class Shredder<V> {
  constructor(
    readonly leaves: readonly ColumnBuffer[],
    readonly access: NestedAccess<V>,
  ) {}

  /** Shreds `v` (a row's value); returns why it does not fit (then the leaves are partly appended). */
  record(node: NestedNode, v: V, nullable: boolean): string | undefined {
    return this.#value(node, v, nullable, { rep: 0, def: 0, depth: 0, leaf: 0 });
  }

  #nulls(node: NestedNode, at: At, def: number): void {
    for (let k = at.leaf, end = at.leaf + leafCount(node); k < end; k++) {
      const col = this.leaves[k]!;
      col.pushNull();
      col.levels!.push(at.rep, def);
    }
  }

  #value(node: NestedNode, v: V, optional: boolean, at: At): string | undefined {
    if (this.access.isNull(v)) {
      if (!optional) return 'a null where the schema has a required value';
      this.#nulls(node, at, at.def);
      return undefined;
    }
    const def = at.def + (optional ? 1 : 0);
    switch (node.type) {
      case 'leaf': {
        const col = this.leaves[at.leaf]!;
        const why = this.access.push(col, v, node);
        if (why === undefined) col.levels!.push(at.rep, def);
        return why;
      }
      case 'struct':
        return this.#struct(node, v, { ...at, def });
      case 'list':
      case 'map':
        return this.#repeated(node, v, { ...at, def });
    }
  }

  #struct(node: NestedNode & { type: 'struct' }, v: V, at: At): string | undefined {
    const values = this.access.fields(v, node);
    if (typeof values === 'string') return values;
    let leaf = at.leaf;
    for (let k = 0; k < node.fields.length; k++) {
      const f = node.fields[k]!;
      const why = this.#value(f.node, values[k]!, f.nullable, { ...at, leaf });
      if (why !== undefined) return withPath(`.${f.name}`, why);
      leaf += leafCount(f.node);
    }
    return undefined;
  }

  #repeated(node: NestedNode & { type: 'list' | 'map' }, v: V, at: At): string | undefined {
    const items = this.access.items(v, node);
    if (typeof items === 'string') return items;
    if (items.length === 0) {
      this.#nulls(node, at, at.def);
      return undefined;
    }
    const depth = at.depth + 1;
    const def = at.def + 1;
    for (let k = 0; k < items.length; k++) {
      const rep = k === 0 ? at.rep : depth;
      const why =
        node.type === 'list'
          ? this.#value(node.element, items[k]!, node.elementNullable, { rep, def, depth, leaf: at.leaf })
          : this.#entry(node, items[k]!, { rep, def, depth, leaf: at.leaf });
      if (why !== undefined) return withPath(`[${k}]`, why);
    }
    return undefined;
  }

  #entry(node: NestedNode & { type: 'map' }, entry: V, at: At): string | undefined {
    const [key, value] = this.access.entry(entry);
    const why = this.#value(node.key, key, false, at);
    if (why !== undefined) return withPath('.key', why);
    const second = this.#value(node.value, value, node.valueNullable, { ...at, leaf: at.leaf + leafCount(node.key) });
    return second === undefined ? undefined : withPath('.value', second);
  }
}
