/**
 * toCsv writes a DATE column as its day and a TIMESTAMP without a time zone as wall-clock time, as
 * DuckDB writes them, and fromCsv's sniffed date and timestamp columns become DATE and TIMESTAMP,
 * so that a round trip through CSV keeps their types; instants keep their `Z`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  pipeline,
  fromCsv,
  fromParquet,
  fromIterable,
  toCsv,
  toJsonl,
  toParquet,
  ErrorCodes,
  type SpillwayError,
  map,
  filter,
  distinct,
  sort,
  join as joinOn,
  fromArrow,
} from '../../index.ts';
import { DateMillisecond, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { tempDir } from '../helpers.ts';

test('DATE and zone-less TIMESTAMP columns read back by DuckDB with their types and values; instants as before', async () => {
  const dir = tempDir();
  const parquet = join(dir, 'dates.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const select = `SELECT i,
      (DATE '2024-02-28' + i::INTEGER) AS d,
      (TIMESTAMP '1969-12-31 23:59:59.123' + INTERVAL (i) HOUR) AS ts,
      (TIMESTAMP '2024-01-01 10:00:00.123456' + INTERVAL (i) MINUTE) AS us,
      (TIMESTAMPTZ '2024-01-01 10:00:00+00' + INTERVAL (i) SECOND) AS tz
    FROM range(3000) t(i)`;
  await c.run(`COPY (${select}) TO '${parquet}'`);
  for (const [label, source] of [
    ['Arrow', () => fromParquet(parquet)],
    // a map reading fields keeps the Arrow form: the columns keep their types
    ['map', () => [fromParquet(parquet), map((r: { i: number }) => r, { input: 'view' })]],
  ] as const) {
    const csv = join(dir, `${label}.csv`);
    const stages = source();
    await pipeline(...((Array.isArray(stages) ? stages : [stages]) as [never]), toCsv(csv));
    const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_csv('${csv}')`))
      .getRowObjectsJson()
      .map((r) => `${r.column_name}:${r.column_type}`);
    assert.deepEqual(
      types,
      ['i:BIGINT', 'd:DATE', 'ts:TIMESTAMP', 'us:TIMESTAMP', 'tz:TIMESTAMP WITH TIME ZONE'],
      label,
    );
    const differ = await c.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM (SELECT * FROM read_csv('${csv}') EXCEPT SELECT * FROM (${select}))`,
    );
    assert.equal(differ.getRowObjectsJson()[0]!.n, 0, `${label}: every value as in the Parquet file`);
    const second = readFileSync(csv, 'utf8').split('\n')[1];
    assert.equal(second, '0,2024-02-28,1969-12-31 23:59:59.123,2024-01-01 10:00:00.123456,2024-01-01T10:00:00.000Z');
  }
  // a JS Date in a row is an instant, as before
  const rows = join(dir, 'rows.csv');
  await pipeline(fromIterable([{ at: new Date(Date.UTC(2024, 0, 1)) }]), toCsv(rows));
  assert.equal(readFileSync(rows, 'utf8'), 'at\n2024-01-01T00:00:00.000Z\n');
});

test("fromCsv cast: 'auto' -> toParquet takes the types DuckDB reads the CSV with: DATE, TIMESTAMP, BIGINT (were TIMESTAMPTZ and DOUBLE)", async () => {
  const dir = tempDir();
  const csv = join(dir, 'typed.csv');
  const lines = ['d,ts,tz,n'];
  // the first rows null, so a batch of nulls comes first: the column widens from Null
  for (let i = 0; i < 5000; i++)
    lines.push(
      i < 3000
        ? `,,,${i}`
        : `2024-0${1 + (i % 9)}-1${i % 10},2024-01-01 10:${String(i % 60).padStart(2, '0')}:00.${String(i % 1000).padStart(3, '0')},2024-01-01T10:00:00+0${i % 3}:00,${i}`,
    );
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  const types = async (from: string) =>
    (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJson().map((r) => r.column_type);
  // straight to the sink, and through a filter (it passed the rows on without the sniffed types:
  // Int32 and TIMESTAMPTZ past a filter(() => true))
  // and through the operators, which took the rows untyped (a distinct's DATE came out TIMESTAMPTZ)
  for (const between of [[], [filter((r: { n: number }) => r.n >= 0)], [distinct()], [sort('n')]]) {
    const parquet = join(dir, `typed-${between.length}.parquet`);
    await pipeline(fromCsv(csv, { cast: 'auto', batchSize: 1000 }), ...between, toParquet(parquet));
    assert.deepEqual(await types(`read_parquet('${parquet}')`), [
      'DATE',
      'TIMESTAMP',
      'TIMESTAMP WITH TIME ZONE',
      'BIGINT',
    ]);
    const differ = await c.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM (SELECT * FROM read_parquet('${parquet}') EXCEPT SELECT * FROM read_csv('${csv}'))`,
    );
    assert.equal(differ.getRowObjectsJson()[0]!.n, 0);
  }
  // a join's right side, read the same way, keeps them too
  const joined = join(dir, 'typed-join.parquet');
  await pipeline(
    fromCsv(csv, { cast: 'auto', batchSize: 1000 }),
    joinOn(fromCsv(csv, { cast: 'auto' }), { on: 'n', how: 'inner' }),
    toParquet(joined),
  );
  const joinedTypes = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${joined}')`)).getRowObjectsJson();
  assert.deepEqual(Object.fromEntries(joinedTypes.map((r) => [r.column_name, r.column_type])), {
    d: 'DATE',
    ts: 'TIMESTAMP',
    tz: 'TIMESTAMP WITH TIME ZONE',
    n: 'BIGINT',
    d_right: 'DATE',
    ts_right: 'TIMESTAMP',
    tz_right: 'TIMESTAMP WITH TIME ZONE',
  });
});

test('an invalid Date (NaN time) is a coded error naming its column in toCsv, toJsonl and toParquet, and no file is left', async () => {
  // toJsonl wrote it as null (Date#toJSON), toCsv threw a bare RangeError, toParquet blamed the unit
  const dir = tempDir();
  const rows = [
    { id: 1, when: new Date('2024-03-10T00:00:00Z') },
    { id: 2, when: new Date('not a date') },
  ];
  for (const [name, sink] of [
    ['out.csv', (p: string) => toCsv(p)],
    ['out.jsonl', (p: string) => toJsonl(p)],
    ['out.parquet', (p: string) => toParquet(p)],
  ] as const) {
    await assert.rejects(pipeline(fromIterable(rows), sink(join(dir, name))), (error: SpillwayError) => {
      assert.equal(error.code, ErrorCodes.FORMAT, name);
      assert.match(error.message, /`when`.*invalid Date/, name);
      return true;
    });
  }
  assert.deepEqual(readdirSync(dir), []);
});

test('an Arrow Date64 holding a time of day keeps it in toCsv, as after a map; whole days stay dates', async () => {
  // the Arrow format says a Date64 holds whole days, but writers make others; toCsv cut such a
  // value to its day without a word until 2026-12-07 (helper-74); toParquet refuses it
  const dir = tempDir();
  const arrow = join(dir, 'date64.arrow');
  const days = [Date.UTC(2024, 1, 29, 1, 2, 3, 4), Date.UTC(2024, 2, 1)].map((ms) => new Date(ms));
  writeFileSync(arrow, tableToIPC(new Table({ d: vectorFromArray(days, new DateMillisecond()) }), 'file'));
  const direct = join(dir, 'direct.csv');
  const mapped = join(dir, 'mapped.csv');
  await pipeline(fromArrow(arrow), toCsv(direct));
  await pipeline(
    fromArrow(arrow),
    map((row) => row),
    toCsv(mapped),
  );
  assert.equal(readFileSync(direct, 'utf8'), 'd\n2024-02-29T01:02:03.004Z\n2024-03-01\n');
  assert.equal(readFileSync(mapped, 'utf8').split('\n')[1], '2024-02-29T01:02:03.004Z');
});
