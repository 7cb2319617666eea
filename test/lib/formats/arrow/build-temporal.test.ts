/**
 * Temporal columns built back from the values rows hold: every DATE, TIME and TIMESTAMP unit read
 * by valueReader (Dates, `HH:MM:SS[.fraction]` text) and rebuilt gives the same Arrow values, and a
 * value the type cannot hold exactly is refused, never rounded. groupBy keys, distinct rows and a
 * join's rows path rebuild their input's columns this way (lib/operators/input-types.ts); before,
 * a DATE came out as a TIMESTAMP WITH TIME ZONE and a TIME as text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DateDay,
  DateMillisecond,
  Field,
  TimeMicrosecond,
  TimeMillisecond,
  TimeNanosecond,
  TimeSecond,
  TimeUnit,
  Timestamp,
  makeData,
  type DataType,
} from 'apache-arrow';
import { buildColumn } from '../../../../lib/formats/arrow/build.ts';
import { valueReader } from '../../../../lib/formats/arrow/to-rows.ts';

/** A column of `type` holding `raw` (null: a null), read as rows read it, then rebuilt. */
function roundTrip(type: DataType, raw: (number | bigint | null)[]): { raw: unknown[]; rebuilt: unknown[] } {
  const wide = (type as unknown as { ArrayType: new (n: number) => ArrayLike<number | bigint> }).ArrayType;
  const values = new wide(raw.length) as unknown as (number | bigint)[];
  const bitmap = new Uint8Array(8);
  raw.forEach((v, i) => {
    if (v === null) return;
    values[i] = v;
    bitmap[i >> 3]! |= 1 << (i & 7);
  });
  const nullCount = raw.filter((v) => v === null).length;
  const data = makeData({ type, length: raw.length, nullCount, nullBitmap: bitmap, data: values } as never);
  const read = valueReader(data, {}, 'c');
  const rows = raw.map((_, i) => read(i));
  const built = buildColumn(new Field('c', type, true), rows);
  const again = valueReader(built, {}, 'c');
  return { raw: rows, rebuilt: raw.map((_, i) => again(i)) };
}

const cases: [string, DataType, (number | bigint | null)[]][] = [
  ['DATE (days)', new DateDay(), [0, -719162, 2932896, 19700, null]],
  ['DATE (milliseconds)', new DateMillisecond(), [0n, -62135596800000n, 1700000000000n, null]],
  ['TIME (seconds)', new TimeSecond(), [0, 1, 86399, 86400, null]],
  ['TIME (milliseconds)', new TimeMillisecond(), [0, 1, 45296789, 86400000, null]],
  ['TIME (microseconds)', new TimeMicrosecond(), [0n, 1n, 45296789012n, null]],
  ['TIME (nanoseconds)', new TimeNanosecond(), [0n, 1n, 45296789012345n, 86399999999999n, null]],
  ['TIMESTAMP (seconds)', new Timestamp(TimeUnit.SECOND), [0n, -1n, 1700000000n, 253402300799n, null]],
  ['TIMESTAMP (seconds, UTC)', new Timestamp(TimeUnit.SECOND, 'UTC'), [1700000000n, null]],
];

for (const [name, type, raw] of cases) {
  test(`${name}: the values rows hold build the same column`, () => {
    const { raw: rows, rebuilt } = roundTrip(type, raw);
    assert.deepEqual(
      rebuilt.map((v) => (v instanceof Date ? v.toISOString() : v)),
      rows.map((v) => (v instanceof Date ? v.toISOString() : v)),
    );
    const original = buildColumn(new Field('c', type, true), rows);
    assert.deepEqual(
      Array.from(original.values as ArrayLike<number | bigint>).slice(0, raw.length - 1),
      raw.slice(0, -1),
    );
  });
}

test('a value the type cannot hold exactly is refused, naming the column', () => {
  const refuse = (type: DataType, value: unknown) =>
    assert.throws(() => buildColumn(new Field('when', type, true), [value]), /Column "when"/);
  refuse(new DateDay(), new Date('2024-01-02T03:00:00Z')); // a time of day in a DATE
  refuse(new Timestamp(TimeUnit.SECOND), new Date('2024-01-02T03:00:00.500Z')); // milliseconds in seconds
  refuse(new TimeMillisecond(), '12:00:00.1234'); // a digit past the unit
  refuse(new TimeSecond(), '24:00:01');
  refuse(new TimeSecond(), '12:60:00');
  refuse(new TimeSecond(), 43200); // a number is not a time's text
  refuse(new DateDay(), '2024-01-02');
});
