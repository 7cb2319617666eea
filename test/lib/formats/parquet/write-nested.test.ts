/**
 * The writer's nested columns from JS rows and Arrow batches built in JS (encode/nested-*.ts):
 * exact round trips through fromParquet, an empty list kept apart from a null one, the rule for
 * what stays JSON text, coded errors for a later value that does not fit the inferred type, the
 * encoder thread and a checkpoint resume, and pages cut only at row starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Decimal,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  Map_,
  Null,
  RecordBatch,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  makeData,
  vectorFromArray,
} from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import { ErrorCodes } from '../../../../lib/core/errors.ts';
import { ParquetFileWriter } from '../../../../lib/formats/parquet/writer.ts';
import { NestedColumn } from '../../../../lib/formats/parquet/encode/nested-column.ts';
import { encodeChunk } from '../../../../lib/formats/parquet/encode/page.ts';
import { fromIterable, fromParquet, mapBatch, pipeline, toParquet } from '../../../../index.ts';
import { pollUntil, tempDir } from '../../../helpers.ts';
import { duckRows, duckRun, sqlString } from './duckdb.ts';
import { PreciseDate } from '../../../../lib/formats/values.ts';
import { inspectParquet } from '../../../../lib/formats/parquet/inspect.ts';

const dir = tempDir('spillway-write-nested-js-');
let files = 0;
const fileName = () => join(dir, `f${files++}.parquet`);

async function readRows(file: string, output: 'rows' | 'arrow' = 'rows'): Promise<Record<string, unknown>[]> {
  const got: Record<string, unknown>[] = [];
  const keep = mapBatch((batch: Record<string, unknown>[]) => {
    got.push(...batch);
    return [];
  });
  await pipeline(fromParquet(file, { output }), keep, { governor: false });
  return got;
}

async function duckTypes(file: string): Promise<Record<string, unknown>> {
  const { rows } = await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
  return Object.fromEntries(rows.map((r) => [r.column_name, r.column_type]));
}

const ROWS = [
  { id: 1, tags: ['a', 'b'], pos: { x: 1, y: 2n }, grid: [[1, 2], [], null, [3]] },
  { id: 2, tags: [], pos: null, grid: null },
  { id: 3, tags: null, pos: { x: null, y: 2n ** 62n }, grid: [[null]] },
  { id: 4, tags: ['ü€日本', null], pos: { x: 2.5, y: null }, grid: [] },
];

test('JS rows with lists and structs round-trip exactly; an empty list is not a null list', async () => {
  for (const encoderThread of [false, true]) {
    const file = fileName();
    await pipeline(fromIterable(ROWS), toParquet(file, { encoderThread }), { governor: false });
    assert.deepEqual(await duckTypes(file), {
      id: 'DOUBLE',
      tags: 'VARCHAR[]',
      pos: 'STRUCT(x DOUBLE, y BIGINT)',
      grid: 'DOUBLE[][]',
    });
    // int64 'auto': a safe integer comes back as a number
    const expected = ROWS.map((r) => ({ ...r, pos: r.pos && { ...r.pos, y: r.pos.y === 2n ? 2 : r.pos.y } }));
    for (const output of ['rows', 'arrow'] as const) assert.deepEqual(await readRows(file, output), expected, output);
    const duck = await duckRows(`SELECT tags IS NULL AS n, len(tags) AS k FROM ${sqlString(file)} ORDER BY id`);
    assert.deepEqual(
      duck.rows.map((r) => [r.n, r.k]),
      [
        [false, '2'],
        [false, '0'],
        [true, null],
        [false, '2'],
      ],
    );
  }
});

test('JS Maps become a MAP column', async () => {
  const file = fileName();
  const rows = [{ m: new Map([['k', 1n]]) }, { m: new Map() }, { m: null }, { m: new Map([['é', null]]) }];
  await pipeline(fromIterable(rows), toParquet(file), { governor: false });
  assert.deepEqual(await duckTypes(file), { m: 'MAP(VARCHAR, BIGINT)' });
  const duck = await duckRows(`SELECT m::VARCHAR AS m FROM ${sqlString(file)}`);
  assert.deepEqual(
    duck.rows.map((r) => r.m),
    ['{k=1}', '{}', null, '{é=NULL}'],
  );
});

test('values that do not agree on one nested type stay JSON text (the documented rule)', async () => {
  const file = fileName();
  const rows = [
    { mixed: ['a', 1], odd: new URL('https://x.test/'), empty: {} },
    { mixed: [true], odd: null, empty: {} },
  ];
  await pipeline(fromIterable(rows), toParquet(file), { governor: false });
  const types = await duckTypes(file);
  for (const name of ['mixed', 'odd', 'empty']) assert.match(String(types[name]), /^(JSON|VARCHAR)$/, name);
  assert.deepEqual(
    (await readRows(file)).map((r) => r.mixed),
    [['a', 1], [true]],
  );
});

test('a later batch whose nested value does not fit the inferred type is a coded error naming the column', async () => {
  const cases: [string, Record<string, unknown>][] = [
    ['pos', { id: 5, tags: [], pos: { x: 1, y: 2n, z: 3 }, grid: [] }],
    ['tags', { id: 5, tags: [1, 2], pos: null, grid: [] }],
    ['grid', { id: 5, tags: [], pos: null, grid: [['x']] }],
    ['pos', { id: 5, tags: [], pos: 'flat', grid: [] }],
  ];
  for (const [column, row] of cases) {
    const w = await ParquetFileWriter.open(fileName(), { rowGroupSize: 2 });
    await w.write(ROWS);
    await assert.rejects(w.write([row]), (e: Error & { code: string }) => {
      assert.equal(e.code, ErrorCodes.SCHEMA_MISMATCH, e.message);
      assert.match(e.message, new RegExp(`Column \`${column}\``));
      return true;
    });
    await w.abort();
  }
});

test('a column null in its first batch takes the nested type of a later one in the first row group, from rows and Arrow', async () => {
  // until 2026-12-07 rows made it JSON text (DuckDB read JSON, not a LIST) and Arrow was refused
  const rows = [
    ...Array.from({ length: 3 }, (_, i) => ({ id: i, tags: null, pos: null })),
    { id: 3, tags: ['a', null], pos: { x: 1.5 } },
    { id: 4, tags: [], pos: null },
  ];
  const fromRows = fileName();
  await pipeline(fromIterable(rows, { batchSize: 3 }), toParquet(fromRows), { governor: false });
  assert.deepEqual(await duckTypes(fromRows), { id: 'DOUBLE', tags: 'VARCHAR[]', pos: 'STRUCT(x DOUBLE)' });
  assert.deepEqual(await readRows(fromRows), rows);
  const arrowFile = fileName();
  const w = await ParquetFileWriter.open(arrowFile, {});
  await w.writeArrow(batchOf({ id: data([0, 1], new Float64()), tags: data([null, null], new Null()) }));
  await w.writeArrow(
    batchOf({
      id: data([2], new Float64()),
      tags: data([[1.5, null]], new List(new Field('item', new Float64(), true))),
    }),
  );
  await w.commit();
  assert.deepEqual(await duckTypes(arrowFile), { id: 'DOUBLE', tags: 'DOUBLE[]' });
  assert.deepEqual(
    (await readRows(arrowFile)).map((r) => r.tags),
    [null, null, [1.5, null]],
  );
  // past the first row group the column's type is fixed (a null column became text): a coded error, no file
  const late = fileName();
  await assert.rejects(
    pipeline(fromIterable(rows, { batchSize: 3 }), toParquet(late, { rowGroupSize: 2 }), { governor: false }),
    (e: Error & { code: string }) => {
      assert.equal(e.code, ErrorCodes.FORMAT, e.message);
      assert.match(e.message, /Column `tags` has type string/);
      return true;
    },
  );
  assert.equal(existsSync(late), false);
});

const data = (values: unknown[], type: DataType): Data =>
  vectorFromArray(values as never, type as never).data[0]! as Data;
const batchOf = (columns: Record<string, Data>): RecordBatch => new RecordBatch(columns as never);

const posType = (fields: [string, DataType][]) => new Struct(fields.map(([n, t]) => new Field(n, t, true)));

test('Arrow List, Struct and Map columns built in JS are written as LIST, STRUCT and MAP', async () => {
  const file = fileName();
  const w = await ParquetFileWriter.open(file);
  const ints = new List(new Field('item', new Int32(), true));
  const map = new Map_(
    new Field(
      'entries',
      posType([
        ['key', new Utf8()],
        ['value', new Int64()],
      ]),
      false,
    ),
  );
  await w.writeArrow(
    batchOf({
      l: data([[1, null], [], null], ints),
      s: data(
        [{ a: 1.5, b: 'x' }, null, { a: null, b: 'ü' }],
        posType([
          ['a', new Float64()],
          ['b', new Utf8()],
        ]),
      ),
      m: data([new Map([['k', 7n]]), new Map(), null], map),
    }),
  );
  await w.commit();
  assert.deepEqual(await duckTypes(file), {
    l: 'INTEGER[]',
    s: 'STRUCT(a DOUBLE, b VARCHAR)',
    m: 'MAP(VARCHAR, BIGINT)',
  });
  const duck = await duckRows(`SELECT l::VARCHAR AS l, s::VARCHAR AS s, m::VARCHAR AS m FROM ${sqlString(file)}`);
  assert.deepEqual(duck.rows, [
    { l: '[1, NULL]', s: "{'a': 1.5, 'b': x}", m: '{k=7}' },
    { l: '[]', s: null, m: '{}' },
    { l: null, s: "{'a': NULL, 'b': ü}", m: null },
  ]);
});

test('an Arrow batch whose struct has a new field, or a list of another type, is a coded error', async () => {
  const w = await ParquetFileWriter.open(fileName());
  const xy = posType([['x', new Float64()]]);
  await w.writeArrow(batchOf({ s: data([{ x: 1 }], xy) }), 0);
  await assert.rejects(
    w.writeArrow(
      batchOf({
        s: data(
          [{ x: 1, z: 'a' }],
          posType([
            ['x', new Float64()],
            ['z', new Utf8()],
          ]),
        ),
      }),
      1,
    ),
    (e: Error & { code: string }) => {
      assert.equal(e.code, ErrorCodes.SCHEMA_MISMATCH);
      assert.match(e.message, /Column `s`.*field `z`/);
      return true;
    },
  );
  await assert.rejects(
    w.writeArrow(batchOf({ s: data([{ x: 'text' }], posType([['x', new Utf8()]])) }), 2),
    (e: Error & { code: string }) => {
      assert.equal(e.code, ErrorCodes.SCHEMA_MISMATCH);
      assert.match(e.message, /Column `s`/);
      return true;
    },
  );
  await w.abort();
});

test('a refused batch leaves no part of its nested values behind: the next batches line up', async () => {
  const file = fileName();
  const w = await ParquetFileWriter.open(file);
  const xs = posType([['x', new Float64()]]);
  const ints = new List(new Field('item', new Int32(), true));
  await w.writeArrow(batchOf({ s: data([{ x: 1 }], xs), l: data([[1, 2]], ints), n: data([1], new Int32()) }), 0);
  // s and l are shredded before n is refused
  await assert.rejects(
    w.writeArrow(batchOf({ s: data([{ x: 2 }], xs), l: data([[3]], ints), n: data(['x'], new Utf8()) }), 1),
    { code: ErrorCodes.SCHEMA_MISMATCH },
  );
  await w.write([{ s: { x: 3 }, l: [], n: 3 }]);
  await w.commit();
  assert.deepEqual(await readRows(file), [
    { s: { x: 1 }, l: [1, 2], n: 1 },
    { s: { x: 3 }, l: [], n: 3 },
  ]);
});

/** Decimal128 data of unscaled `values` (null: a null). */
/** A List column of `child`'s values, list k being values [offsets[k], offsets[k+1]) (no null lists). */
function listOf(child: Data, offsets: number[]): Data {
  return makeData({
    type: new List(new Field('item', child.type, true)),
    length: offsets.length - 1,
    nullCount: 0,
    valueOffsets: Int32Array.from(offsets),
    child,
  }) as Data;
}

function decimals(values: (bigint | null)[], precision: number, scale: number, bitWidth: 128 | 256 = 128): Data {
  const width = bitWidth / 32;
  const words = new Uint32Array(values.length * width);
  const valid = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v === null) return;
    valid[i >> 3]! |= 1 << (i & 7);
    for (let j = 0; j < width; j++) words[i * width + j] = Number(BigInt.asUintN(32, v >> BigInt(32 * j)));
  });
  const nullCount = values.filter((v) => v === null).length;
  return makeData({
    type: new Decimal(scale, precision, bitWidth),
    length: values.length,
    nullCount,
    nullBitmap: valid,
    data: words,
  });
}

test('Arrow Decimal128, flat and inside a list, is written as DECIMAL exactly; another scale later is refused', async () => {
  const file = fileName();
  const w = await ParquetFileWriter.open(file);
  const big = 10n ** 37n + 5n;
  const child = decimals([12345n, -1n, null, big, -big], 38, 2);
  const list = listOf(child, [0, 3, 5]);
  await w.writeArrow(batchOf({ d: decimals([-12345n, 0n], 9, 2), dl: list }), 0);
  await assert.rejects(w.writeArrow(batchOf({ d: decimals([1n], 9, 3), dl: list.slice(0, 1) }), 1), {
    code: ErrorCodes.SCHEMA_MISMATCH,
  });
  await w.commit();
  assert.deepEqual(await duckTypes(file), { d: 'DECIMAL(9,2)', dl: 'DECIMAL(38,2)[]' });
  const duck = await duckRows(`SELECT d::VARCHAR AS d, dl::VARCHAR AS dl FROM ${sqlString(file)}`);
  assert.deepEqual(duck.rows, [
    { d: '-123.45', dl: '[123.45, -0.01, NULL]' },
    { d: '0.00', dl: `[${big / 100n}.05, -${big / 100n}.05]` },
  ]);
});

test('Arrow Decimal256, flat and inside a list, is written as DECIMAL exactly and reads back to the digit', async () => {
  const file = fileName();
  const big = 10n ** 75n + 123n; // 76 digits: the most Decimal256 holds
  const child = decimals([big, -big, null, 1n], 76, 4, 256);
  const list = listOf(child, [0, 3, 4]);
  const w = await ParquetFileWriter.open(file);
  await w.writeArrow(batchOf({ d: decimals([-big, 0n], 76, 4, 256), d128: decimals([5n, -5n], 38, 1), dl: list }), 0);
  await w.commit();
  const text = (v: bigint): string => {
    const digits = (v < 0n ? -v : v).toString().padStart(5, '0');
    return `${v < 0n ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`;
  };
  // decimals as exact text at any depth, through the rows path and the Arrow path (Decimal256 above 38 digits)
  for (const output of ['rows', 'arrow'] as const)
    assert.deepEqual(
      await readRows(file, output),
      [
        { d: text(-big), d128: '0.5', dl: [text(big), text(-big), null] },
        { d: '0.0000', d128: '-0.5', dl: ['0.0001'] },
      ],
      output,
    );
  const d = (await inspectParquet(file)).schema.find((n) => n.name === 'd')!;
  assert.deepEqual([d.annotation, d.details], ['DECIMAL', { precision: 76, scale: 4 }]);
  // an independent reader: DuckDB reads a decimal wider than 38 digits as a DOUBLE
  const duck = await duckRows(`SELECT d::DOUBLE AS d FROM ${sqlString(file)}`);
  assert.deepEqual(duck.rows, [{ d: Number(-big) / 1e4 }, { d: 0 }]);
});

test('a checkpoint keeps the nested schema: a resumed file continues it', async () => {
  const file = fileName();
  const w = await ParquetFileWriter.open(file, { rowGroupSize: 2 });
  await w.write(ROWS.slice(0, 3));
  // let the row group in flight reach the file
  const state = await pollUntil(
    () => w.checkpoint(),
    (s) => s !== undefined,
  );
  assert.ok(state && state.rows === 2, `checkpoint at ${state?.rows} rows`);
  const json = JSON.parse(JSON.stringify(state)) as typeof state;
  assert.equal(json.fields.find((f) => f.name === 'pos')?.nested?.type, 'struct');
  await w.release();
  const resumed = await ParquetFileWriter.resume(file, { rowGroupSize: 2 }, json);
  await resumed.write(ROWS.slice(2));
  await resumed.commit();
  assert.deepEqual(
    (await readRows(file)).map((r) => r.grid),
    ROWS.map((r) => r.grid),
  );
  assert.equal((await duckTypes(file)).grid, 'DOUBLE[][]');
});

test('pages of a nested leaf start at a row start, and each knows the rows before it', () => {
  const col = new NestedColumn(
    'grid',
    { type: 'list', element: { type: 'leaf', kind: 'double' }, elementNullable: true },
    true,
  );
  for (let i = 0; i < 500; i++)
    assert.equal(col.appendValue(i % 10 === 0 ? [] : Array.from({ length: i % 7 }, (_, k) => k)), undefined);
  const leaf = col.leaves[0]!;
  const chunk = encodeChunk(leaf, 64);
  assert.ok(chunk.pages.length > 10);
  let start = 0;
  let rows = 0;
  for (const page of chunk.pages) {
    assert.equal(leaf.levels!.reps[start], 0, `page at entry ${start}`);
    assert.equal(page.firstRow, rows);
    for (let k = start; k < start + page.numValues; k++) if (leaf.levels!.reps[k] === 0) rows++;
    start += page.numValues;
  }
  assert.equal(start, leaf.n);
  assert.equal(rows, 500);
});

test('microsecond timestamps from a file read as rows keep their microseconds, flat and nested; none is cut off', async () => {
  const source = fileName();
  await duckRun(`COPY (SELECT TIMESTAMPTZ '2024-02-29 10:00:00.123456+00' + to_microseconds(i) AS t,
    [TIMESTAMPTZ '1999-12-31 23:59:59.999999+00' + to_microseconds(i), NULL] AS tl,
    {'at': TIMESTAMPTZ '2000-01-01 00:00:00.000001+00'} AS s FROM range(3) r(i)) TO ${sqlString(source)} (FORMAT parquet)`);
  const copy = fileName();
  await pipeline(fromParquet(source), toParquet(copy), { governor: false });
  assert.deepEqual(await duckTypes(copy), await duckTypes(source));
  const q = (f: string) => duckRows(`SELECT t::VARCHAR AS t, tl::VARCHAR AS tl, s::VARCHAR AS s FROM ${sqlString(f)}`);
  assert.deepEqual((await q(copy)).rows, (await q(source)).rows);
  // a millisecond column refuses a value with microseconds rather than cutting them off
  const w = await ParquetFileWriter.open(fileName(), { schema: { t: 'timestamp' } });
  await assert.rejects(w.write([{ t: new PreciseDate(1000, 1000) }]), { code: ErrorCodes.FORMAT });
  await w.abort();
});

test('wall-clock timestamps (TIMESTAMP, not adjusted to UTC) stay TIMESTAMP, flat and nested; zoned ones stay TIMESTAMPTZ', async () => {
  const source = fileName();
  await duckRun(`COPY (SELECT TIMESTAMP '2024-02-29 10:00:00.123456' + to_microseconds(i * 7) AS t,
    TIMESTAMP_MS '1999-12-31 23:59:59.999' + to_milliseconds(i) AS tms,
    TIMESTAMP_NS '2262-04-11 23:47:16.854775' + to_microseconds(-i) AS tns,
    TIMESTAMPTZ '2024-02-29 10:00:00.5+00' + to_seconds(i) AS tz,
    [TIMESTAMP '1970-01-01 00:00:00' - to_microseconds(i), NULL] AS tl,
    {'at': TIMESTAMP '2000-01-01 00:00:00.000001', 'z': TIMESTAMPTZ '2000-01-01 00:00:00+00'} AS s
    FROM range(5) r(i)) TO ${sqlString(source)} (FORMAT parquet)`);
  const types = await duckTypes(source);
  assert.equal(types.t, 'TIMESTAMP');
  const q = (f: string) =>
    duckRows(`SELECT t::VARCHAR AS t, tms::VARCHAR AS tms, tns::VARCHAR AS tns, tz::VARCHAR AS tz,
      tl::VARCHAR AS tl, s::VARCHAR AS s FROM ${sqlString(f)} ORDER BY t`);
  const expected = (await q(source)).rows;
  for (const output of ['arrow', 'rows'] as const) {
    const copy = fileName();
    await pipeline(fromParquet(source, { output }), toParquet(copy), { governor: false });
    if (output === 'arrow') assert.deepEqual(await duckTypes(copy), types, 'the Arrow path keeps every type');
    else {
      // rows carry JS Dates (instants): the same values, written as UTC-adjusted timestamps (documented)
      assert.equal((await duckTypes(copy)).t, 'TIMESTAMP WITH TIME ZONE');
    }
    const back = await duckRows(`SELECT t::TIMESTAMP::VARCHAR AS t, tms::TIMESTAMP::VARCHAR AS tms,
      tns::TIMESTAMP_NS::VARCHAR AS tns, tz::VARCHAR AS tz, tl::TIMESTAMP[]::VARCHAR AS tl,
      s::STRUCT("at" TIMESTAMP, z TIMESTAMPTZ)::VARCHAR AS s FROM ${sqlString(copy)} ORDER BY t`);
    assert.deepEqual(back.rows, expected, `${output}: the same wall-clock values`);
  }
  // an inferred wall-clock column refuses UTC times in a later batch (neither converts exactly)
  const local = new Table({ t: vectorFromArray([new Date(0)], new TimestampMillisecond()) }).batches[0]!;
  const utc = new Table({ t: vectorFromArray([new Date(0)], new TimestampMillisecond('UTC')) }).batches[0]!;
  const w = await ParquetFileWriter.open(fileName());
  await w.writeArrow(local, 0);
  await assert.rejects(w.writeArrow(utc, 1), { code: ErrorCodes.SCHEMA_MISMATCH, message: /wall-clock/ });
  await w.abort();
});

test('a nested column of several pages per chunk reads back whole in DuckDB and in fromParquet', async () => {
  const file = fileName();
  const n = 60_000;
  const rows = Array.from({ length: n }, (_, i) => ({
    id: i,
    v: i % 97 === 0 ? null : Array.from({ length: i % 19 }, (_, k) => i + k / 4),
    s: { w: `w${i % 300}`, t: i % 5 === 0 ? [] : ['x', `é${i % 7}`] },
  }));
  await pipeline(fromIterable(rows), toParquet(file, { rowGroupSize: n, encoderThread: false }), { governor: false });
  const duck = await duckRows(
    `SELECT count(*)::INT AS n, sum(len(v))::INT AS values, sum(list_sum(v))::DOUBLE AS total,
            count(*) FILTER (WHERE v IS NULL)::INT AS nulls, sum(len(s.t))::INT AS tags
     FROM ${sqlString(file)}`,
  );
  const expected = { n, values: 0, total: 0, nulls: 0, tags: 0 };
  for (const r of rows) {
    if (r.v === null) expected.nulls++;
    else {
      expected.values += r.v.length;
      for (const x of r.v) expected.total += x;
    }
    expected.tags += r.s.t.length;
  }
  assert.deepEqual(duck.rows[0], expected);
  const back = await readRows(file);
  assert.deepEqual(back[n - 1], rows[n - 1]);
  assert.deepEqual(
    back.map((r) => r.v),
    rows.map((r) => r.v),
  );
});
