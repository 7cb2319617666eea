/**
 * toCsv's Arrow text (arrowCsvText) must be, byte for byte, what csvFormatter writes for row views
 * of the same rows, for every column type it takes, every dialect it takes, selections and sliced
 * batches; and it must decline (undefined) every column and dialect where the two could differ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Binary,
  Bool,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  LargeUtf8,
  Null,
  RecordBatch,
  Schema,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  DateDay,
  Uint64,
  Uint8,
  Uint16,
  Uint32,
  Utf8,
  makeData,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
import { arrowCsvText } from '../../../../lib/formats/csv/arrow-text.ts';
import { csvFormatter, fastCsvFormat, type CsvFormat } from '../../../../lib/formats/csv/format.ts';
import { dateStyleOf } from '../../../../lib/formats/csv/date-style.ts';
import { RowViewer } from '../../../../lib/core/row-view.ts';
// row views read through the Arrow kernels this module provides
import '../../../../lib/formats/arrow/convert.ts';

/** What csvFormatter writes for row views of `rows` of `batch`. */
function viaViews(
  batch: RecordBatch,
  rows: ArrayLike<number> | undefined,
  format: CsvFormat,
  columns: string[],
): string {
  const viewer = new RowViewer(batch);
  const n = rows?.length ?? batch.numRows;
  const views = {
    *[Symbol.iterator]() {
      for (let r = 0; r < n; r++) yield viewer.at(rows === undefined ? r : rows[r]!);
    },
  };
  // as toCsv formats an Arrow batch's views: DATE and zone-less TIMESTAMP columns styled
  const types = new Map(batch.schema.fields.map((f) => [f.name, f.type]));
  const styles = columns.map((c) => (types.has(c) ? dateStyleOf(types.get(c)!) : undefined));
  return csvFormatter(format, columns, styles)(views);
}

function batchOf(columns: Record<string, { type: DataType; values: unknown[] }>): RecordBatch {
  return new RecordBatch(
    Object.fromEntries(
      Object.entries(columns).map(([name, { type, values }]) => [
        name,
        isBig(type) ? bigData(type, values as (bigint | null)[]) : vectorFromArray(values, type).data[0]!,
      ]),
    ) as never,
  );
}

/** 64-bit columns built from their stored integers (Arrow's builders take timestamps as milliseconds). */
const isBig = (type: DataType) =>
  type instanceof Int64 ||
  type instanceof Uint64 ||
  ((type as { unit?: number }).unit !== undefined && !(type instanceof DateDay));

function bigData(type: DataType, values: (bigint | null)[]) {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  const data = type instanceof Uint64 ? new BigUint64Array(values.length) : new BigInt64Array(values.length);
  values.forEach((v, i) => {
    data[i] = v ?? 0n;
  });
  const nullCount = values.filter((v) => v === null).length;
  return makeData({ type, length: values.length, nullCount, nullBitmap: bitmap, data } as never);
}

const text = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', ',', ';', '"', "'", '\n', '\r', ' ', 'é', '😀', '|', '\t', '0') }),
  fc.string({ unit: 'binary' }),
  fc.constant(''),
);
const ms = fc.oneof(
  fc.bigInt({ min: -62_135_596_800_000n, max: 253_402_300_799_999n }),
  fc.constantFrom(0n, -1n, 8_640_000_000_000_000n, -8_640_000_000_000_000n, 1_767_225_600_000n),
);
/** A time in `per` units of a millisecond, the Date range's ends and sub-millisecond digits included. */
const units = (per: bigint) =>
  fc
    .tuple(ms, fc.bigInt({ min: 0n, max: per - 1n }))
    .map(([m, sub]) => (m === 8_640_000_000_000_000n ? m * per : m * per + sub));
const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 4 });

const formats: Record<string, CsvFormat> = {
  default: fastCsvFormat({})!,
  semicolon: fastCsvFormat({ delimiter: ';' })!,
  'tab, windows lines': fastCsvFormat({ delimiter: '\t', record_delimiter: 'windows' })!,
  "pipe, quote '": fastCsvFormat({ delimiter: '|', quote: "'", escape: "'" })!,
};

for (const [name, format] of Object.entries(formats)) {
  test(`${name}: Arrow text is the views' text, byte for byte, for every type it writes`, () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            s: nullable(text),
            f64: nullable(fc.double()),
            f32: nullable(fc.float()),
            i32: nullable(fc.integer()),
            i16: nullable(fc.integer({ min: -32768, max: 32767 })),
            i8: nullable(fc.integer({ min: -128, max: 127 })),
            u8: nullable(fc.integer({ min: 0, max: 255 })),
            u16: nullable(fc.integer({ min: 0, max: 65535 })),
            u32: nullable(fc.integer({ min: 0, max: 2 ** 32 - 1 })),
            price: nullable(fc.integer({ min: -(10 ** 9), max: 10 ** 9 }).map((n) => n / 10_000)),
            b: nullable(fc.boolean()),
            ts: nullable(ms),
            sec: nullable(fc.bigInt({ min: -8_640_000_000_000n, max: 8_640_000_000_000n })),
            us: nullable(units(1000n)),
            ns: nullable(units(1_000_000n)),
            i64: nullable(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
            small64: nullable(fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n })),
            u64: nullable(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        (records, slice, select) => {
          const col = <K extends keyof (typeof records)[0]>(key: K) => records.map((r) => r[key]);
          let batch = batchOf({
            s: { type: new Utf8(), values: col('s') },
            f64: { type: new Float64(), values: col('f64') },
            f32: { type: new Float32(), values: col('f32') },
            i32: { type: new Int32(), values: col('i32') },
            i16: { type: new Int16(), values: col('i16') },
            i8: { type: new Int8(), values: col('i8') },
            u8: { type: new Uint8(), values: col('u8') },
            u16: { type: new Uint16(), values: col('u16') },
            u32: { type: new Uint32(), values: col('u32') },
            price: { type: new Float64(), values: col('price') },
            b: { type: new Bool(), values: col('b') },
            ts: { type: new TimestampMillisecond(), values: col('ts') },
            // a zone: instants, written with Z; a DATE: its day
            tsz: { type: new TimestampMillisecond('UTC'), values: col('ts') },
            day: {
              type: new DateDay(),
              values: col('ts').map((v) => (v === null ? null : new Date(Math.floor(Number(v) / 864e5) * 864e5))),
            },
            sec: { type: new TimestampSecond(), values: col('sec') },
            us: { type: new TimestampMicrosecond(), values: col('us') },
            ns: { type: new TimestampNanosecond(), values: col('ns') },
            i64: { type: new Int64(), values: col('i64') },
            small64: { type: new Int64(), values: col('small64') },
            u64: { type: new Uint64(), values: col('u64') },
            none: { type: new Null(), values: records.map(() => null) },
          });
          batch = batch.slice(Math.min(slice, batch.numRows - 1));
          const rows = select
            ? Int32Array.from({ length: batch.numRows }, (_, i) => i).filter((i) => i % 3 !== 1)
            : undefined;
          const columns = batch.schema.names.map(String).reverse();
          const bytes = arrowCsvText(batch, rows, format, columns);
          assert.ok(bytes !== undefined, 'declined a batch it writes');
          assert.equal(bytes.toString('utf8'), viaViews(batch, rows, format, columns));
        },
      ),
      { numRuns: 300 },
    );
  });
}

test('declines what the views could write otherwise: other types, JSON columns, bad UTF-8, dates out of range, a missing column', () => {
  const format = formats.default!;
  const one = (type: DataType, values: unknown[]) => batchOf({ v: { type, values } });
  const declined: [string, RecordBatch, string[]?][] = [
    ['LargeUtf8', one(new LargeUtf8(), ['a'])],
    ['Binary', one(new Binary(), [new Uint8Array([1])])],
    ['dictionary', one(new Dictionary(new Utf8(), new Int32()), ['a', 'b'])],
    ['a column the batch lacks', one(new Utf8(), ['a']), ['v', 'w']],
  ];
  const json = new RecordBatch(
    new Schema([new Field('v', new Utf8(), true, new Map([['spillway.json', 'true']]))]),
    one(new Utf8(), ['{"a":1}']).data,
  );
  declined.push(['a JSON column', json]);
  const badBytes = makeData({
    type: new Utf8(),
    length: 1,
    valueOffsets: new Int32Array([0, 2]),
    data: new Uint8Array([0xc3, 0x28]),
  });
  declined.push(['bytes that are not UTF-8', new RecordBatch({ v: badBytes } as never)]);
  const past = (type: DataType, v: bigint) => new RecordBatch({ v: bigData(type, [0n, v]) } as never);
  declined.push(['a millisecond past the Date range', past(new TimestampMillisecond(), 8_640_000_000_000_001n)]);
  declined.push(['a second past it', past(new TimestampSecond(), -8_640_000_000_001n)]);
  declined.push(['a microsecond past it', past(new TimestampMicrosecond(), 8_640_000_000_000_001_000n)]);
  for (const [what, batch, columns] of declined)
    assert.equal(arrowCsvText(batch, undefined, format, columns ?? ['v']), undefined, what);
  // dialects whose delimiter or quote a number or date could hold, or that are not ASCII
  const ok = one(new Utf8(), ['a']);
  for (const options of [
    { delimiter: '.' },
    { delimiter: 'a' },
    { delimiter: '0' },
    { delimiter: '§' },
    { delimiter: ':' },
  ]) {
    const dialect = fastCsvFormat(options);
    if (dialect) assert.equal(arrowCsvText(ok, undefined, dialect, ['v']), undefined, JSON.stringify(options));
  }
});

test('a null whose slot still holds bytes (other writers leave them) is written as nothing, as its view reads it', () => {
  const data = makeData({
    type: new Utf8(),
    length: 2,
    nullCount: 1,
    nullBitmap: new Uint8Array([0b10]),
    valueOffsets: new Int32Array([0, 3, 5]),
    data: new Uint8Array([120, 121, 122, 97, 98]),
  });
  const batch = new RecordBatch({ v: data } as never);
  const format = formats.default!;
  assert.equal(arrowCsvText(batch, undefined, format, ['v'])?.toString(), '\nab\n');
  assert.equal(viaViews(batch, undefined, format, ['v']), '\nab\n');
});
