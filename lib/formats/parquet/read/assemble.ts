/**
 * Record assembly of a nested column from its leaves' repetition and definition levels (Dremel),
 * one row at a time, straight into the values rows hold: arrays for lists and repeated fields,
 * objects for structs, arrays of `{ key, value }` entries for maps. Each schema node knows its
 * definition level D (non-required nodes from the top down to it) and repetition level R; at the
 * current entry of the node's first leaf:
 *
 * - a definition level below D means the node is absent there: null when it is optional, [] when
 *   it is repeated (its parent exists but holds no element); one entry of each of its leaves is
 *   used up;
 * - a repeated node holds elements while the next entry repeats at exactly its level R;
 * - a struct reads each field from that field's own leaves (they share the levels above it).
 *
 * Every element uses up at least one entry of each leaf under it, so a walk always ends, whatever
 * the levels say. Lists follow the Parquet spec's backward-compatibility rules, as the value
 * converters in `values.ts` do.
 */
import type { SchemaTree } from 'hyparquet';
import { annotationOf } from './values.ts';
import type { MapEntry } from './values.ts';
import type { LeafCursor } from './leaf-cursor.ts';

/** How one schema node is assembled. */
export interface NodePlan {
  readonly kind: 'leaf' | 'struct' | 'list' | 'map';
  readonly name: string;
  readonly repetition: 'REQUIRED' | 'OPTIONAL' | 'REPEATED';
  /** Definition and repetition levels of the node itself. */
  readonly d: number;
  readonly r: number;
  /** Index of the node's first leaf, and of all its leaves, in the cursor list. */
  readonly first: number;
  readonly leaves: readonly number[];
  /** struct: fields; list: [the repeated node]; map: [the repeated key-value node]. */
  readonly children: readonly NodePlan[];
  /** A repeated node whose element is its only child (the middle node of a 3-level list). */
  readonly unwrap: boolean;
}

/** True for a LIST-annotated group whose one child is repeated. */
export function isList(node: SchemaTree): boolean {
  return (
    annotationOf(node.element) === 'LIST' &&
    node.children.length === 1 &&
    node.children[0]!.element.repetition_type === 'REPEATED'
  );
}

/** True for a MAP-annotated group whose one child is a repeated key-value group. */
export function isMap(node: SchemaTree): boolean {
  const ann = annotationOf(node.element);
  const kv = node.children[0];
  return (
    (ann === 'MAP' || ann === 'MAP_KEY_VALUE') &&
    node.children.length === 1 &&
    kv !== undefined &&
    kv.element.repetition_type === 'REPEATED' &&
    kv.children.length === 2
  );
}

/** The repeated child of a list is only a wrapper when it has one child and no legacy name. */
export function listWraps(repeated: SchemaTree): boolean {
  const name = repeated.element.name;
  return repeated.children.length === 1 && !(name === 'array' || name.endsWith('_tuple'));
}

/**
 * Builds the plan of top-level node `node`.
 * @param leafIndex index of a leaf (by dotted path) in the cursor list; undefined when it has no chunk
 * @throws Error naming a leaf without a column chunk
 */
export function planNode(node: SchemaTree, leafIndex: (path: string) => number | undefined): NodePlan {
  function build(n: SchemaTree, d0: number, r0: number, wrapper: boolean): NodePlan {
    const repetition = n.element.repetition_type ?? 'REQUIRED';
    const d = d0 + (repetition === 'REQUIRED' ? 0 : 1);
    const r = r0 + (repetition === 'REPEATED' ? 1 : 0);
    const name = n.element.name;
    if (n.children.length === 0) {
      const index = leafIndex(n.path.join('.'));
      if (index === undefined) throw new Error(`leaf \`${n.path.join('.')}\` has no column chunk`);
      return { kind: 'leaf', name, repetition, d, r, first: index, leaves: [index], children: [], unwrap: false };
    }
    let kind: NodePlan['kind'] = 'struct';
    let children: NodePlan[];
    if (!wrapper && isList(n)) {
      kind = 'list';
      const repeated = n.children[0]!;
      children = [build(repeated, d, r, listWraps(repeated))];
    } else if (!wrapper && isMap(n)) {
      kind = 'map';
      children = [build(n.children[0]!, d, r, false)];
    } else {
      children = n.children.map((c) => build(c, d, r, false));
    }
    const leaves = children.flatMap((c) => c.leaves);
    return { kind, name, repetition, d, r, first: leaves[0]!, leaves, children, unwrap: wrapper };
  }
  return build(node, 0, 0, false);
}

/** Uses up one entry of each leaf under `plan` (the node is absent at this entry, in every leaf). */
function skip(plan: NodePlan, cursors: readonly LeafCursor[]): void {
  const leaves = plan.leaves;
  for (let i = 0; i < leaves.length; i++) {
    const c = cursors[leaves[i]!]!;
    if (i > 0 && !(c.def[c.pos]! < plan.d)) throw misaligned(plan);
    c.step();
  }
}

function misaligned(plan: NodePlan): Error {
  return new Error(`the leaves of \`${plan.name}\` disagree on its shape (corrupt levels)`);
}

/** True when the next entry holds another element of repeated `plan`; every leaf under it must agree. */
function more(plan: NodePlan, cursors: readonly LeafCursor[]): boolean {
  const leaves = plan.leaves;
  const first = cursors[plan.first]!;
  const again = first.pos < first.len && first.rep[first.pos] === plan.r;
  for (let i = 1; i < leaves.length; i++) {
    const c = cursors[leaves[i]!]!;
    if ((c.pos < c.len && c.rep[c.pos] === plan.r) !== again) throw misaligned(plan);
  }
  return again;
}

/**
 * How many elements the repeated node at level `r` whose first element is at the cursor's entry
 * holds, or 0 when they may go on past the page being walked (then they are pushed one by one).
 */
function elements(c: LeafCursor, r: number): number {
  const rep = c.rep;
  const len = c.len;
  let k = 1;
  let j = c.pos + 1;
  for (; j < len; j++) {
    const level = rep[j]!;
    if (level < r) return k;
    if (level === r) k++;
  }
  return c.lastPage ? k : 0;
}

/** The value of `plan` where its parent exists: null, [], or what {@link instance} builds. */
export function slot(plan: NodePlan, cursors: readonly LeafCursor[]): unknown {
  const c = cursors[plan.first]!;
  const def = c.def[c.pos]!;
  if (plan.repetition === 'REPEATED') {
    if (def < plan.d) {
      skip(plan, cursors);
      return [];
    }
    if (plan.leaves.length === 1) {
      const k = elements(c, plan.r);
      if (k > 0) {
        // sized up front: growing by push made a third of the garbage of a list column
        const out = new Array<unknown>(k);
        for (let i = 0; i < k; i++) out[i] = instance(plan, cursors);
        return out;
      }
      const out: unknown[] = [];
      const r = plan.r;
      do out.push(instance(plan, cursors));
      while (c.pos < c.len && c.rep[c.pos] === r);
      return out;
    }
    const out: unknown[] = [];
    do out.push(instance(plan, cursors));
    while (more(plan, cursors));
    return out;
  }
  if (def < plan.d) {
    skip(plan, cursors);
    return null;
  }
  return instance(plan, cursors);
}

/** One element of `plan`, which exists at the current entry. */
function instance(plan: NodePlan, cursors: readonly LeafCursor[]): unknown {
  switch (plan.kind) {
    case 'leaf':
      return cursors[plan.first]!.value();
    case 'list':
      return slot(plan.children[0]!, cursors);
    case 'map':
      return mapOf(plan.children[0]!, cursors);
    default: {
      if (plan.unwrap) return slot(plan.children[0]!, cursors);
      const out: Record<string, unknown> = {};
      const fields = plan.children;
      for (let i = 0; i < fields.length; i++) out[fields[i]!.name] = slot(fields[i]!, cursors);
      return out;
    }
  }
}

/** A map's entries (the repeated key-value node `kv`), in file order, duplicates kept. */
function mapOf(kv: NodePlan, cursors: readonly LeafCursor[]): MapEntry[] {
  const out: MapEntry[] = [];
  const c = cursors[kv.first]!;
  if (c.def[c.pos]! < kv.d) {
    skip(kv, cursors);
    return out;
  }
  const [key, value] = kv.children as [NodePlan, NodePlan];
  do {
    const k = slot(key, cursors);
    out.push({ key: k, value: slot(value, cursors) });
  } while (more(kv, cursors));
  return out;
}
