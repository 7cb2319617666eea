/**
 * Dates (days) and millisecond timestamps read as rows take a fast path (no bigint per value):
 * the same Dates as the exact path, before 1970 and at year 1 included, nulls kept, and a value
 * outside the range of a JS Date is a coded error naming the column, never a wrong Date.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DateDay,
  Field,
  RecordBatch,
  Schema,
  Struct,
  TimeMicrosecond,
  TimeMillisecond,
  TimeNanosecond,
  TimeSecond,
  TimestampMillisecond,
  makeData,
} from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { recordBatchToRows } from '../../../../lib/formats/arrow/to-rows.ts';
import { ErrorCodes, SpillwayError } from '../../../../index.ts';

function batchOf(columns: Record<string, Data>): RecordBatch {
  const fields = Object.entries(columns).map(([name, data]) => new Field(name, data.type, true));
  const length = Object.values(columns)[0]!.length;
  return new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length, children: Object.values(columns) }),
  );
}

test('day dates and millisecond timestamps read exactly, nulls kept', () => {
  const t = makeData({
    type: new TimestampMillisecond(),
    length: 4,
    nullCount: 1,
    nullBitmap: Uint8Array.of(0b1011),
    data: BigInt64Array.from([-1n, 1_700_000_000_123n, 0n, -62_135_596_800_000n]),
  });
  const d = makeData({ type: new DateDay(), length: 4, data: Int32Array.from([-1, 19_000, 0, -719_162]) });
  const rows = recordBatchToRows(batchOf({ t, d })) as { t: Date | null; d: Date }[];
  assert.deepEqual(
    rows.map((r) => [r.t?.toISOString() ?? null, r.d.toISOString()]),
    [
      ['1969-12-31T23:59:59.999Z', '1969-12-31T00:00:00.000Z'],
      ['2023-11-14T22:13:20.123Z', '2022-01-08T00:00:00.000Z'],
      [null, '1970-01-01T00:00:00.000Z'],
      ['0001-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z'],
    ],
  );
  // the string form still takes the exact path
  const strings = recordBatchToRows(batchOf({ t, d }), { timestamps: 'string' }) as { d: string }[];
  assert.equal(strings[0]!.d, '1969-12-31');
});

test('a timestamp or date outside the Date range is a coded error naming the column', () => {
  const far = [
    ['t', makeData({ type: new TimestampMillisecond(), length: 1, data: BigInt64Array.from([2n ** 60n]) })],
    [
      't',
      makeData({ type: new TimestampMillisecond(), length: 1, data: BigInt64Array.from([8_640_000_000_000_001n]) }),
    ],
    ['d', makeData({ type: new DateDay(), length: 1, data: Int32Array.from([2 ** 31 - 1]) })],
  ] as const;
  for (const [name, data] of far) {
    assert.throws(
      () => recordBatchToRows(batchOf({ [name]: data })),
      (e: unknown) =>
        e instanceof SpillwayError && e.code === ErrorCodes.UNSUPPORTED && e.message.includes(`Column "${name}"`),
    );
  }
});

test("Time in every unit reads as the rows path's text (trailing zeros dropped); outside a day is a coded error", () => {
  const rows = recordBatchToRows(
    batchOf({
      s: makeData({ type: new TimeSecond(), length: 2, data: Int32Array.from([45_296, 86_400]) }),
      ms: makeData({ type: new TimeMillisecond(), length: 2, data: Int32Array.from([45_296_500, 1]) }),
      us: makeData({ type: new TimeMicrosecond(), length: 2, data: BigInt64Array.from([45_296_120_000n, 0n]) }),
      ns: makeData({ type: new TimeNanosecond(), length: 2, data: BigInt64Array.from([45_296_000_000_100n, 10n]) }),
    }),
  ) as Record<string, string>[];
  assert.deepEqual(
    rows.map((r) => [r.s, r.ms, r.us, r.ns]),
    [
      ['12:34:56', '12:34:56.5', '12:34:56.12', '12:34:56.0000001'],
      ['24:00:00', '00:00:00.001', '00:00:00', '00:00:00.00000001'],
    ],
  );
  for (const bad of [-1n, 86_400_000_001n]) {
    assert.throws(
      () =>
        recordBatchToRows(
          batchOf({ t: makeData({ type: new TimeMicrosecond(), length: 1, data: BigInt64Array.from([bad]) }) }),
        ),
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.FORMAT && /column "t"/.test(e.message),
    );
  }
});
