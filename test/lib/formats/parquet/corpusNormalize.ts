/**
 * Normalises reader output to the JSON conventions of the corpus truth.json (bigint as strings,
 * timestamps as ISO strings, dates as YYYY-MM-DD, binary as "base64:...", maps as {key, value}).
 */
import type { ParquetColumn } from '../../../../lib/formats/parquet/types.ts';

/** One file entry of truth.json (Parquet and Arrow tests share it). */
export interface TruthFile {
  path: string;
  format: string;
  expect: 'read' | 'reject';
  rows?: number;
  columns?: { name: string; type: string }[];
  head?: unknown[];
  readers: Record<string, string>;
}

/** Converts one value to the truth conventions. */
export function normalize(value: unknown, column?: ParquetColumn, truthType?: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Infinity) return 'Infinity';
    if (value === -Infinity) return '-Infinity';
    return value;
  }
  // (a UTC-adjusted TIME already reads as DuckDB's TIME WITH TIME ZONE text, `...+00`)
  if (typeof value === 'string') return value;
  if (value instanceof Date) {
    return column?.type === 'date' ? value.toISOString().slice(0, 10) : value.toISOString();
  }
  if (value instanceof Uint8Array) return `base64:${Buffer.from(value).toString('base64')}`;
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v);
    return out;
  }
  return value;
}

/** Truth maps are arrays of {key, value}; hyparquet assembles maps as objects: compare as objects. */
export function mapsAsObjects(value: unknown): unknown {
  if (Array.isArray(value)) {
    if (
      value.length > 0 &&
      value.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e) && 'key' in e)
    ) {
      const out: Record<string, unknown> = {};
      for (const e of value as { key: unknown; value?: unknown }[]) out[String(e.key)] = mapsAsObjects(e.value ?? null);
      return out;
    }
    return value.map(mapsAsObjects);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapsAsObjects(v);
    return out;
  }
  return value;
}

/** Splits a DuckDB type's argument list at its top-level commas ("VARCHAR, STRUCT(a INT, b INT)"). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

/**
 * truth.json's value converted as `mapsAsObjects` converts spillway's, but guided by the column's
 * DuckDB type, so an empty MAP (`[]` in truth.json) becomes `{}` only where the type says MAP and an
 * empty list stays a list.
 */
export function expectedMapsAsObjects(value: unknown, type: string | undefined): unknown {
  if (type === undefined || value === null || typeof value !== 'object') return mapsAsObjects(value);
  const t = type.trim();
  if (t.endsWith('[]') && Array.isArray(value)) return value.map((v) => expectedMapsAsObjects(v, t.slice(0, -2)));
  if (t.startsWith('MAP(') && Array.isArray(value)) {
    const valueType = splitTopLevel(t.slice(4, -1))[1];
    const out: Record<string, unknown> = {};
    for (const e of value as { key: unknown; value?: unknown }[])
      out[String(e.key)] = expectedMapsAsObjects(e.value ?? null, valueType);
    return out;
  }
  if (t.startsWith('STRUCT(') && !Array.isArray(value)) {
    const fields = new Map(
      splitTopLevel(t.slice(7, -1)).map((f) => {
        const space = f.indexOf(' ');
        return [f.slice(0, space).replace(/^"|"$/g, ''), f.slice(space + 1)] as const;
      }),
    );
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expectedMapsAsObjects(v, fields.get(k))]));
  }
  return mapsAsObjects(value);
}
