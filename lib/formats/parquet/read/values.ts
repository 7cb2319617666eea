/**
 * Exact values for every Parquet leaf type, at any depth. hyparquet decodes pages but rounds
 * decimals to doubles, leaves TIME as raw integers, refuses intervals and trusts annotations;
 * here each column gets a converter built from its schema node, so a decimal inside a list, a
 * struct or a map comes back as exact as a top-level one, and what cannot be exact is refused:
 *
 * - an annotation on a physical type the format does not allow (TIMESTAMP on INT32, ...): FormatError at open;
 * - TIME outside 00:00:00..24:00:00: FormatError naming the column;
 * - invalid UTF-8 in a string: FormatError, unless `invalidUtf8: 'replace'` (U+FFFD).
 *
 * {@link planColumns} strips the annotations it converts itself from a copy of the schema, so
 * hyparquet hands over the stored values (unscaled integers, bytes).
 */
import type { ParquetParsers, SchemaElement, SchemaTree } from 'hyparquet';
import { FormatError, UnsupportedError } from '../../../core/errors.ts';
import type { Int64Mode } from '../../values.ts';
import { formatDecimal } from './decimal.ts';
import { parseJsonExact } from '../../json/lines.ts';

export { formatDecimal } from './decimal.ts';
import { decodeVariant } from './variant.ts';

/** What to do with invalid UTF-8 in a string column: refuse the file (default) or replace it with U+FFFD. */
export type InvalidUtf8 = 'error' | 'replace';

/** Converts one decoded value (null stays null) of a column. */
export type ValueConverter = (value: unknown) => unknown;

/** A leaf annotation and the physical types it allows. */
const ALLOWED: Record<string, readonly string[]> = {
  DECIMAL: ['INT32', 'INT64', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'],
  DATE: ['INT32'],
  TIME_MILLIS: ['INT32'],
  TIME_MICROS: ['INT64'],
  TIMESTAMP_MILLIS: ['INT64'],
  TIMESTAMP_MICROS: ['INT64'],
  TIMESTAMP: ['INT64'],
  UINT_8: ['INT32'],
  UINT_16: ['INT32'],
  UINT_32: ['INT32'],
  UINT_64: ['INT64'],
  INT_8: ['INT32'],
  INT_16: ['INT32'],
  INT_32: ['INT32'],
  INT_64: ['INT64'],
  UTF8: ['BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'],
  STRING: ['BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'],
  ENUM: ['BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'],
  JSON: ['BYTE_ARRAY'],
  BSON: ['BYTE_ARRAY'],
  UUID: ['FIXED_LEN_BYTE_ARRAY'],
  FLOAT16: ['FIXED_LEN_BYTE_ARRAY'],
  INTERVAL: ['FIXED_LEN_BYTE_ARRAY'],
};

/** The annotation of a leaf, logical type first. */
export function annotationOf(e: SchemaElement): string | undefined {
  return e.logical_type?.type ?? e.converted_type;
}

function isDecimal(e: SchemaElement): boolean {
  return e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL';
}

/**
 * Refuses a leaf whose annotation its physical type cannot carry (DuckDB refuses these files;
 * hyparquet would read a TIMESTAMP on INT32 as 1970 dates).
 * @throws FormatError
 */
export function checkLeafType(e: SchemaElement, column: string, file: string): void {
  const physical = e.type ?? 'unknown';
  const lt = e.logical_type;
  const checks: [string, readonly string[] | undefined][] = [];
  if (lt) {
    if (lt.type === 'INTEGER') checks.push([`INTEGER(${lt.bitWidth})`, lt.bitWidth === 64 ? ['INT64'] : ['INT32']]);
    else if (lt.type === 'TIME') checks.push([`TIME(${lt.unit})`, lt.unit === 'MILLIS' ? ['INT32'] : ['INT64']]);
    else checks.push([lt.type, ALLOWED[lt.type]]);
  }
  if (
    e.converted_type &&
    e.converted_type !== 'LIST' &&
    e.converted_type !== 'MAP' &&
    e.converted_type !== 'MAP_KEY_VALUE'
  ) {
    checks.push([e.converted_type, ALLOWED[e.converted_type]]);
  }
  for (const [name, allowed] of checks) {
    if (allowed && !allowed.includes(physical)) {
      throw new FormatError(
        `Parquet column \`${column}\` has a ${name} annotation on physical type ${physical}, which cannot hold it (allowed: ${allowed.join(', ')})`,
        { file },
      );
    }
  }
  if (physical === 'FIXED_LEN_BYTE_ARRAY') {
    const want =
      annotationOf(e) === 'UUID'
        ? 16
        : annotationOf(e) === 'FLOAT16'
          ? 2
          : annotationOf(e) === 'INTERVAL'
            ? 12
            : undefined;
    if (want !== undefined && e.type_length !== want) {
      throw new FormatError(
        `Parquet column \`${column}\` is ${annotationOf(e)} with a fixed length of ${e.type_length} bytes (must be ${want})`,
        { file },
      );
    }
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/** Big-endian two's complement bytes as a bigint. */
export function bytesToSignedBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/**
 * `HH:MM:SS[.fraction]` (trailing zeros of the fraction dropped) of a TIME value in units of
 * `1/perSecond` s; 24:00:00 is allowed, as in DuckDB.
 * @throws FormatError for a negative value or one past 24:00:00
 */
export function formatTime(value: bigint, perSecond: bigint, column: string, file: string): string {
  if (value < 0n || value > 86_400n * perSecond) {
    const unit = perSecond === 1000n ? 'ms' : perSecond === 1_000_000n ? 'µs' : 'ns';
    throw new FormatError(`TIME value ${value} ${unit} of column \`${column}\` is outside 00:00:00..24:00:00`, {
      file,
    });
  }
  const seconds = floorDiv(value, perSecond);
  const fraction = value - seconds * perSecond;
  const s = Number(seconds);
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  if (fraction === 0n) return `${hh}:${mm}:${ss}`;
  const width = perSecond.toString().length - 1;
  return `${hh}:${mm}:${ss}.${fraction.toString().padStart(width, '0').replace(/0+$/, '')}`;
}

/** Converts a bigint by the int64 mode. */
export function int64Value(value: unknown, mode: Int64Mode, column: string): unknown {
  if (typeof value !== 'bigint') return value ?? null;
  if (mode === 'bigint') return value;
  // a bigint beyond ±(2^53-1) never rounds to a safe number, so this test is exact
  const n = Number(value);
  if (Number.isSafeInteger(n)) return n;
  if (mode === 'auto') return value;
  throw new UnsupportedError(
    `INT64 value ${value} of column \`${column}\` is not a safe JavaScript number; open with int64: 'bigint' or 'auto'`,
    {},
  );
}

const fatal = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** hyparquet string parsers that refuse (or replace) invalid UTF-8. */
export function stringParsers(mode: InvalidUtf8): Partial<ParquetParsers> {
  if (mode === 'replace') {
    return {
      stringFromBytes: (bytes: Uint8Array | undefined) =>
        (bytes === undefined ? undefined : lenient.decode(bytes)) as string,
      jsonFromBytes: (bytes: Uint8Array | undefined) =>
        (bytes === undefined ? undefined : parseJsonExact(lenient.decode(bytes))) as unknown,
    };
  }
  const decode = (bytes: Uint8Array): string => {
    try {
      return fatal.decode(bytes);
    } catch {
      throw new Error(
        `invalid UTF-8 in a string value (bytes ${Buffer.from(bytes.subarray(0, 16)).toString('hex')}${bytes.length > 16 ? '...' : ''}); open with invalidUtf8: 'replace' to read it with U+FFFD`,
      );
    }
  };
  return {
    stringFromBytes: (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : decode(bytes)) as string,
    jsonFromBytes: (bytes: Uint8Array | undefined) =>
      (bytes === undefined ? undefined : parseJsonExact(decode(bytes))) as unknown,
  };
}

/** An INTERVAL (12 bytes: months, days, milliseconds, little-endian unsigned). */
export interface ParquetInterval {
  months: number;
  days: number;
  milliseconds: number;
}

/** One entry of a map value: its key and value (keys keep their type; file order, duplicates kept). */
export interface MapEntry {
  key: unknown;
  value: unknown;
}

/** Settings that shape values. */
export interface ValueSettings {
  readonly int64: Int64Mode;
  readonly file: string;
}

/** The list element node of a LIST-annotated group (3-level or legacy 2-level). */
function listElement(node: SchemaTree): SchemaTree {
  const repeated = node.children[0]!;
  if (
    repeated.children.length === 1 &&
    repeated.element.repetition_type === 'REPEATED' &&
    !(repeated.element.name === 'array' || repeated.element.name.endsWith('_tuple'))
  ) {
    return repeated.children[0]!;
  }
  return repeated;
}

function isListNode(node: SchemaTree): boolean {
  const ann = annotationOf(node.element);
  return ann === 'LIST' && node.children.length === 1 && node.children[0]!.element.repetition_type === 'REPEATED';
}

function isMapNode(node: SchemaTree): boolean {
  const ann = annotationOf(node.element);
  if (ann !== 'MAP' && ann !== 'MAP_KEY_VALUE') return false;
  const kv = node.children[0];
  return (
    node.children.length === 1 &&
    kv !== undefined &&
    kv.element.repetition_type === 'REPEATED' &&
    kv.children.length === 2
  );
}

const nullable =
  (fn: ValueConverter): ValueConverter =>
  (v) =>
    v === null || v === undefined ? null : fn(v);

/**
 * Builds the converter of a leaf element (its annotations as in the file), and strips from
 * `decoded` (the element hyparquet will decode with) what the converter does itself.
 * Returns undefined when hyparquet's value is already the final one.
 */
function leafConverter(
  e: SchemaElement,
  decoded: SchemaElement,
  column: string,
  s: ValueSettings,
): ValueConverter | undefined {
  checkLeafType(e, column, s.file);
  const ann = annotationOf(e);
  const strip = (): void => {
    delete decoded.converted_type;
    delete decoded.logical_type;
  };
  if (ann === 'ENUM') {
    decoded.converted_type = 'UTF8';
    delete decoded.logical_type;
    return undefined;
  }
  if (isDecimal(e)) {
    const scale = e.scale ?? (e.logical_type?.type === 'DECIMAL' ? e.logical_type.scale : 0);
    strip();
    return nullable((v) => {
      if (typeof v === 'number') return formatDecimal(BigInt(v), scale);
      if (typeof v === 'bigint') return formatDecimal(v, scale);
      if (v instanceof Uint8Array) return formatDecimal(bytesToSignedBigInt(v), scale);
      throw new UnsupportedError(`Unexpected DECIMAL storage in column \`${column}\``, { file: s.file });
    });
  }
  const unit =
    e.logical_type?.type === 'TIME'
      ? e.logical_type.unit
      : ann === 'TIME_MILLIS'
        ? 'MILLIS'
        : ann === 'TIME_MICROS'
          ? 'MICROS'
          : undefined;
  if (unit !== undefined) {
    const perSecond = unit === 'MILLIS' ? 1000n : unit === 'MICROS' ? 1_000_000n : 1_000_000_000n;
    // a UTC-adjusted TIME is DuckDB's TIME WITH TIME ZONE, whose text carries the `+00` offset
    const suffix = e.logical_type?.type === 'TIME' && e.logical_type.isAdjustedToUTC ? '+00' : '';
    strip();
    return nullable((v) => formatTime(BigInt(v as number | bigint), perSecond, column, s.file) + suffix);
  }
  if (ann === 'INTERVAL') {
    strip();
    return nullable((v) => {
      const b = v as Uint8Array;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return {
        months: view.getUint32(0, true),
        days: view.getUint32(4, true),
        milliseconds: view.getUint32(8, true),
      } satisfies ParquetInterval;
    });
  }
  if (ann === 'BSON') throw new UnsupportedError(`BSON column \`${column}\` is not supported`, { file: s.file });
  if (e.type === 'INT64' && !ann?.startsWith('TIMESTAMP') && ann !== 'TIMESTAMP') {
    const mode = s.int64;
    return (v) => int64Value(v, mode, column);
  }
  return undefined;
}

/** Converts each element of an array (null elements stay null). */
function eachOf(item: ValueConverter): ValueConverter {
  return (v) => (v as unknown[]).map((x) => (x === null || x === undefined ? null : item(x)));
}

/** The fields of a group, each with its converter (undefined: identity). */
function fieldConverters(
  node: SchemaTree,
  decoded: SchemaTree,
  column: string,
  s: ValueSettings,
): (readonly [string, ValueConverter | undefined])[] {
  return node.children.map(
    (c, k) => [c.element.name, nodeConverter(c, decoded.children[k]!, `${column}.${c.element.name}`, s)] as const,
  );
}

/** A VARIANT group: its fields converted, then decoded by us (hyparquet's decoder rounds decimals). */
function variantConverter(node: SchemaTree, decoded: SchemaTree, column: string, s: ValueSettings): ValueConverter {
  delete decoded.element.logical_type;
  delete decoded.element.converted_type;
  const fields = fieldConverters(node, decoded, column, s);
  return (v) => {
    const obj = { ...(v as Record<string, unknown>) };
    for (const [name, f] of fields) if (f && obj[name] !== null && obj[name] !== undefined) obj[name] = f(obj[name]);
    return decodeVariant(obj, column, s.file);
  };
}

/** A LIST group: its element converted (the element node as the assembly finds it). */
function listConverter(
  node: SchemaTree,
  decoded: SchemaTree,
  column: string,
  s: ValueSettings,
): ValueConverter | undefined {
  const el = listElement(node);
  const decodedEl = el === node.children[0] ? decoded.children[0]! : decoded.children[0]!.children[0]!;
  const repetition = el.element.repetition_type === 'REPEATED' ? 'OPTIONAL' : el.element.repetition_type;
  const item = nodeConverter({ ...el, element: { ...el.element, repetition_type: repetition } }, decodedEl, column, s);
  return item && eachOf(item);
}

/** A MAP group: `{ key, value }` entries (read/assemble.ts), keys and values converted like any value. */
function mapConverter(
  node: SchemaTree,
  decoded: SchemaTree,
  column: string,
  s: ValueSettings,
): ValueConverter | undefined {
  const kv = node.children[0]!;
  const key = nodeConverter(kv.children[0]!, decoded.children[0]!.children[0]!, column, s);
  const value = nodeConverter(kv.children[1]!, decoded.children[0]!.children[1]!, column, s);
  if (!key && !value) return undefined;
  const one = (f: ValueConverter | undefined, x: unknown): unknown =>
    x === null || x === undefined ? null : f ? f(x) : x;
  return (v) => (v as MapEntry[]).map((e) => ({ key: one(key, e.key), value: one(value, e.value) }));
}

/** A struct group: each field converted, the others kept. */
function structConverter(
  node: SchemaTree,
  decoded: SchemaTree,
  column: string,
  s: ValueSettings,
): ValueConverter | undefined {
  const active = fieldConverters(node, decoded, column, s).filter(([, f]) => f !== undefined);
  if (active.length === 0) return undefined;
  return (v) => {
    const obj = v as Record<string, unknown>;
    const out: Record<string, unknown> = { ...obj };
    for (const [name, f] of active) {
      const x = obj[name];
      out[name] = x === null || x === undefined ? null : f!(x);
    }
    return out;
  };
}

/**
 * Builds the converter of a schema node (any depth) whose decoding element(s) in `decoded` (a
 * parallel tree over the copied schema) are stripped as needed. Undefined: identity.
 */
export function nodeConverter(
  node: SchemaTree,
  decoded: SchemaTree,
  column: string,
  s: ValueSettings,
): ValueConverter | undefined {
  const e = node.element;
  let inner: ValueConverter | undefined;
  if (node.children.length === 0) {
    inner = leafConverter(e, decoded.element, column, s);
    // a bare repeated leaf is a list of its values
    if (e.repetition_type !== 'REPEATED') return inner;
  } else if (annotationOf(e) === 'VARIANT') inner = variantConverter(node, decoded, column, s);
  else if (isListNode(node)) inner = listConverter(node, decoded, column, s);
  else if (isMapNode(node)) inner = mapConverter(node, decoded, column, s);
  else inner = structConverter(node, decoded, column, s);
  if (!inner) return undefined;
  return nullable(e.repetition_type === 'REPEATED' ? eachOf(inner) : inner);
}
