/**
 * Shared pieces of the hash operator tests: a generator of awkward tables (nulls, duplicates,
 * NaN, -0, bigints beyond 2^53, unicode and empty strings, one key holding most rows), DuckDB
 * loaded with the same rows, and a canonical form for comparing results as multisets.
 */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** One generated row. */
export interface TRow {
  id: number;
  k: string | null;
  g: number | bigint | null;
  x: number | null;
  q: number | null;
}

const KEYS = ['a', 'b', '', 'é', 'ß', 'Ω', '日本', '😀', 'A', 'a ', 'z'];

/** Rows with nulls, duplicates, NaN, -0, bigints, unicode and empty strings; sometimes one key takes most rows. */
export function tableArbitrary(maxRows = 300): fc.Arbitrary<TRow[]> {
  const k = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: fc.constantFrom(...KEYS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 4, unit: 'grapheme' }) },
  );
  const g = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 5, arbitrary: fc.integer({ min: -3, max: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom(2n ** 60n, -(2n ** 61n), 2n ** 53n + 1n) },
  );
  const x = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom(Number.NaN, -0, 0, 1.5, -2.25, 1e300) },
    { weight: 4, arbitrary: fc.integer({ min: -5, max: 5 }) },
  );
  const q = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 5, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  );
  const row = fc.record({ k, g, x, q });
  return fc
    .tuple(fc.array(row, { minLength: 0, maxLength: maxRows }), fc.boolean(), fc.constantFrom(...KEYS))
    .map(([rows, skew, hot]) => rows.map((r, id) => ({ id, ...r, k: skew && id % 5 !== 0 ? hot : r.k })));
}

/** A DuckDB connection (in memory, one thread). */
export async function duck(): Promise<{ conn: DuckDBConnection; close: () => void }> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  return {
    conn,
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** Loads `rows` into table `name` (id INTEGER, k VARCHAR, g BIGINT, x DOUBLE, q INTEGER). */
export async function loadTable(conn: DuckDBConnection, name: string, rows: readonly TRow[]): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE ${name} (id INTEGER, k VARCHAR, g BIGINT, x DOUBLE, q INTEGER)`);
  const appender = await conn.createAppender(name);
  for (const r of rows) {
    appender.appendInteger(r.id);
    if (r.k === null) appender.appendNull();
    else appender.appendVarchar(r.k);
    if (r.g === null) appender.appendNull();
    else appender.appendBigInt(BigInt(r.g));
    if (r.x === null) appender.appendNull();
    else appender.appendDouble(r.x);
    if (r.q === null) appender.appendNull();
    else appender.appendInteger(r.q);
    appender.endRow();
  }
  appender.closeSync();
}

/** Runs `sql` and returns rows of JS values. */
export async function query(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** A canonical text for a value: integers (number or bigint) alike, -0 as 0, NaN, floats to 12 significant digits. */
export function canon(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return `i${value}`;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (Number.isInteger(value))
      return Number.isSafeInteger(value) ? `i${value === 0 ? 0 : value}` : `f${value.toPrecision(12)}`;
    return `f${value.toPrecision(12)}`;
  }
  if (typeof value === 'string') return JSON.stringify(value);
  return JSON.stringify(value);
}

/** Rows as a sorted list of canonical lines over `columns` (a multiset). */
export function multiset(rows: readonly object[], columns: readonly string[]): string[] {
  return rows.map((r) => columns.map((c) => canon((r as Record<string, unknown>)[c])).join('|')).sort();
}

/** Entries of `dir` (to check that an operator left no temporary files). */
export function entries(dir: string): string[] {
  return readdirSync(dir);
}
