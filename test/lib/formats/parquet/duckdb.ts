/**
 * DuckDB as the reference engine of the Parquet differential tests: one in-memory database per
 * test process, a query helper returning DuckDB's JSON rows, and normalisers that bring
 * spillway's values and DuckDB's JSON to one comparable form.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

let connection: Promise<DuckDBConnection> | undefined;

/** The shared DuckDB connection. */
export function duck(): Promise<DuckDBConnection> {
  connection ??= DuckDBInstance.create(':memory:').then((db) => db.connect());
  return connection;
}

/** Runs a statement. */
export async function duckRun(sql: string): Promise<void> {
  await (await duck()).run(sql);
}

/** Rows of a query as DuckDB's JSON objects, and the column names. */
export async function duckRows(sql: string): Promise<{ names: string[]; rows: Record<string, unknown>[] }> {
  const reader = await (await duck()).runAndReadAll(sql);
  return { names: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[] };
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * A Parquet file as DuckDB reads it back: its columns as `name:TYPE`, and its rows as JSON text
 * (in file order, or `ORDER BY orderBy`), for comparing two files written from the same input.
 */
export async function parquetReadBack(path: string, orderBy?: string): Promise<{ types: string[]; rows: string }> {
  const c = await duck();
  const from = `read_parquet(${sqlString(path)})`;
  const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`))
    .getRowsJson()
    .map((r) => `${String(r[0])}:${String(r[1])}`);
  const result = await c.runAndReadAll(`SELECT * FROM ${from}${orderBy ? ` ORDER BY ${orderBy}` : ''}`);
  return { types, rows: JSON.stringify(result.getRowsJson()) };
}

function trimFraction(s: string): string {
  return s.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/**
 * One comparable form of a spillway value: integers as decimal strings, timestamps as DuckDB
 * prints them (`YYYY-MM-DD HH:MM:SS.ffffff`, trailing zeros dropped), maps as `{key, value}` entries,
 * intervals as `{months, days, micros}`.
 */
export function fromSpillway(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value;
  if (value instanceof Date) {
    const iso = value.toISOString();
    const [date, time] = iso.slice(0, -1).split('T');
    return `${date} ${trimFraction(time!)}`;
  }
  // DuckDB's BLOB text: printable ASCII as is, other bytes as \xHH
  if (value instanceof Uint8Array)
    return Array.from(value, (b) =>
      b >= 0x20 && b < 0x7f && b !== 0x5c
        ? String.fromCharCode(b)
        : `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`,
    ).join('');
  if (Array.isArray(value)) return value.map(fromSpillway);
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Object.keys(o).join() === 'months,days,milliseconds') {
      return {
        months: String(o.months),
        days: String(o.days),
        micros: String(BigInt(o.milliseconds as number) * 1000n),
      };
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromSpillway(v)]));
  }
  if (typeof value === 'string' && /^\d\d:\d\d:\d\d\.\d+$/.test(value)) return trimFraction(value);
  return value;
}

/**
 * The same comparable form of one DuckDB JSON value. A MAP is a list of `{key, value}` entries in
 * DuckDB's JSON and in spillway's rows alike, so it needs no special case.
 */
export function fromDuck(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value;
  if (typeof value === 'string') {
    const ts = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(?:\+00)?$/.exec(value);
    if (ts) return `${ts[1]} ${trimFraction(ts[2]!)}`;
    if (/^\d{4}-\d\d-\d\d$/.test(value)) return `${value} 00:00:00`;
    if (/^\d\d:\d\d:\d\d\.\d+$/.test(value)) return trimFraction(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => fromDuck(v));
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Object.keys(o).join() === 'months,days,micros')
      return { months: String(o.months), days: String(o.days), micros: String(o.micros) };
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromDuck(v)]));
  }
  return value;
}

/** DuckDB's column types of a query or a file (`DESCRIBE sql`), by column name. */
export async function duckDescribe(sql: string): Promise<Record<string, string>> {
  const { rows } = await duckRows(`DESCRIBE ${sql}`);
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

/** Rows of query `a` not in `b` and of `b` not in `a`, as multisets (EXCEPT ALL both ways). */
export async function duckDifferences(a: string, b: string): Promise<[number, number]> {
  const count = async (x: string, y: string): Promise<number> => {
    const { rows } = await duckRows(`SELECT count(*)::INTEGER AS n FROM ((${x}) EXCEPT ALL (${y}))`);
    return rows[0]!.n as number;
  };
  return [await count(a, b), await count(b, a)];
}
