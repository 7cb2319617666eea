/**
 * What to do about a value a Parquet column cannot take, for the error that refuses it: an
 * inferred column met a value of another type (a CSV column of text and numbers read with
 * `cast: true`, cell by cell; a bigint after numbers, as `int64: 'auto'` reads a large INT64), a
 * declared one a value it cannot hold; a timestamp of a timestamp column is no type mismatch:
 * its unit cannot hold it.
 */

import { LONE_SURROGATE_HINT, nanosOf, wellFormed } from '../../values.ts';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** The hint appended to the message for `value` in column `name` of `type` (`inferred` from the data, or declared). */
export function mismatchHint(value: unknown, name: string, type: string, inferred: boolean): string {
  if (value instanceof Date && Number.isNaN(value.getTime()))
    return ': it is an invalid Date (its time is NaN, as `new Date(text)` gives for text it cannot read); check the map that made it';
  if (typeof value === 'string' && !wellFormed(value)) return `: it holds ${LONE_SURROGATE_HINT}`;
  if (value instanceof Date && type === 'timestamp' && !inferred && nanosOf(value) !== 0)
    return ": a declared `timestamp` holds milliseconds, a Date's precision, and this value has digits below the millisecond (a microsecond or nanosecond timestamp read as a PreciseDate); leave the column out of `schema` (its unit then follows the values) or keep the input Arrow";
  if (value instanceof Date && type.startsWith('timestamp'))
    return ": Parquet's TIMESTAMP is int64, whose nanoseconds hold only the years 1677-2262 and whose microseconds hold no digit below them";
  if (typeof value === 'bigint' && (value > INT64_MAX || value < INT64_MIN))
    return `: past int64's range (an unsigned 64-bit value, as a UBIGINT column holds, or a sum past 2^63): row objects cannot say a column is unsigned, so only Arrow batches write it (UINT64); keep the rows out of row objects (no stage that makes them, or \`map(fn, { input: 'view' })\`), or convert the column in a map (\`String(v)\` for its exact digits)`;
  if (!inferred) return '; change the declared `schema` or convert the column first';
  if (typeof value === 'bigint' && type === 'double')
    return `: the column was typed DOUBLE from its first rows' numbers, and a bigint (an integer past 2^53, as \`int64: 'auto'\` reads a large INT64) cannot join it; declare it (\`schema: { ${JSON.stringify(name)}: 'int64' }\` in toParquet) or read 64-bit integers as bigints throughout (\`int64: 'bigint'\` in fromParquet or fromArrow)`;
  return "; declare the column's type (`cast: 'auto'` or `types` in fromCsv, `schema` in toParquet)";
}

/** Why the Parquet writer cannot write an Arrow column of `type`, when there is more to say than its type. */
export function unwritableReason(type: { typeId: number; scale?: number }): string {
  // Type.Decimal: a scale Arrow allows (negative, or past the precision) that Parquet's DECIMAL does not
  if (type.typeId === 7 && type.scale !== undefined)
    return ` (scale ${type.scale}: Parquet's DECIMAL holds a scale from 0 to its precision, and DuckDB and pyarrow refuse a file with another)`;
  return '';
}
