/**
 * Normalises reader output to the JSON conventions of the corpus truth.json (bigint as strings,
 * timestamps as ISO strings, dates as YYYY-MM-DD, binary as "base64:...", maps as {key, value} entries, as the reader gives them).
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
