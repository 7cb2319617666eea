/**
 * How toCsv writes a date or time value, by what its column is. A JS Date is an instant, written
 * ISO-8601 with `Z`; but an Arrow DATE column is a calendar day and a TIMESTAMP without a time
 * zone a wall-clock time: written as instants (`2024-01-01T00:00:00.000Z`), DuckDB and spillway's
 * own sniffer read them back as TIMESTAMP WITH TIME ZONE, so a round trip through CSV changed
 * their types. They are written as DuckDB writes them: `2024-01-01` and
 * `2024-01-01 10:00:00.123`, which both read back as DATE and TIMESTAMP.
 */
import { DATE_TYPE_ID, TIMESTAMP_TYPE_ID } from '../arrow/type-ids.ts';

/** A calendar day, a wall-clock time, or (undefined) an instant. */
export type DateStyle = 'date' | 'local' | undefined;

/** The style of an Arrow column's values (undefined for an instant or a column of another type). */
export function dateStyleOf(type: { typeId: number; timezone?: string | null }): DateStyle {
  if (type.typeId === DATE_TYPE_ID) return 'date';
  if (type.typeId === TIMESTAMP_TYPE_ID && (type.timezone === null || type.timezone === undefined)) return 'local';
  return undefined;
}

/** The time of an ISO text at UTC midnight, milliseconds or finer digits all zero. */
const MIDNIGHT = /^T00:00:00(\.0*)?Z$/;

/**
 * `iso` (isoString's text, with its `Z`) in `style`. A `date` value with a time of day (an Arrow
 * Date64 holding one, which the format says it should not) stays the whole instant: cut to its
 * day, the time was lost without a word (toParquet refuses such a value).
 */
export function styledDate(iso: string, style: DateStyle): string {
  if (style === undefined) return iso;
  const t = iso.indexOf('T');
  if (style === 'date') return MIDNIGHT.test(iso.slice(t)) ? iso.slice(0, t) : iso;
  return `${iso.slice(0, t)} ${iso.slice(t + 1, -1)}`;
}
