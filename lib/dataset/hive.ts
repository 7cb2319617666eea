/**
 * Hive partitions: the `key=value` directory segments of a dataset's paths
 * (`trades/date=2026-11-30/symbol=ABC/part-0.parquet`) read as typed columns. Values are
 * URL-decoded; `__HIVE_DEFAULT_PARTITION__` as written (Spark and DuckDB's spelling of null) is null,
 * and a value that only decodes to it (`%5F_HIVE_DEFAULT_PARTITION__`) is that text, as DuckDB reads them. A
 * key's type is inferred from all its values across the dataset, as DuckDB does: integers, then
 * doubles, then dates (`YYYY-MM-DD`), else strings; `hiveTypes` overrides the inference.
 */
import { relative, sep } from 'node:path';
import { FormatError, ValidationError, describeValue } from '../core/errors.ts';
import type { DatasetFile } from './expand.ts';

/** The null partition value Spark, Hive and DuckDB write. */
export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/** Types a partition column can take. */
export type HiveType = 'int' | 'double' | 'date' | 'string';

/** A typed partition value: number (or bigint beyond 2^53), Date (UTC midnight), string or null. */
export type HiveValue = number | bigint | Date | string | null;

/** The partition columns of a dataset and each file's values, in key order. */
export interface HivePartitions {
  /** Partition keys in path order. */
  readonly keys: readonly string[];
  /** The type of each key. */
  readonly types: Readonly<Record<string, HiveType>>;
  /** Per file path: the typed value of each key. */
  readonly values: ReadonlyMap<string, Readonly<Record<string, HiveValue>>>;
}

/** The raw `key=value` pairs of one path's directories, below `root`. */
export function hiveSegments(file: DatasetFile): Array<[string, string]> {
  const rel = file.root === '' ? file.path : relative(file.root, file.path);
  const parts = rel.split(sep === '\\' ? /[\\/]/ : '/');
  parts.pop();
  const pairs: Array<[string, string]> = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    pairs.push([decode(part.slice(0, eq)), part.slice(eq + 1)]);
  }
  return pairs;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const INT = /^[-+]?\d+$/;
/** An integer written as DuckDB infers one: no sign but `-`, no leading zero (`00501` stays text). */
const CANONICAL_INT = /^-?(0|[1-9]\d*)$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

/** `text` as a UTC-midnight Date when it is a real `YYYY-M-D` date, else undefined. */
function dateOf(text: string): Date | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.getUTCDate() === Number(m[3]) ? d : undefined;
}

function isDate(text: string): boolean {
  return dateOf(text) !== undefined;
}

/** An integer that reads back as the same text, within BIGINT's range (what inference makes `int`). */
function isCanonicalInt(text: string): boolean {
  if (!CANONICAL_INT.test(text)) return false;
  const n = BigInt(text);
  return n >= INT64_MIN && n <= INT64_MAX;
}

function isDouble(text: string): boolean {
  return text.trim() !== '' && Number.isFinite(Number(text)) && !/^0x/i.test(text);
}

/** The narrowest type that every (non-null, decoded) value of a key fits. */
export function inferHiveType(values: readonly string[]): HiveType {
  if (values.length === 0) return 'string';
  // as DuckDB infers them: a value that would not read back as its own text stays a string
  // (`00501`, `+5`, `1.10`: until 2026-12-07 they became 501, 5 and 1.1); never a double
  if (values.every(isCanonicalInt)) return 'int';
  if (values.every(isDate)) return 'date';
  return 'string';
}

/** Converts a decoded partition value (not the null marker) to `type`; throws a FormatError when it does not fit. */
export function castHiveValue(text: string, type: HiveType, key: string, file: string): HiveValue {
  switch (type) {
    case 'string':
      return text;
    case 'int': {
      if (!INT.test(text)) break;
      // `+ 0` makes `-0` the integer 0 (as DuckDB reads it)
      const n = Number(text) + 0;
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    case 'double':
      if (isDouble(text)) return Number(text);
      break;
    case 'date': {
      const date = dateOf(text);
      if (date) return date;
      break;
    }
  }
  throw new FormatError(`Partition value ${describeValue(text)} of \`${key}\` is not a ${type}`, { file });
}

/**
 * Reads the partitions of `files`. With `mode: 'auto'` the dataset is hive-partitioned when every
 * file has the same non-empty list of keys (else: no partition columns). With `mode: true` the
 * keys must be the same for every file.
 * @throws ValidationError (`hive: true` and the keys differ between files, or a bad `hiveTypes`)
 */
export function readHivePartitions(
  files: readonly DatasetFile[],
  mode: boolean | 'auto',
  hiveTypes: Readonly<Record<string, HiveType>> = {},
): HivePartitions | undefined {
  if (mode === false) return undefined;
  const raw = files.map((f) => hiveSegments(f));
  const first = raw[0]?.map(([k]) => k) ?? [];
  const same = raw.every((pairs) => pairs.length === first.length && pairs.every(([k], i) => k === first[i]));
  if (!same || first.length === 0) {
    if (mode === 'auto') return undefined;
    const odd = raw.findIndex((pairs) => pairs.length !== first.length || pairs.some(([k], i) => k !== first[i]));
    throw new ValidationError(
      first.length === 0
        ? `\`options.hive\` is true but ${files[0]?.path} has no key=value directories`
        : `\`options.hive\` is true but ${files[odd]!.path} has other partition keys (${raw[odd]!.map(([k]) => k).join(', ') || 'none'}) than ${files[0]!.path} (${first.join(', ')})`,
    );
  }
  if (new Set(first).size !== first.length) throw new ValidationError(`A partition key repeats in ${files[0]!.path}`);
  const types: Record<string, HiveType> = {};
  for (const [i, key] of first.entries()) {
    const given = hiveTypes[key];
    if (given !== undefined) {
      types[key] = given;
      continue;
    }
    // null is the marker as written; a value that decodes to it (`%5F_HIVE...`) is that text
    const seen = raw.filter((pairs) => pairs[i]![1] !== HIVE_NULL).map((pairs) => decode(pairs[i]![1]));
    types[key] = inferHiveType(seen);
  }
  const values = new Map<string, Record<string, HiveValue>>();
  for (const [f, file] of files.entries()) {
    const record: Record<string, HiveValue> = {};
    for (const [i, key] of first.entries())
      record[key] =
        raw[f]![i]![1] === HIVE_NULL ? null : castHiveValue(decode(raw[f]![i]![1]), types[key]!, key, file.path);
    values.set(file.path, record);
  }
  return { keys: first, types, values };
}

/** Validates `options.hiveTypes`: an object of key -> 'int' | 'double' | 'date' | 'string'. */
export function expectHiveTypes(value: unknown, path: string): Record<string, HiveType> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError(
      `Expected \`${path}\` to be an object of partition key -> type, got ${describeValue(value)}`,
    );
  for (const [key, type] of Object.entries(value)) {
    if (!['int', 'double', 'date', 'string'].includes(type as string)) {
      throw new ValidationError(
        `Expected \`${path}.${key}\` to be 'int', 'double', 'date' or 'string', got ${describeValue(type)}`,
      );
    }
  }
  return value as Record<string, HiveType>;
}
