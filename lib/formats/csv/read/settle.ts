/**
 * From checked options and what the sniffer found to what a reader reads with: the effective
 * csv-parse dialect options (explicit options win), the header or column names, the casts
 * (`cast: 'auto'` applies the detected types, `types` overrides them), where to start, and which
 * reader can honour it all.
 */
import { ValidationError } from '../../../core/errors.ts';
import { fastPathBlocker } from '../fast/source.ts';
import { readEncoding } from './utf16.ts';
import type { SniffedTypes } from '../../../core/batch.ts';
import { inferCell, schemaCaster, type CsvColumnType, type CsvSchema } from '../cast.ts';
import { castDetected, type DetectedType } from './detect-types.ts';
import { defaultNames } from './names.ts';
import type { CsvPlan } from './options.ts';
import type { CsvDialect, DialectHints } from './sniff.ts';
import type { CsvStart } from './reader.ts';

/** Detected type -> the declared type that casts it. */
const CAST_OF: Record<DetectedType, CsvColumnType> = {
  boolean: 'boolean',
  integer: 'int64',
  double: 'double',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  text: emptyAsNull,
};

/** A detected text column: an empty cell is null, as in every other detected type (and as DuckDB reads an unquoted empty field). */
function emptyAsNull(text: string): string | null {
  return text === '' ? null : text;
}

/** The cast of column `c` as detected: its type, and a date column's format. */
function casterOf(dialect: CsvDialect, c: number, name: string): CsvColumnType {
  const type = dialect.types[c] ?? 'text';
  const format = dialect.formats[c];
  if (type !== 'date' || format === undefined || format === '%Y-%m-%d') return CAST_OF[type];
  return (text) => (text === '' ? null : castDetected(text, 'date', name, format));
}

/** The dialect the caller fixed, as sniffer hints. */
export function dialectHints(plan: CsvPlan): DialectHints {
  const p = plan.parseOptions;
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString() : undefined;
  const fromLine = (p.from_line ?? p.fromLine) as number | undefined;
  return {
    delimiter: str(p.delimiter),
    quote: p.quote === false || p.quote === null ? '\0' : str(p.quote),
    escape: str(p.escape),
    comment: str(p.comment),
    inlineComments: p.comment === undefined ? undefined : (p.comment_no_infix ?? p.commentNoInfix) !== true,
    header:
      typeof plan.columns === 'boolean'
        ? plan.columns
        : Array.isArray(plan.columns)
          ? false
          : plan.expectColumns !== undefined
            ? true
            : undefined,
    skipLines: plan.skipLines ?? (fromLine !== undefined ? fromLine - 1 : undefined),
  };
}

/** csv-parse options: the given ones plus the sniffed dialect where none was given. */
export function effectiveParseOptions(plan: CsvPlan, dialect: CsvDialect | undefined): Record<string, unknown> {
  const options = { ...plan.parseOptions };
  if (dialect === undefined) return options;
  if (options.delimiter === undefined && dialect.delimiter !== ',') options.delimiter = dialect.delimiter;
  if (options.quote === undefined && dialect.quote !== '"') options.quote = dialect.quote;
  if (options.escape === undefined && dialect.escape !== '"') options.escape = dialect.escape;
  if (options.comment === undefined && dialect.comment !== undefined) {
    options.comment = dialect.comment;
    // comment lines only before the records: a `#` after a value stays text, as DuckDB reads it
    if (!dialect.inlineComments) options.comment_no_infix = true;
  }
  return options;
}

/** Column names or the header setting: resumed names, given names, `true` (header), `false` (arrays), or DuckDB-style names for a sniffed header-less file. */
export function columnsSetting(
  plan: CsvPlan,
  dialect: CsvDialect | undefined,
  resumed: string[] | null | undefined,
): boolean | string[] {
  if (resumed) return resumed;
  if (plan.columns !== undefined) return typeof plan.columns === 'boolean' ? plan.columns : [...plan.columns];
  if (plan.expectColumns !== undefined) return true;
  if (dialect === undefined || dialect.header) return true;
  return defaultNames(dialect.types.length);
}

/** Where to start reading: a resumed position, or after the preamble. */
export function startOf(dialect: CsvDialect | undefined, resumed: CsvStart | undefined): CsvStart {
  if (resumed) return resumed;
  return { byte: dialect?.skipBytes ?? 0, line: dialect?.skipLines ?? 0, index: 0, rows: 0, columns: null };
}

/**
 * The casts: `infer` (cast: true, or 'auto' without a sniffed dialect) and a row caster from a
 * declared schema, or from the detected types (cast: 'auto') with `types` on top.
 * @param names the column names (object rows) or undefined (array rows)
 */
export function castsOf(
  plan: CsvPlan,
  dialect: CsvDialect | undefined,
  names: readonly string[] | undefined,
): { infer: boolean; schema: CsvSchema | undefined; sniffed?: SniffedTypes } {
  const { cast, types } = plan;
  if (typeof cast === 'object') return { infer: false, schema: cast, sniffed: declaredTypes(cast) };
  const auto = cast === 'auto' && dialect !== undefined;
  const infer = cast === true || (cast === 'auto' && dialect === undefined);
  if (!auto && types === undefined) return { infer, schema: undefined };
  if (names === undefined) {
    const detected = auto ? dialect.types.map((_, c) => casterOf(dialect, c, String(c))) : [];
    return { infer, schema: detected };
  }
  const schema: Record<string, CsvColumnType> = {};
  if (auto) names.forEach((name, c) => (schema[name] = casterOf(dialect, c, name)));
  Object.assign(schema, types);
  const sniffed = { ...(auto ? detectedTypes(dialect, names, types) : undefined), ...declaredTypes(types) };
  return { infer, schema, sniffed: Object.keys(sniffed).length > 0 ? sniffed : undefined };
}

/** The Arrow types of declared columns, as of detected ones: a declared `'date'` is a DATE column, not instants. */
function declaredTypes(schema: CsvSchema | Readonly<Record<string, unknown>> | undefined): SniffedTypes | undefined {
  if (schema === undefined || Array.isArray(schema)) return undefined;
  const out: Record<string, 'date' | 'timestamp' | 'int64' | 'double'> = {};
  for (const [name, type] of Object.entries(schema)) {
    if (type === 'date' || type === 'timestamp' || type === 'int64' || type === 'double') out[name] = type;
    else if (type === 'integer' || type === 'bigint') out[name] = 'int64';
    else if (type === 'number') out[name] = 'double';
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The detected types the Arrow form takes (a type declared in `types` wins): dates and zone-less
 * timestamps are days and wall-clock times, not instants; integers are 64-bit and doubles doubles
 * in every batch, as DuckDB types the CSV (Batch's `sniffed`).
 */
function detectedTypes(
  dialect: CsvDialect,
  names: readonly string[],
  types: Readonly<Record<string, unknown>> | undefined,
): SniffedTypes | undefined {
  const out: Record<string, 'date' | 'timestamp' | 'int64' | 'double'> = {};
  names.forEach((name, c) => {
    if (types !== undefined && Object.hasOwn(types, name)) return;
    const type = dialect.types[c];
    if (type === 'date' || type === 'timestamp' || type === 'double') out[name] = type;
    else if (type === 'integer') out[name] = 'int64';
  });
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A row caster for `schema` that also infers cells outside it when `infer`. */
export function rowCaster(
  schema: CsvSchema | undefined,
  infer: boolean,
): ((row: Record<string, unknown> | unknown[]) => void) | undefined {
  if (schema === undefined) return undefined;
  const cast = schemaCaster(schema);
  if (!infer) return cast;
  return (row) => {
    cast(row);
    if (Array.isArray(row)) row.forEach((v, i) => typeof v === 'string' && (row[i] = inferCell(v)));
    else
      for (const key in row)
        if (typeof row[key] === 'string' && !(key in (schema as object))) row[key] = inferCell(row[key] as string);
  };
}

/** Which reader: the fast scanner when it can honour the options, else csv-parse (`parser: 'fast'` insists). */
export function chooseReader(
  plan: CsvPlan,
  parseOptions: Record<string, unknown>,
  encoding: string = readEncoding(plan.encoding),
): 'fast' | 'csv-parse' {
  const { skip_empty_lines: _s, skipEmptyLines: _e, ...rest } = parseOptions;
  const blocker = fastPathBlocker(rest, encoding);
  if (plan.parser === 'fast' && blocker !== undefined) {
    throw new ValidationError(
      `\`options.parser\` is 'fast' but the fast CSV path cannot honour ${blocker}; use 'auto' or 'csv-parse'`,
    );
  }
  return plan.parser !== 'csv-parse' && blocker === undefined ? 'fast' : 'csv-parse';
}

/** Whether to skip empty lines: as asked, else when the file has more than one column (or its width is unknown). */
export function skipBlank(plan: CsvPlan, dialect: CsvDialect | undefined, setting: boolean | string[]): boolean {
  if (plan.skipBlankLines !== undefined) return plan.skipBlankLines;
  const width = Array.isArray(setting) ? setting.length : dialect?.types.length;
  return width === undefined || width > 1;
}
