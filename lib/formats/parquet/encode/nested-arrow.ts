/**
 * Nested columns from Arrow batches: the nested type of an Arrow List, LargeList, FixedSizeList,
 * Struct or Map field (nullability from the Arrow fields), and the access the shredder reads
 * Arrow data through. Leaf values go through the flat Arrow append (encode/arrow.ts), so they are
 * converted exactly or refused, as in flat columns.
 */
import type { Data, DataType, Field } from 'apache-arrow';
import { appendArrow } from './arrow.ts';
import { withDictionaryNulls } from './dictionary-nulls.ts';
import { decimalOfArrow, isLocalTimestamp, kindOfArrow, type ColumnKind } from './schema.ts';
import type { NestedField, NestedNode } from './nested-schema.ts';
import type { NestedAccess } from './nested-shred.ts';
import type { ColumnBuffer } from './column-buffer.ts';

/** A value in Arrow data: row `i` of `d` (undefined `d`: a struct field the batch lacks, null). */
export interface ArrowAt {
  d: Data<DataType> | undefined;
  i: number;
}

/** Arrow type ids (apache-arrow's `Type`). */
const A = { Null: 1, List: 12, Struct: 13, FixedSizeList: 16, Map: 17, LargeList: 21 } as const;

type Typed = DataType & { children?: Field[]; listSize?: number };

/** True for the Arrow types written as nested columns. */
export function isNestedArrow(type: DataType): boolean {
  const id = type.typeId as number;
  return id === A.List || id === A.Struct || id === A.FixedSizeList || id === A.Map || id === A.LargeList;
}

/**
 * The first struct field name that repeats within one struct of `type` (Arrow allows it; Parquet
 * readers, DuckDB and ours, find a struct's fields by name), as `"name" in path`; else undefined.
 */
export function repeatedStructField(type: DataType, path: string): string | undefined {
  const children = (type as Typed).children ?? [];
  if ((type.typeId as number) === A.Struct) {
    const seen = new Set<string>();
    for (const f of children) {
      if (seen.has(f.name)) return `${JSON.stringify(f.name)} in \`${path}\``;
      seen.add(f.name);
    }
  }
  for (const f of children) {
    const repeated = repeatedStructField(f.type, `${path}.${f.name}`);
    if (repeated !== undefined) return repeated;
  }
  return undefined;
}

/** The nested type of an Arrow type, or undefined when some part of it cannot be written. */
export function nodeOfArrow(type: DataType): NestedNode | undefined {
  const t = type as Typed;
  const children = t.children ?? [];
  switch (type.typeId as number) {
    case A.List:
    case A.LargeList:
    case A.FixedSizeList: {
      const element = children[0] && nodeOfArrow(children[0].type);
      return element && { type: 'list', element, elementNullable: children[0]!.nullable };
    }
    case A.Struct: {
      const fields: NestedField[] = [];
      for (const f of children) {
        const node = nodeOfArrow(f.type);
        if (node === undefined) return undefined;
        fields.push({ name: f.name, node, nullable: f.nullable });
      }
      return fields.length > 0 ? { type: 'struct', fields } : undefined;
    }
    case A.Map: {
      const entry = (children[0]?.type as Typed | undefined)?.children ?? [];
      const key = entry[0] && nodeOfArrow(entry[0].type);
      const value = entry[1] && nodeOfArrow(entry[1].type);
      return key && value && { type: 'map', key, value, valueNullable: entry[1]!.nullable };
    }
    default: {
      const kind = kindOfArrow(type);
      const decimal = decimalOfArrow(type);
      if (kind === undefined) return undefined;
      return {
        type: 'leaf',
        kind,
        ...(decimal ? { decimal } : {}),
        ...(isLocalTimestamp(type) ? { local: true as const } : {}),
      };
    }
  }
}

type AnyData = Data<DataType> & {
  nullBitmap: Uint8Array | undefined;
  valueOffsets: Int32Array | BigInt64Array | undefined;
};

function isNull(at: ArrowAt): boolean {
  const d = (at.d && withDictionaryNulls(at.d)) as AnyData | undefined;
  if (d === undefined || (d.typeId as number) === A.Null) return true;
  if (d.nullBitmap === undefined || d.nullCount === 0) return false;
  const bit = d.offset + at.i;
  return ((d.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 0;
}

function items(at: ArrowAt, node: NestedNode & { type: 'list' | 'map' }): ArrowAt[] | string {
  const d = at.d as AnyData;
  const id = d.typeId as number;
  const child = d.children[0]!;
  if (node.type === 'map' ? id !== A.Map : id !== A.List && id !== A.LargeList && id !== A.FixedSizeList)
    return `Arrow ${String(d.type)} where the file has a ${node.type}`;
  let start: number;
  let end: number;
  if (id === A.FixedSizeList) {
    const size = (d.type as Typed).listSize!;
    start = at.i * size;
    end = start + size;
  } else {
    start = Number(d.valueOffsets![at.i]);
    end = Number(d.valueOffsets![at.i + 1]);
  }
  const out: ArrowAt[] = [];
  for (let k = start; k < end; k++) out.push({ d: child, i: k });
  return out;
}

/** Where each struct field of `node` is among the children of Arrow type `type` (cached). */
const fieldIndexes = new WeakMap<DataType, Map<NestedNode, number[] | string>>();

function indexesOf(type: DataType, node: NestedNode & { type: 'struct' }): number[] | string {
  let byNode = fieldIndexes.get(type);
  if (byNode === undefined) fieldIndexes.set(type, (byNode = new Map()));
  let found = byNode.get(node);
  if (found === undefined) {
    const names = ((type as Typed).children ?? []).map((f) => f.name);
    const extra = names.find((name) => !node.fields.some((f) => f.name === name));
    found =
      extra !== undefined
        ? `Arrow struct has field \`${extra}\`, which the file's struct lacks (it has ${node.fields.map((f) => f.name).join(', ')})`
        : node.fields.map((f) => names.indexOf(f.name));
    byNode.set(node, found);
  }
  return found;
}

function fields(at: ArrowAt, node: NestedNode & { type: 'struct' }): ArrowAt[] | string {
  const d = at.d!;
  if ((d.typeId as number) !== A.Struct) return `Arrow ${String(d.type)} where the file has a struct`;
  const indexes = indexesOf(d.type, node);
  if (typeof indexes === 'string') return indexes;
  return indexes.map((k) => ({ d: k < 0 ? undefined : d.children[k], i: at.i }));
}

/** Reads Arrow data for the shredder; `widen` re-types a leaf in the first row group. */
export function arrowAccess(
  widen: (col: ColumnBuffer, node: { kind: ColumnKind }, to: ColumnKind) => boolean,
): NestedAccess<ArrowAt> {
  return {
    isNull,
    items,
    fields,
    entry: (at) => [
      { d: at.d!.children[0], i: at.i },
      { d: at.d!.children[1], i: at.i },
    ],
    push(col, at, node) {
      const d = at.d!;
      const source = kindOfArrow(d.type);
      if (source === undefined) return `Arrow ${String(d.type)} cannot be written`;
      const why = appendArrow(col, d, source, at.i, 1);
      if (why === undefined) return undefined;
      if (widen(col, node, source) && appendArrow(col, d, source, at.i, 1) === undefined) return undefined;
      return why;
    },
  };
}
