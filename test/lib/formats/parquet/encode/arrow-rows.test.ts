/**
 * A filter's kept rows written where they are (appendArrowRows) must give the very bytes that
 * writing them copied out first (selectRows, then appendArrow) gives: every Arrow type the writer
 * takes, nulls, sliced batches (a bitmap offset), selections with runs, gaps, repeats and no rows,
 * row groups cut by rows and by bytes inside a selection, and a column widened in the first row
 * group. Read back by DuckDB too, so that "the same bytes" is also "the right rows".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Binary,
  Bool,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  LargeUtf8,
  List,
  Null,
  RecordBatch,
  Struct,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
import { ParquetFileWriter } from '../../../../../lib/formats/parquet/writer.ts';
import type { ParquetWriteOptions } from '../../../../../lib/formats/parquet/write/options.ts';
import { selectRows } from '../../../../../lib/formats/arrow/select.ts';
import { tempDir } from '../../../../helpers.ts';
import { duckRows, sqlString } from '../duckdb.ts';

const dir = tempDir();
const N = 300;

/** A seeded generator, so that a failure repeats. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const texts = ['', 'a', 'é✓', '😀 emoji', 'a "quoted", comma', 'x'.repeat(90), 'line\nbreak'];

function column(type: DataType, make: (i: number) => unknown, nullEvery = 5) {
  return vectorFromArray(
    Array.from({ length: N }, (_, i) => (i % nullEvery === 3 ? null : make(i))),
    type,
  );
}

/** One batch of every type toParquet writes from Arrow, each column with nulls. */
function sourceBatch(): RecordBatch {
  const columns = {
    f64: column(new Float64(), (i) => (i === 7 ? Number.NaN : i === 8 ? -0 : i / 3)),
    f32: column(new Float32(), (i) => i / 4),
    i32: column(new Int32(), (i) => (i % 2 ? -i : i * 1000)),
    i16: column(new Int16(), (i) => i - 150),
    i8: column(new Int8(), (i) => (i % 200) - 100),
    u8: column(new Uint8(), (i) => i % 256),
    u16: column(new Uint16(), (i) => i * 200),
    u32: column(new Uint32(), (i) => 4_000_000_000 - i),
    i64: column(new Int64(), (i) => BigInt(i) * 10n ** 15n - 2n ** 62n),
    u64: column(new Uint64(), (i) => 2n ** 63n + BigInt(i)),
    bool: column(new Bool(), (i) => i % 3 === 0),
    text: column(new Utf8(), (i) => texts[i % texts.length]),
    large: column(new LargeUtf8(), (i) => `large-${i}`),
    bytes: column(new Binary(), (i) => new Uint8Array([i % 256, 0, 255])),
    sec: column(new TimestampSecond(), (i) => 1_700_000_000_000 + i * 1000),
    ms: column(new TimestampMillisecond(), (i) => 1_700_000_000_000 + i),
    us: column(new TimestampMicrosecond(), (i) => 1_700_000_000_000 + i),
    ns: column(new TimestampNanosecond(), (i) => 1_700_000_000_000 + i),
    day: column(new DateDay(), (i) => new Date(Date.UTC(2024, 0, 1 + i))),
    dayMs: column(new DateMillisecond(), (i) => new Date(Date.UTC(2024, 0, 1 + i))),
    dict: column(new Dictionary(new Utf8(), new Int32()), (i) => `k${i % 7}`),
    dec: column(new Decimal(2, 12, 128), (i) => new Uint32Array([i * 7, 0, 0, 0])),
    list: column(new List(new Field('item', new Int32(), true)), (i) => [i, i + 1]),
    rec: column(new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]), (i) => ({
      a: i,
      b: `b${i}`,
    })),
    none: vectorFromArray(new Array(N).fill(null), new Null()),
  };
  return new RecordBatch(Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v.data[0]!])) as never);
}

/** Selections as a filter and other stages make them. */
function selections(numRows: number): Record<string, ArrayLike<number>> {
  const next = random(numRows);
  const kept = (rate: number) => Int32Array.from({ length: numRows }, (_, i) => i).filter(() => next() < rate);
  return {
    'most rows (runs)': kept(0.88),
    'few rows (gaps)': kept(0.1),
    'every row': Int32Array.from({ length: numRows }, (_, i) => i),
    'no row': new Int32Array(0),
    'one row': [numRows - 1],
    'repeats, out of order': [5, 5, 2, numRows - 1, 0, 2],
  };
}

async function write(
  file: string,
  options: ParquetWriteOptions,
  batches: { batch: RecordBatch; rows: ArrayLike<number> }[],
  inPlace: boolean,
): Promise<Buffer> {
  const w = await ParquetFileWriter.open(file, options);
  for (const [i, { batch, rows }] of batches.entries()) {
    if (inPlace) await w.writeArrow(batch, i, rows);
    else await w.writeArrow(selectRows(batch, rows), i);
  }
  await w.commit();
  return readFileSync(file);
}

const options: Record<string, ParquetWriteOptions> = {
  default: {},
  'row groups of 7 rows': { rowGroupSize: 7 },
  'row groups of 2 KB': { rowGroupBytes: 2048 },
};

const whole = sourceBatch();
const sources = { whole, 'sliced (bitmaps at an offset)': whole.slice(13, 250) };
let n = 0;
for (const [sourceName, source] of Object.entries(sources))
  for (const [selectionName, rows] of Object.entries(selections(source.numRows)))
    for (const [optionName, opts] of Object.entries(options)) {
      test(`${sourceName}, ${selectionName}, ${optionName}: kept rows written in place are the bytes of the rows copied out`, async () => {
        const k = n++;
        const batches = [
          { batch: source, rows },
          { batch: source, rows: selections(source.numRows)['few rows (gaps)']! },
        ];
        const copied = await write(join(dir, `copied-${k}.parquet`), opts, batches, false);
        const inPlace = await write(join(dir, `in-place-${k}.parquet`), opts, batches, true);
        assert.ok(inPlace.equals(copied), 'the two files differ');
      });
    }

test('kept rows read back by DuckDB are the rows kept, in order', async () => {
  const rows = selections(whole.numRows)['most rows (runs)']!;
  const file = join(dir, 'read-back.parquet');
  await write(file, {}, [{ batch: whole, rows }], true);
  const back = await duckRows(`SELECT i32, text, ms, bool FROM read_parquet(${sqlString(file)})`);
  const expected = Array.from(rows, (i) => ({
    i32: whole.getChild('i32')!.get(i),
    text: whole.getChild('text')!.get(i),
    bool: whole.getChild('bool')!.get(i),
  }));
  assert.deepEqual(
    back.rows.map((r) => ({ i32: r.i32, text: r.text, bool: r.bool })),
    expected,
  );
});

test('a column widened in the first row group from kept rows: the bytes of the rows copied out', async () => {
  const ints = new RecordBatch({ v: vectorFromArray([1, 2, null, 4, 5], new Int32()).data[0]! } as never);
  const doubles = new RecordBatch({ v: vectorFromArray([0.5, null, 2.5], new Float64()).data[0]! } as never);
  const batches = [
    { batch: ints, rows: [0, 2, 4] },
    { batch: doubles, rows: [1, 2] },
  ];
  const copied = await write(join(dir, 'widen-copied.parquet'), {}, batches, false);
  const inPlace = await write(join(dir, 'widen-in-place.parquet'), {}, batches, true);
  assert.ok(inPlace.equals(copied));
});

test('a selection naming a row the batch lacks is refused before anything is appended', async () => {
  const w = await ParquetFileWriter.open(join(dir, 'refused.parquet'));
  await assert.rejects(
    w.writeArrow(whole, 0, [0, whole.numRows]),
    /selection\[1\] is 300, not a row of a 300-row batch/,
  );
  await w.abort();
});

test('a column of nulls in the first batch, then bytes or text: every value kept, in place or copied out', async () => {
  // a Null column is stored as bytes until it takes a type: Binary values were appended into it
  // and then dropped when it became a string column (every value read back null)
  const nulls = new RecordBatch({ v: vectorFromArray([null, null], new Null()).data[0]! } as never);
  for (const [name, type, values] of [
    ['binary', new Binary(), [new Uint8Array([1, 2]), null, new Uint8Array([255])]],
    ['text', new Utf8(), ['a', null, 'é✓']],
  ] as const) {
    const later = new RecordBatch({ v: vectorFromArray([...values] as unknown[], type as DataType).data[0]! } as never);
    for (const inPlace of [false, true]) {
      const file = join(dir, `nulls-then-${name}-${inPlace}.parquet`);
      await write(
        file,
        {},
        [
          { batch: nulls, rows: [0, 1] },
          { batch: later, rows: [0, 1, 2] },
        ],
        inPlace,
      );
      const back = await duckRows(`SELECT v::VARCHAR AS v, typeof(v) AS t FROM read_parquet(${sqlString(file)})`);
      assert.deepEqual(
        back.rows.map((r) => r.v),
        name === 'binary' ? [null, null, '\\x01\\x02', null, '\\xFF'] : [null, null, 'a', null, 'é✓'],
      );
      assert.equal(back.rows[0]!.t, name === 'binary' ? 'BLOB' : 'VARCHAR');
    }
  }
});
