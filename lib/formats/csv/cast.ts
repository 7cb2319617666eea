/**
 * Casting CSV text cells to values: inference for `cast: true`, and declared column types for
 * `cast: { col: 'number', ... }`. Pure functions, no streams.
 */

import { CastFailure, castDetected, specialDouble } from './read/detect-types.ts';
import { isBlank, trimBlanks } from './read/blanks.ts';

export { CastFailure };

/**
 * A declared CSV column type, or a function that converts the cell text. `'date'` is
 * `YYYY-MM-DD` (spaces and tabs around it skipped), a Date at UTC midnight. The sniffer's names work
 * too: `'text'` (as `'string'`), `'double'` (as `'number'`), `'int64'` (a number when safe, else a
 * bigint; beyond int64 an out-of-range error), `'timestamp'` (`YYYY-MM-DD[ T]HH:MM[:SS[.fffffffff]]`
 * read as UTC, digits below the millisecond kept), `'timestamptz'` (the same, or with an offset
 * `Z` / `+01` / `+0100` / `+01:00`: the instant it names, to the microsecond).
 */
export type CsvColumnType =
  | 'string'
  | 'text'
  | 'number'
  | 'double'
  | 'integer'
  | 'int64'
  | 'bigint'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | ((value: string) => unknown);

/** Declared types by column name (rows with a header) or by position (rows without). */
export type CsvSchema = Readonly<Record<string, CsvColumnType>> | readonly CsvColumnType[];

const NUMERIC = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+$/;

/**
 * Infers a value from cell text: decimal numbers become numbers (integers beyond 2^53 become
 * bigint so no digit is lost), also with spaces or tabs around them (` 42`, `3.5 `: DuckDB's
 * casts skip them); `true`/`false` become booleans (exactly: DuckDB refuses ` true`); the empty
 * string becomes null; everything else stays a string, blanks included.
 */
export function inferCell(text: string): unknown {
  const length = text.length;
  if (length === 0) return null;
  const c = text.charCodeAt(0);
  // digits, '-', '+', '.'
  if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    if (!NUMERIC.test(text)) return isBlank(text.charCodeAt(length - 1)) ? blankNumber(text) : text;
    return number(text);
  }
  if (length === 4 && text === 'true') return true;
  if (length === 5 && text === 'false') return false;
  return isBlank(c) ? blankNumber(text) : text;
}

/** The number `text` (decimal, checked) holds: a bigint when it is an integer beyond 2^53. */
function number(text: string): number | bigint {
  const n = Number(text);
  if (!Number.isSafeInteger(n) && Number.isInteger(n) && INTEGER.test(text)) return BigInt(text);
  return n;
}

/** A cell with blanks around it: the number inside, else the cell as it is. */
function blankNumber(text: string): unknown {
  const inner = trimBlanks(text);
  return inner.length > 0 && NUMERIC.test(inner) ? number(inner) : text;
}

/** Casts every cell of `rows` in place with {@link inferCell}. */
export function inferRows(rows: (Record<string, unknown> | unknown[])[]): void {
  for (const row of rows) {
    if (Array.isArray(row)) {
      for (let i = 0; i < row.length; i++) {
        const v = row[i];
        if (typeof v === 'string') row[i] = inferCell(v);
      }
    } else {
      for (const key in row) {
        const v = row[key];
        if (typeof v === 'string') row[key] = inferCell(v);
      }
    }
  }
}

/**
 * Converts one cell to a declared type; throws {@link CastFailure}. Empty cells are null except for
 * strings; spaces and tabs around a number are skipped, as DuckDB's casts skip them.
 */
export function castCell(cell: string, type: CsvColumnType, column: string): unknown {
  if (typeof type === 'function') return type(cell);
  if (type === 'string' || type === 'text') return cell;
  if (cell.length === 0) return null;
  const text = type === 'number' || type === 'integer' || type === 'bigint' ? trimBlanks(cell) : cell;
  switch (type) {
    case 'double':
      return castCell(text, 'number', column);
    case 'int64':
      return castDetected(text, 'integer', column);
    case 'timestamp':
    case 'timestamptz':
      return castDetected(text, type, column);
    case 'number': {
      if (NUMERIC.test(text)) return Number(text);
      const special = specialDouble(text);
      if (special === undefined) throw new CastFailure(column, cell, 'number');
      return special;
    }
    case 'integer': {
      const n = Number(text);
      if (!INTEGER.test(text) || !Number.isSafeInteger(n)) throw new CastFailure(column, cell, 'integer (safe range)');
      return n;
    }
    case 'bigint': {
      if (!INTEGER.test(text)) throw new CastFailure(column, cell, 'bigint');
      return BigInt(text);
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true' || lower === '1') return true;
      if (lower === 'false' || lower === '0') return false;
      throw new CastFailure(column, text, 'boolean');
    }
    case 'date':
      // `YYYY-MM-DD` at UTC midnight, as the sniffer reads it: `new Date(text)` read other shapes
      // in the process's time zone and took `12` for 2001-12-01 and `2024-02-30` for March 1st
      return castDetected(text, 'date', column);
  }
}

/** Builds a function that casts one row in place by the declared schema. */
export function schemaCaster(schema: CsvSchema): (row: Record<string, unknown> | unknown[]) => void {
  if (Array.isArray(schema)) {
    const types = schema as readonly CsvColumnType[];
    return (row) => {
      const cells = row as unknown[];
      for (let i = 0; i < types.length && i < cells.length; i++) {
        const v = cells[i];
        if (typeof v === 'string') cells[i] = castCell(v, types[i] as CsvColumnType, String(i));
      }
    };
  }
  const entries = Object.entries(schema as Readonly<Record<string, CsvColumnType>>);
  return (row) => {
    const record = row as Record<string, unknown>;
    for (const [column, type] of entries) {
      const v = record[column];
      if (typeof v === 'string') record[column] = castCell(v, type, column);
    }
  };
}
