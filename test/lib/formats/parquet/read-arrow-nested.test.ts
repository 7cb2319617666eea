/**
 * Nested columns on the Arrow path (issue 18): lists, structs and maps become Arrow List, Struct
 * and Map with exact values, equal value for value to the rows path (read back with
 * `recordBatchToRows`), on DuckDB-written files with nulls at every level, empty lists and maps,
 * decimals, int64 and timestamps inside; maps on the rows path are `{ key, value }` entries with
 * typed keys; what Arrow cannot hold exactly is refused with a coded error naming file and column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DataType, Type } from 'apache-arrow';
import type { Decimal, Field } from 'apache-arrow';
import { openParquet } from '../../../../lib/formats/parquet/reader.ts';
import { recordBatchToRows } from '../../../../lib/formats/arrow/convert.ts';
import { JSON_METADATA_KEY } from '../../../../lib/formats/arrow/convert.ts';
import { PreciseDate } from '../../../../lib/formats/parquet/types.ts';
import { fromParquet } from '../../../../sources/fromParquet.ts';
import { collect } from '../../../../sinks/collect.ts';
import { toParquet } from '../../../../sinks/toParquet.ts';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { tempDir } from '../../../helpers.ts';
import { duckRows, duckRun, fromDuck, fromSpillway, sqlString } from './duckdb.ts';

const dir = tempDir('spillway-arrow-nested-');
const ROWS = 3000;
const file = join(dir, 'nested.parquet');

/** Every nested shape DuckDB writes, with nulls and empty values at each level; i is the row number. */
const SELECT = `SELECT
  i::INT AS id,
  CASE WHEN i % 11 = 0 THEN NULL WHEN i % 13 = 0 THEN []::INT[] ELSE [i::INT, NULL, (-i)::INT] END AS l,
  CASE WHEN i % 7 = 0 THEN NULL
       ELSE [[i::BIGINT * 1000000000000000, NULL], []::BIGINT[], NULL, [(i % 3)::BIGINT]] END AS ll,
  CASE WHEN i % 5 = 0 THEN NULL ELSE {
    'a': CASE WHEN i % 3 = 0 THEN NULL ELSE i::INT END,
    'b': CASE WHEN i % 4 = 0 THEN NULL ELSE 'b' || i::VARCHAR END,
    'd4': (i::DECIMAL(9,4) / 7)::DECIMAL(9,4),
    'd18': (i::DECIMAL(18,3) * 1234567.891 - 777)::DECIMAL(18,3),
    'd38': CASE WHEN i % 6 = 0 THEN NULL ELSE (i::DECIMAL(38,10) * 98765432101.0123456789 - 5)::DECIMAL(38,10) END,
    't': TIMESTAMP '2024-01-02 03:04:05.765572' + to_microseconds(i * 1001),
    'tms': TIMESTAMP_MS '1969-12-31 23:59:59.123' + to_milliseconds(i),
    'tns': make_timestamp_ns(epoch_ns(TIMESTAMP_NS '2024-01-02 03:04:05.765572123') + i * 1000),
    'tz': TIMESTAMPTZ '1969-12-31 23:59:59.999999+00' + to_microseconds(i),
    'dt': DATE '2024-02-29' + i::INT,
    'u': ('6f1a2b3c-0000-4000-8000-' || lpad(i::VARCHAR, 12, '0'))::UUID,
    'bin': ('\\xAB\\x00' || i::VARCHAR)::BLOB,
    'f': ((i % 64)::FLOAT / 4)::FLOAT,
    'ub': (18446744073709551615 - i)::UBIGINT,
    'big': (i::BIGINT * 3074457345618258),
    'flag': i % 2 = 0,
    'inner': CASE WHEN i % 9 = 0 THEN NULL ELSE {'x': i::SMALLINT, 'y': [(i % 100)::TINYINT, NULL]} END
  } END AS s,
  CASE WHEN i % 17 = 0 THEN NULL
       ELSE list_transform(range((i % 4)::BIGINT), x -> CASE WHEN x = 2 THEN NULL
            ELSE {'x': ((x + i)::DECIMAL(10,2) / 4)::DECIMAL(10,2), 'ts': make_timestamp_ns(946684800000000001 + x * i * 1000000000)} END) END AS ls,
  CASE WHEN i % 19 = 0 THEN NULL WHEN i % 29 = 0 THEN MAP {}::MAP(INT, VARCHAR)
       ELSE MAP {i::INT: 'v' || i::VARCHAR, (-i - 1)::INT: CASE WHEN i % 2 = 0 THEN NULL ELSE 'odd' END} END AS mi,
  CASE WHEN i % 23 = 0 THEN NULL
       ELSE MAP {DATE '2000-01-01' + i::INT: (i::DECIMAL(38,10) + 0.0000000001)::DECIMAL(38,10)} END AS md,
  CASE WHEN i % 3 = 0 THEN MAP {}::MAP(VARCHAR, INT[])
       ELSE MAP {'k' || (i % 5)::VARCHAR: [i::INT, NULL], 'z': CASE WHEN i % 2 = 0 THEN NULL ELSE []::INT[] END} END AS ml,
  MAP {(i::DECIMAL(10,2) / 8)::DECIMAL(10,2): i::INT} AS mdec,
  MAP {(i::BIGINT * 3074457345618258)::BIGINT: {'p': i::INT}} AS mbig
FROM range(${ROWS}) t(i)`;

test.before(async () => {
  await duckRun(`COPY (${SELECT}) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
});

/** Rows of both paths (the Arrow one read back with recordBatchToRows) and the Arrow fields. */
async function readBoth(
  path: string,
  batchSize: number,
  from = 0,
): Promise<{ rows: Record<string, unknown>[]; arrowRows: Record<string, unknown>[]; fields: Field[] }> {
  const reader = await openParquet(path, { batchSize });
  try {
    const rows: Record<string, unknown>[] = [];
    for await (const b of reader.batches(from)) rows.push(...b.rows);
    const arrowRows: Record<string, unknown>[] = [];
    let fields: Field[] = [];
    for await (const b of reader.recordBatches(from)) {
      fields = b.batch.schema.fields;
      arrowRows.push(...(recordBatchToRows(b.batch) as Record<string, unknown>[]));
    }
    return { rows, arrowRows, fields };
  } finally {
    await reader.close();
  }
}

function assertRowsEqual(got: Record<string, unknown>[], want: Record<string, unknown>[], what: string): void {
  assert.equal(got.length, want.length, `${what}: row count`);
  for (const [i, row] of got.entries()) {
    // one row and column at a time: a mismatch names both
    for (const name of Object.keys(want[i]!))
      assert.deepStrictEqual(row[name], want[i]![name], `${what}: row ${i} ${name}`);
  }
}

test('nested columns become Arrow List, Struct and Map (never JSON text)', async () => {
  const { fields } = await readBoth(file, 500);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const kind = (name: string): Type => byName.get(name)!.type.typeId;
  assert.equal(kind('l'), Type.List);
  assert.equal(kind('ll'), Type.List);
  assert.equal(kind('s'), Type.Struct);
  assert.equal(kind('ls'), Type.List);
  for (const m of ['mi', 'md', 'ml', 'mdec', 'mbig']) assert.equal(kind(m), Type.Map, m);
  for (const f of fields) assert.equal(f.metadata.get(JSON_METADATA_KEY), undefined, f.name);
  const s = byName.get('s')!.type;
  const child = (name: string): DataType => s.children.find((c: Field) => c.name === name)!.type;
  assert.ok(DataType.isDecimal(child('d38')));
  assert.deepEqual([(child('d18') as Decimal).precision, (child('d18') as Decimal).scale], [18, 3]);
  assert.match(String(child('t')), /^Timestamp<MICROSECOND/);
  assert.match(String(child('tns')), /^Timestamp<NANOSECOND/);
  assert.equal(String(child('tz')), 'Timestamp<MICROSECOND, UTC>');
  assert.ok(DataType.isDate(child('dt')));
  assert.equal(String(child('ub')), 'Uint64');
  assert.equal(String(child('big')), 'Int64');
  assert.equal(String(child('u')), 'Utf8');
  assert.equal(String(child('bin')), 'Binary');
  assert.equal(child('inner').typeId, Type.Struct);
  assert.equal(String(child('inner').children[1]?.type), 'List<Int8>');
  const mi = byName.get('mi')!.type;
  assert.equal(String(mi.children[0].type.children[0].type), 'Int32');
  assert.equal(mi.children[0].type.children[0].nullable, false, 'map keys are never null');
});

test('Arrow values equal the rows path value for value, at batch sizes that cut pages, and resumed', async () => {
  for (const [batchSize, from] of [
    [7, 0],
    [1000, 0],
    [333, 1234],
  ] as const) {
    const { rows, arrowRows } = await readBoth(file, batchSize, from);
    assert.equal(rows.length, ROWS - from);
    assertRowsEqual(arrowRows, rows, `batchSize ${batchSize} from ${from}`);
  }
});

test('the rows path equals DuckDB on every nested column (maps as {key, value} entries)', async () => {
  const duck = await duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`);
  const { rows } = await readBoth(file, 999);
  assert.equal(rows.length, duck.rows.length);
  for (const [i, row] of rows.entries())
    for (const name of duck.names)
      assert.deepStrictEqual(fromSpillway(row[name]), fromDuck(duck.rows[i]![name]), `row ${i} column ${name}`);
});

test('nulls, empty lists and exact values inside nested columns, on both paths', async () => {
  const { rows, arrowRows } = await readBoth(file, 100);
  for (const r of [rows, arrowRows]) {
    assert.equal(r[11]!.l, null);
    assert.deepEqual(r[13]!.l, []);
    assert.deepEqual(r[1]!.l, [1, null, -1]);
    assert.deepStrictEqual(r[10]!.ll, [[10_000_000_000_000_000n, null], [], null, [1]]);
    assert.deepStrictEqual(r[8]!.ll, [[8_000_000_000_000_000, null], [], null, [2]]);
    assert.equal(r[5]!.s, null);
    const s = r[6]! as { s: Record<string, unknown> };
    assert.equal(s.s.a, null);
    assert.equal(s.s.d38, null);
    assert.equal(s.s.d18, '7406630.346');
    assert.equal((r[7]!.s as Record<string, unknown>).d38, '691358024702.0864197523');
    assert.equal((r[1]!.s as Record<string, unknown>).ub, 18446744073709551614n);
    assert.equal(
      ((r[1]!.s as Record<string, unknown>).tns as PreciseDate).toISOString(),
      '2024-01-02T03:04:05.765573123Z',
    );
    assert.ok((r[1]!.s as Record<string, unknown>).t instanceof PreciseDate);
    assert.deepEqual((r[1]!.s as Record<string, unknown>).bin, new Uint8Array([0xab, 0x00, 0x31]));
    assert.equal((r[9]!.s as Record<string, unknown>).inner, null);
    assert.deepEqual(r[3]!.ls, [
      { x: '0.75', ts: new PreciseDate(Date.UTC(2000, 0, 1), 1) },
      { x: '1.00', ts: new PreciseDate(Date.UTC(2000, 0, 1, 0, 0, 3), 1) },
      null,
    ]);
    assert.equal(r[17]!.ls, null);
    assert.deepEqual(r[4]!.ls, []);
  }
});

test('maps are {key, value} entries in file order with typed keys: no key becomes text', async () => {
  const { rows, arrowRows } = await readBoth(file, 50);
  for (const r of [rows, arrowRows]) {
    assert.deepEqual(r[2]!.mi, [
      { key: 2, value: 'v2' },
      { key: -3, value: null },
    ]);
    assert.deepEqual(r[29]!.mi, []);
    assert.equal(r[19]!.mi, null);
    const md = r[4]!.md as { key: unknown; value: unknown }[];
    assert.ok(md[0]!.key instanceof Date);
    assert.equal((md[0]!.key as Date).toISOString(), '2000-01-05T00:00:00.000Z');
    assert.equal(md[0]!.value, '4.0000000001');
    assert.deepEqual(r[1]!.ml, [
      { key: 'k1', value: [1, null] },
      { key: 'z', value: [] },
    ]);
    assert.deepEqual(r[2]!.ml, [
      { key: 'k2', value: [2, null] },
      { key: 'z', value: null },
    ]);
    assert.deepEqual(r[3]!.ml, []);
    assert.deepEqual(r[2]!.mdec, [{ key: '0.25', value: 2 }]);
    assert.deepStrictEqual(r[2000]!.mbig, [{ key: 6_148_914_691_236_516_000n, value: { p: 2000 } }]);
  }
});

test("fromParquet output: 'arrow' batches read back as the rows output", async () => {
  const rows = await pipeline(fromParquet(file, { batchSize: 256 }), collect(), { governor: false });
  const arrow = await pipeline(fromParquet(file, { batchSize: 256, output: 'arrow' }), collect(), {
    governor: false,
  });
  assertRowsEqual(arrow.output as Record<string, unknown>[], rows.output as Record<string, unknown>[], 'pipeline');
});

test('TIME inside nested values: Arrow Time in its unit, TIME WITH TIME ZONE as its text', async () => {
  const times = join(dir, 'times.parquet');
  await duckRun(
    `COPY (SELECT [TIME '12:34:56.5', NULL, TIME '00:00:00'] AS t, {'z': TIMETZ '01:02:03.25+00'} AS s) TO ${sqlString(times)}`,
  );
  const { rows, arrowRows, fields } = await readBoth(times, 10);
  assert.equal(String(fields[0]!.type), 'List<Time64<MICROSECOND>>');
  assert.equal(String(fields[1]!.type), 'Struct<{z:Utf8}>');
  assert.deepEqual(rows, [{ t: ['12:34:56.5', null, '00:00:00'], s: { z: '01:02:03.25+00' } }]);
  // recordBatchToRows keeps every digit of the unit: the same times once trailing zeros go
  const trim = (v: string | null | undefined): string | null =>
    (v ?? null) && v!.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  assert.deepEqual((arrowRows[0]!.t as (string | null)[]).map(trim), rows[0]!.t);
  assert.deepEqual(arrowRows[0]!.s, rows[0]!.s);
});

test('a nested value Arrow cannot hold exactly is refused with a coded error naming file and column', async () => {
  const cases: [string, string, RegExp][] = [
    ['intervals', `SELECT [INTERVAL '1 month 2 days', NULL] AS iv`, /`iv`.*INTERVAL/],
    ['json', `SELECT {'j': '{"a": 12345678901234567890}'::JSON} AS sj`, /`sj\.j`.*JSON/],
  ];
  for (const [name, sql, message] of cases) {
    const path = join(dir, `${name}.parquet`);
    await duckRun(`COPY (${sql}) TO ${sqlString(path)}`);
    const reader = await openParquet(path);
    try {
      // the rows path reads it
      for await (const b of reader.batches()) assert.equal(b.rows.length, 1);
      await assert.rejects(
        async () => {
          for await (const _ of reader.recordBatches()) void _;
        },
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_SPILLWAY_UNSUPPORTED');
          assert.match(error.message, message);
          assert.ok(error.message.includes(path), error.message);
          return true;
        },
      );
    } finally {
      await reader.close();
    }
  }
});

test("fromParquet output: 'arrow' into toParquet writes nested columns as the rows output does", async () => {
  // (the writer's rows path cannot write bigints inside lists yet: 'll' is left out)
  const columns = ['id', 'l', 'mi', 'ml'];
  const written: Record<string, unknown>[][] = [];
  for (const output of ['rows', 'arrow'] as const) {
    const out = join(dir, `copy-${output}.parquet`);
    await pipeline(fromParquet(file, { batchSize: 500, output, columns }), toParquet(out), { governor: false });
    written.push(
      (await pipeline(fromParquet(out), collect(), { governor: false })).output as Record<string, unknown>[],
    );
  }
  assert.equal(written[1]!.length, ROWS);
  assertRowsEqual(written[1]!, written[0]!, 'copied through Arrow');
  assert.deepEqual(written[1]![2]!.mi, [
    { key: 2, value: 'v2' },
    { key: -3, value: null },
  ]);
});
