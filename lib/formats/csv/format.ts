/**
 * Formats rows as CSV text, byte for byte as csv-stringify does with toCsv's casts (numbers as
 * `String(n)`, booleans `true`/`false`, Dates ISO-8601, bigints as digits, binary as hex or base64,
 * other objects (lists, structs, maps) as the JSON text toJsonl writes for them, null, undefined
 * and an empty string as an empty field (CSV has no null: see docs/csv.md); a field is quoted
 * when it holds the delimiter, the quote or a line break, and quotes inside are doubled), for the
 * options most files use. One deliberate difference: a field holding \n or \r is always quoted,
 * also when `record_delimiter` is given (csv-stringify then quotes only that delimiter, and its
 * output no longer round-trips). csv-stringify is general (per-field option merging, nested column
 * paths, casts through callbacks) and ran at about a third of the rows/s of the fast CSV reader;
 * options outside this subset still go to it.
 */
import type { CastingContext, Options as CsvStringifyOptions } from 'csv-stringify/sync';
import { FormatError } from '../../core/errors.ts';
import { jsonLineFormatter } from '../json/format.ts';
import { isoString } from '../values.ts';
import { styledDate, type DateStyle } from './date-style.ts';

/** How binary values (Uint8Array, Buffer) are written: hex digits (default) or base64. */
export type BinaryEncoding = 'hex' | 'base64';

/** A binary value as text. */
export function binaryText(value: Uint8Array, encoding: BinaryEncoding): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString(encoding);
}

/** Powers of ten a number's text is tried with, by fraction digits (see {@link shortDecimal}). */
export const POWERS = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** {@link shortDecimal}'s integer: the number's digits without its point. */
export const DECIMAL_DIGITS = new Float64Array(1);

/**
 * The fraction digits `k` of `v`'s `String` text (`v` positive, not an integer) when it is a
 * short decimal, with its digits as an integer in DECIMAL_DIGITS[0]; -1 for any other number.
 *
 * `String` of a double with a fraction took 190 ns, a third of toCsv's time on the README's
 * pipeline; a number of at most 9 fraction digits (a price, a quantity times a price of few
 * digits) is written from two integers instead. Its text is the shortest decimal that reads back
 * as the same double; with `k` fraction digits that is the integer `m` nearest `v * 10^k` when
 * `m / 10^k === v` (IEEE division rounds the exact quotient, as parsing the text does), and the
 * smallest such `k` gives the fewest digits. Below 2^52 two decimals of `k` digits cannot both
 * read back as `v` (they are further apart than the doubles around it), so the digits are the
 * ones `String` picks; below 1e-6 `String` writes an exponent, so those are left to it.
 */
export function shortDecimal(v: number): number {
  if (!(v >= 1e-6 && v < 2 ** 52)) return -1;
  for (let k = 1; k < POWERS.length; k++) {
    const p = POWERS[k]!;
    const m = Math.round(v * p);
    if (m >= 2 ** 52) return -1;
    if (m / p === v) {
      DECIMAL_DIGITS[0] = m;
      return k;
    }
  }
  return -1;
}

/** A number's CSV text: as `String`, but -0 keeps its sign (`String(-0)` is "0"; DuckDB writes -0.0). */
export function numberText(value: number): string {
  if (value === 0) return 1 / value < 0 ? '-0' : '0';
  const v = value < 0 ? -value : value;
  if (Number.isInteger(v)) return String(value);
  const k = shortDecimal(v);
  if (k < 0) return String(value);
  const m = DECIMAL_DIGITS[0]!;
  const p = POWERS[k]!;
  const fraction = m % p;
  const digits = String(fraction);
  return `${value < 0 ? '-' : ''}${(m - fraction) / p}.${'0'.repeat(k - digits.length)}${digits}`;
}

/**
 * The JSON text of a value held in one cell (a list, a struct, a map: any object that is not a
 * Date or binary), written by toJsonl's own serializer (lib/formats/json/format.ts), so a cell
 * holds what toJsonl writes for the value: NaN, Infinity and -Infinity as those bare tokens,
 * bigints as bare digits, binary inside as base64 strings, a Map as its `{ key, value }` entries
 * and a Set as its values. `JSON.stringify` wrote `null` for the first, `"digits"` (a string) for
 * the second and `{"0":1,"1":2}` (a struct) for the third, and `{}` for a Map or a Set.
 *
 * What reads it back (checked 2026-12-07, DuckDB 1.5.6; test/sinks/csv-cell-values.test.ts):
 * spillway's fromCsv reads the cell as that text, a string (any `cast`: JSON text is no number,
 * date or boolean), and fromJsonl or DuckDB's JSON functions can parse it; DuckDB's read_csv
 * reads it as VARCHAR, and given the column's type (`columns={'l': 'DOUBLE[]'}`, a STRUCT of
 * DOUBLE and BIGINT) reads NaN and the infinities as nan/inf/-inf and bigints exactly. Binary
 * inside a nested value stays base64 text for every reader (DuckDB's BLOB[] holds the base64
 * characters as bytes): JSON has no bytes, and base64 is what toJsonl writes for them. A
 * top-level binary cell is written hex (or base64 with `binary: 'base64'`) and is no JSON.
 *
 * The serializer refuses an invalid Date (its JSON would be null) by the position inside the
 * value: the error is given again naming the CSV column.
 */
export function nestedJsonText(): (value: object, column?: string | number) => string {
  const json = jsonLineFormatter();
  return (value, column) => {
    try {
      return json(value);
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      throw new FormatError(
        `Column ${describeColumn(column)} holds an invalid Date inside its value (its time is NaN, as \`new Date(text)\` gives for text it cannot read): its JSON would hold null for it`,
        { stage: 'toCsv' },
        { cause: error },
      );
    }
  };
}

/** The casts toCsv gives csv-stringify; the fast formatter writes the same text. */
export function stringifyCast(binary: BinaryEncoding = 'hex'): NonNullable<CsvStringifyOptions['cast']> {
  const json = nestedJsonText();
  return {
    number: numberText,
    date: (value) => isoString(value),
    bigint: (value) => value.toString(),
    boolean: (value) => (value ? 'true' : 'false'),
    object: (value: object, context: CastingContext) =>
      value instanceof Uint8Array ? binaryText(value, binary) : json(value, context.column),
  };
}

/** The casts toCsv gives csv-stringify by default (binary as hex). */
export const STRINGIFY_CAST: CsvStringifyOptions['cast'] = stringifyCast('hex');

/** The CSV dialect the fast formatter writes. */
export interface CsvFormat {
  delimiter: string;
  quote: string;
  recordDelimiter: string;
  /** Binary values as hex (default) or base64. */
  binary?: BinaryEncoding;
}

const RECORD_DELIMITERS: Record<string, string> = { unix: '\n', windows: '\r\n', '\n': '\n', '\r\n': '\r\n' };
/** Options (csv-stringify's names) the fast formatter honours; any other option means csv-stringify. */
const KNOWN = new Set(['delimiter', 'quote', 'escape', 'record_delimiter', 'eof', 'quote_record_delimiter']);

/**
 * The dialect, when the fast formatter writes exactly what csv-stringify would for these options;
 * undefined when only csv-stringify can (multi-character separators, `quoted*`, `bom`,
 * `escape_formulas`, `eof: false`, ...).
 */
export function fastCsvFormat(options: Record<string, unknown>): CsvFormat | undefined {
  for (const [key, value] of Object.entries(options)) if (value !== undefined && !KNOWN.has(key)) return undefined;
  const delimiter = options.delimiter ?? ',';
  const quote = options.quote ?? '"';
  // csv-stringify's escape is `"` whatever the quote: a quote other than `"` needs `escape` set to it
  const escape = options.escape ?? '"';
  const recordDelimiter = RECORD_DELIMITERS[String(options.record_delimiter ?? 'unix')];
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '\n' || delimiter === '\r')
    return undefined;
  if (typeof quote !== 'string' || quote.length !== 1 || quote === delimiter || escape !== quote) return undefined;
  if (recordDelimiter === undefined || (options.eof !== undefined && options.eof !== true)) return undefined;
  // csv-stringify leaves a line break of another kind than an explicit record_delimiter unquoted,
  // which no parser reads back as one field: the fast formatter always quotes \n and \r
  if (options.quote_record_delimiter === false) return undefined;
  return { delimiter, quote, recordDelimiter };
}

/** A function that appends rows to CSV text. */
export type RowFormatter = (rows: Iterable<unknown>) => string;

/**
 * Builds a formatter for object rows (`columns` given: fields in that order, looked up as own
 * keys) or array rows (`columns` undefined: fields in array order). `styles`: how each column's
 * Dates are written (date-style.ts; rows from Arrow DATE and zone-less TIMESTAMP columns).
 */
export function csvFormatter(
  format: CsvFormat,
  columns: readonly string[] | undefined,
  styles?: readonly DateStyle[],
): RowFormatter {
  const { delimiter, quote, recordDelimiter } = format;
  const binary = format.binary ?? 'hex';
  const special = new RegExp(`[${escapeClass(delimiter)}${escapeClass(quote)}\\n\\r]`);
  const quotes = new RegExp(`[${escapeClass(quote)}]`, 'g');
  const doubled = quote + quote;
  // a number's or boolean's text can only need quotes when the delimiter or quote is a letter, digit or sign
  const numbersNeedCheck = /[0-9.eE+\-a-zA-Z]/.test(delimiter + quote);
  // nor an ISO timestamp's (digits, - : . + T Z; a space in a zone-less one)
  const datesNeedCheck = /[0-9TZ:.+\- ]/.test(delimiter + quote);
  const text = (value: string): string =>
    special.test(value) ? quote + value.replace(quotes, doubled) + quote : value;
  const json = nestedJsonText();
  const field = (value: unknown, style?: DateStyle, column?: string | number): string => {
    if (typeof value === 'string') return text(value);
    if (typeof value === 'number') return numbersNeedCheck ? text(numberText(value)) : numberText(value);
    if (value === null || value === undefined) return '';
    if (typeof value === 'boolean') return numbersNeedCheck ? text(value ? 'true' : 'false') : value ? 'true' : 'false';
    if (typeof value === 'bigint') return numbersNeedCheck ? text(value.toString()) : value.toString();
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime()))
        throw new FormatError(
          `Column ${describeColumn(column)} holds an invalid Date (its time is NaN, as \`new Date(text)\` gives for text it cannot read): there is no text to write for it`,
          { stage: 'toCsv' },
        );
      const iso = styledDate(isoString(value), style);
      return datesNeedCheck ? text(iso) : iso;
    }
    // quoted as csv-stringify quotes it: the delimiter may be a hex or base64 character
    if (value instanceof Uint8Array) return text(binaryText(value, binary));
    // csv-stringify refuses these too
    if (typeof value === 'function' || typeof value === 'symbol')
      throw new FormatError(`Cannot write a ${typeof value} as a CSV field`, { stage: 'toCsv' });
    return text(json(value, column));
  };
  if (columns === undefined) {
    return (rows) => {
      let out = '';
      for (const row of rows as Iterable<readonly unknown[]>) {
        for (let i = 0; i < row.length; i++) out += (i === 0 ? '' : delimiter) + field(row[i], undefined, i);
        out += recordDelimiter;
      }
      return out;
    };
  }
  const keys = [...columns];
  return (rows) => {
    let out = '';
    for (const row of rows as Iterable<Record<string, unknown>>) {
      for (let i = 0; i < keys.length; i++)
        out += (i === 0 ? '' : delimiter) + field(row[keys[i]!], styles?.[i], keys[i]);
      out += recordDelimiter;
    }
    return out;
  };
}

/** A column for an error: its name, or its position in an array row. */
function describeColumn(column: string | number | undefined): string {
  return typeof column === 'number' ? `${column + 1}` : `\`${column}\``;
}

/** The header line for `columns`, quoted as csv-stringify quotes a header. */
export function csvHeader(format: CsvFormat, columns: readonly string[]): string {
  return csvFormatter(format, undefined)([columns]);
}

function escapeClass(char: string): string {
  return char.replace(/[\\\]^\-[]/g, '\\$&');
}
