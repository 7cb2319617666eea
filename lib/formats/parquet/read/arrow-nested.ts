/**
 * Nested Parquet columns -> Arrow List, Struct and Map, built from the values the nested reader
 * assembles (`assemble.ts`) with every leaf decoded raw, as a top-level leaf is for Arrow: each
 * schema node becomes a builder that takes the values of that node in a batch (null where the
 * node is absent) and returns its Arrow Data. The shape follows the assembly exactly (lists with
 * the Parquet spec's backward-compatibility rules, bare repeated fields as non-null lists, maps as
 * `{ key, value }` entries), so `recordBatchToRows` gives back what the rows path gives.
 *
 * What Arrow cannot hold as the rows path gives it is refused at plan time, naming the column: a
 * leaf the top level carries as JSON text (INTERVAL, JSON, GEOMETRY...) and VARIANT. A null map
 * key (Arrow map keys are never null) is refused when met.
 */
import { Field, List, Map_, Struct, makeData } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import type { DecodedArray, SchemaTree } from 'hyparquet';
import { FormatError, UnsupportedError } from '../../../core/errors.ts';
import { JSON_METADATA_KEY } from '../../arrow/convert.ts';
import { validity } from './arrow-build.ts';
import { planArrowLeaf } from './arrow-leaf.ts';
import type { ArrowColumnPlan, LeafContext, RawDecode } from './arrow-leaf.ts';
import { isList, isMap, listWraps } from './assemble.ts';
import { annotationOf, nodeConverter } from './values.ts';
import type { InvalidUtf8 } from './values.ts';

/** One schema node as an Arrow field and the builder of its Data. */
interface Built {
  readonly field: Field;
  build(values: readonly unknown[]): Data;
}

interface NestedContext {
  readonly file: string;
  readonly invalidUtf8: InvalidUtf8;
  /** Filled with how each leaf is decoded, by dotted path. */
  readonly rawLeaves: Map<string, RawDecode>;
}

/** Offsets of `n` lists (null: none) and their elements laid end to end. */
function flatten(values: readonly unknown[], n: number): { offsets: Int32Array; items: unknown[] } {
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] as unknown[] | null | undefined;
    if (v !== null && v !== undefined) total += v.length;
    offsets[i + 1] = total;
  }
  const items = new Array<unknown>(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] as unknown[] | null | undefined;
    if (v !== null && v !== undefined) for (let k = 0; k < v.length; k++) items[at++] = v[k];
  }
  return { offsets, items };
}

function listOf(name: string, nullable: boolean, element: Built): Built {
  const type = new List(element.field);
  return {
    field: new Field(name, type, nullable),
    build(values) {
      const n = values.length;
      const { bitmap, nullCount } = validity(values, n);
      const { offsets, items } = flatten(values, n);
      const child = element.build(items);
      return makeData({ type, length: n, nullCount, nullBitmap: bitmap, valueOffsets: offsets, child });
    },
  };
}

function structOf(node: SchemaTree, decoded: SchemaTree, column: string, nullable: boolean, ctx: NestedContext): Built {
  const fields = node.children.map((c, k) => nodeBuilt(c, decoded.children[k]!, `${column}.${c.element.name}`, ctx));
  const type = new Struct(fields.map((f) => f.field));
  return {
    field: new Field(node.element.name, type, nullable),
    build(values) {
      const n = values.length;
      const { bitmap, nullCount } = validity(values, n);
      const children = fields.map((f) => {
        const name = f.field.name;
        const own = new Array<unknown>(n);
        for (let i = 0; i < n; i++) {
          const v = values[i] as Record<string, unknown> | null | undefined;
          own[i] = v === null || v === undefined ? null : v[name];
        }
        return f.build(own);
      });
      return makeData({ type, length: n, nullCount, nullBitmap: bitmap, children });
    },
  };
}

function mapOf(node: SchemaTree, decoded: SchemaTree, column: string, nullable: boolean, ctx: NestedContext): Built {
  const kv = node.children[0]!;
  const decodedKv = decoded.children[0]!;
  const key = shapeBuilt(kv.children[0]!, decodedKv.children[0]!, column, false, ctx);
  const value = nodeBuilt(kv.children[1]!, decodedKv.children[1]!, column, ctx);
  const entries = new Struct([key.field, value.field]);
  const type = new Map_(new Field(kv.element.name, entries, false), false);
  return {
    field: new Field(node.element.name, type, nullable),
    build(values) {
      const n = values.length;
      const { bitmap, nullCount } = validity(values, n);
      const { offsets, items } = flatten(values, n);
      const keys = new Array<unknown>(items.length);
      const vals = new Array<unknown>(items.length);
      for (let i = 0; i < items.length; i++) {
        const e = items[i] as { key: unknown; value: unknown };
        if (e.key === null || e.key === undefined)
          throw new FormatError(`MAP column \`${column}\` has a null key, which an Arrow map cannot hold`, {
            file: ctx.file,
          });
        keys[i] = e.key;
        vals[i] = e.value;
      }
      const child = makeData({
        type: entries,
        length: items.length,
        nullCount: 0,
        children: [key.build(keys), value.build(vals)],
      });
      return makeData({ type, length: n, nullCount, nullBitmap: bitmap, valueOffsets: offsets, child });
    },
  };
}

function leafOf(node: SchemaTree, decoded: SchemaTree, column: string, nullable: boolean, ctx: NestedContext): Built {
  const e = node.element;
  // the rows path's converter of one value (UTC-adjusted TIME is built from it)
  const single = { ...node, element: { ...e, repetition_type: 'OPTIONAL' as const } };
  const finish = nodeConverter(single, { ...decoded, element: { ...decoded.element } }, column, {
    int64: 'auto',
    file: ctx.file,
  });
  const c: LeafContext = {
    name: column,
    field: e.name,
    nullable,
    finish,
    invalidUtf8: ctx.invalidUtf8,
    file: ctx.file,
  };
  const plan = planArrowLeaf(e, decoded.element, c);
  if (plan.field.metadata.get(JSON_METADATA_KEY) === 'true') {
    throw new UnsupportedError(
      `Parquet column \`${column}\` holds ${annotationOf(e) ?? e.type} values inside a list, struct or map, which Arrow cannot hold exactly as the rows path gives them; read it with output 'rows'`,
      { file: ctx.file },
    );
  }
  if (plan.raw) ctx.rawLeaves.set(node.path.join('.'), plan.raw);
  return { field: plan.field, build: (values) => plan.build(values as DecodedArray, values.length) };
}

/** A node whose value is present (or null when `nullable`), its own repetition aside. */
function shapeBuilt(
  node: SchemaTree,
  decoded: SchemaTree,
  column: string,
  nullable: boolean,
  ctx: NestedContext,
): Built {
  if (node.children.length === 0) return leafOf(node, decoded, column, nullable, ctx);
  if (annotationOf(node.element) === 'VARIANT') {
    throw new UnsupportedError(
      `Parquet column \`${column}\` holds VARIANT values inside a list, struct or map, which Arrow cannot hold exactly; read it with output 'rows'`,
      { file: ctx.file },
    );
  }
  if (isList(node)) {
    const repeated = node.children[0]!;
    const element = listWraps(repeated)
      ? nodeBuilt(repeated.children[0]!, decoded.children[0]!.children[0]!, column, ctx)
      : shapeBuilt(repeated, decoded.children[0]!, column, false, ctx); // legacy list: the repeated node is the element
    return listOf(node.element.name, nullable, element);
  }
  if (isMap(node)) return mapOf(node, decoded, column, nullable, ctx);
  return structOf(node, decoded, column, nullable, ctx);
}

/** A node as its parent holds it: a repeated node is a non-null list of its values. */
function nodeBuilt(node: SchemaTree, decoded: SchemaTree, column: string, ctx: NestedContext): Built {
  const repetition = node.element.repetition_type ?? 'REQUIRED';
  if (repetition !== 'REPEATED') return shapeBuilt(node, decoded, column, repetition === 'OPTIONAL', ctx);
  return listOf(node.element.name, false, shapeBuilt(node, decoded, column, false, ctx));
}

/**
 * Plans the Arrow column of a nested top-level node (a group, or a repeated leaf).
 * @param decoded the same node in the schema the rows path decodes with
 * @throws UnsupportedError for a value inside that Arrow cannot hold exactly (naming the column)
 */
export function planNestedColumn(node: SchemaTree, decoded: SchemaTree, context: LeafContext): ArrowColumnPlan {
  const ctx: NestedContext = { file: context.file, invalidUtf8: context.invalidUtf8, rawLeaves: new Map() };
  const built = nodeBuilt(node, decoded, context.name, ctx);
  return {
    field: built.field,
    rawLeaves: ctx.rawLeaves,
    build: (values, n) =>
      built.build(n === values.length ? (values as unknown[]) : Array.from({ length: n }, (_, i) => values[i])),
  };
}
