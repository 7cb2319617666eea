/**
 * Exact values or a clear error, differentially against DuckDB (issue 18): every logical type,
 * nested or not, on files DuckDB writes; duplicate names; and corrupt variants written with
 * hyparquet-writer (or patched) that DuckDB refuses too. The rows path and the Arrow path
 * (`recordBatches`, then `recordBatchToRows`) must agree with DuckDB and with each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { openParquet } from '../../../../lib/formats/parquet/reader.ts';
import type { ParquetReadOptions } from '../../../../lib/formats/parquet/reader.ts';
import { recordBatchToRows } from '../../../../lib/formats/arrow/convert.ts';
import { PreciseDate } from '../../../../lib/formats/parquet/types.ts';
import { Batch } from '../../../../lib/core/batch.ts';
import { collect } from '../../../../sinks/collect.ts';
import { fromParquet } from '../../../../sources/fromParquet.ts';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { tempDir } from '../../../helpers.ts';
import { duckRows, duckRun, fromDuck, fromSpillway, sqlString } from './duckdb.ts';

const dir = tempDir('spillway-exact-');

/** Every row of `file` through both paths, as objects keyed by the reader's names. */
async function readBoth(
  file: string,
  options: ParquetReadOptions = {},
): Promise<{ names: string[]; rows: Record<string, unknown>[]; arrowRows: Record<string, unknown>[] }> {
  const reader = await openParquet(file, { batchSize: 2, ...options });
  try {
    const names = reader.columns.map((c) => c.name);
    const rows: Record<string, unknown>[] = [];
    for await (const b of reader.batches()) rows.push(...b.rows);
    const arrowRows: Record<string, unknown>[] = [];
    for await (const b of reader.recordBatches())
      arrowRows.push(...(recordBatchToRows(b.batch) as Record<string, unknown>[]));
    return { names, rows, arrowRows };
  } finally {
    await reader.close();
  }
}

/** Compares spillway's rows of `file` with DuckDB's read_parquet of it, column by column. */
async function assertSameAsDuckDB(file: string): Promise<Record<string, unknown>[]> {
  const duck = await duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`);
  const ours = await readBoth(file);
  assert.deepEqual(ours.names, duck.names, 'column names and order');
  assert.equal(ours.rows.length, duck.rows.length);
  for (const [i, row] of ours.rows.entries()) {
    for (const name of duck.names) {
      assert.deepEqual(fromSpillway(row[name]), fromDuck(duck.rows[i]![name]), `row ${i} column ${name}`);
    }
  }
  return ours.rows;
}

test('every scalar type DuckDB writes reads as DuckDB reads it, on both paths', async () => {
  const file = join(dir, 'scalars.parquet');
  await duckRun(`COPY (SELECT * FROM (VALUES
    (true, (-128)::TINYINT, 255::UTINYINT, (-32768)::SMALLINT, 65535::USMALLINT, (-2147483648)::INTEGER, 4294967295::UINTEGER,
     (-9223372036854775807)::BIGINT, 18446744073709551615::UBIGINT, 1.5::FLOAT, -2.25::DOUBLE,
     1.25::DECIMAL(4,2), (-123456789012.25)::DECIMAL(18,2), 9876543210.123456789::DECIMAL(38,9),
     'héllo', '\\x00\\xFF'::BLOB, DATE '2024-02-29', TIME '23:59:59.999999',
     TIMESTAMP_MS '2024-01-02 03:04:05.765', TIMESTAMP '2024-01-02 03:04:05.765572', TIMESTAMP_NS '2024-01-02 03:04:05.765572123',
     TIMESTAMPTZ '1969-12-31 23:59:59.999999+00', INTERVAL '1 month 2 days 3 seconds', '6f1a2b3c-0000-4000-8000-00000000abcd'::UUID),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
  ) t(b, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, d4, d18, d38, s, bin, d, tm, ts_ms, ts_us, ts_ns, tstz, iv, u)) TO ${sqlString(file)}`);
  const rows = await assertSameAsDuckDB(file);
  const first = rows[0]!;
  assert.equal(first.u64, 18446744073709551615n);
  assert.equal(first.d38, '9876543210.123456789');
  assert.ok(first.ts_ns instanceof PreciseDate);
  assert.equal((first.ts_ns as PreciseDate).toISOString(), '2024-01-02T03:04:05.765572123Z');
  assert.equal((first.tstz as PreciseDate).toISOString(), '1969-12-31T23:59:59.999999Z');
  assert.deepEqual(first.iv, { months: 1, days: 2, milliseconds: 3000 });
  const both = await readBoth(file);
  // the Arrow path keeps the same digits (it lost those below the millisecond)
  for (const name of ['ts_ms', 'ts_us', 'ts_ns', 'tstz']) {
    assert.equal((both.arrowRows[0]![name] as Date).toISOString(), (both.rows[0]![name] as Date).toISOString(), name);
  }
  for (const name of ['d4', 'd18', 'd38', 'u64', 'i64', 's', 'tm'])
    assert.deepEqual(both.arrowRows[0]![name], both.rows[0]![name], name);
});

test('decimals, int64 and timestamps inside lists, structs and maps are exact; empty and null lists and maps differ', async () => {
  const file = join(dir, 'nested.parquet');
  await duckRun(`COPY (SELECT * FROM (VALUES
    ([9876543210.123456789::DECIMAL(38,9), NULL], {'x': 1.50::DECIMAL(10,2), 'y': [9007199254740993::BIGINT]}, MAP {'k': 12.3400::DECIMAL(18,4)}, []::INT[], [[1, 2], []], [TIMESTAMP_NS '2024-01-02 03:04:05.000000001']),
    ([]::DECIMAL(38,9)[], NULL, MAP {}::MAP(VARCHAR, DECIMAL(18,4)), NULL, [NULL, [3]], []::TIMESTAMP_NS[]),
    (NULL, {'x': NULL, 'y': []}, NULL, [NULL]::INT[], NULL, NULL)
  ) t(l, s, m, e, ll, tl)) TO ${sqlString(file)}`);
  const rows = await assertSameAsDuckDB(file);
  assert.deepEqual(rows[0]!.l, ['9876543210.123456789', null]);
  assert.deepEqual(rows[0]!.s, { x: '1.50', y: [9007199254740993n] });
  assert.deepEqual(rows[0]!.e, []);
  assert.deepEqual(rows[1]!.l, []);
  assert.deepEqual(rows[1]!.m, []);
  assert.equal(rows[1]!.e, null);
  assert.equal(rows[2]!.m, null);
  assert.deepEqual(rows[2]!.e, [null]);
  assert.equal((rows[0]!.tl as PreciseDate[])[0]!.toISOString(), '2024-01-02T03:04:05.000000001Z');
});

test('a required list keeps its empty lists (not null)', async () => {
  const file = join(dir, 'required-list.parquet');
  parquetWriteFile({
    filename: file,
    schema: [
      { name: 'root', num_children: 1 },
      { name: 'l', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT32', repetition_type: 'REQUIRED' },
    ],
    columnData: [{ name: 'l', data: [[1, 2], [], [3]] }],
  });
  await assertSameAsDuckDB(file);
  const { rows, arrowRows } = await readBoth(file);
  assert.deepEqual(
    rows.map((r) => r.l),
    [[1, 2], [], [3]],
  );
  assert.deepEqual(arrowRows, rows);
});

test('VARIANT values with decimals come back exact (shredded and not)', async () => {
  const file = join(dir, 'variant.parquet');
  try {
    await duckRun(
      `COPY (SELECT * FROM (VALUES (42::VARIANT, {'a': 1.25::DECIMAL(5,2)}::VARIANT), ([9876543210.123456789::DECIMAL(38,9)]::VARIANT, 'text'::VARIANT)) t(v, v2)) TO ${sqlString(file)}`,
    );
  } catch (error) {
    // a DuckDB without VARIANT: nothing to compare with
    return assert.match(String(error), /VARIANT/i);
  }
  const { rows, arrowRows } = await readBoth(file);
  assert.deepEqual(rows, [
    { v: 42, v2: { a: '1.25' } },
    { v: ['9876543210.123456789'], v2: 'text' },
  ]);
  assert.deepEqual(arrowRows, rows);
});

test("duplicate and empty column names get DuckDB's unique names, in file order, on both paths and in stats", async () => {
  const file = join(dir, 'dup.parquet');
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'column', data: [1, 2], type: 'INT32' },
      { name: 'column_1', data: [3, 4], type: 'INT32' },
      { name: 'column', data: [5, 6], type: 'INT32' },
      { name: '', data: [7, 8], type: 'INT32' },
      { name: '10', data: [9, 10], type: 'INT32' },
      { name: 'column', data: [11, 12], type: 'INT32' },
    ],
  });
  await assertSameAsDuckDB(file);
  const { names, rows, arrowRows } = await readBoth(file);
  assert.deepEqual(names, ['column', 'column_1', 'column_1_1', 'C3', '10', 'column_2']);
  assert.deepEqual(arrowRows, rows);
  const { output, stats } = await pipeline(fromParquet(file), collect(), { governor: false });
  assert.deepEqual(output, rows);
  assert.equal(stats.stages[0]!.details.renamedColumns, 'column -> column_1_1, (empty) -> C3, column -> column_2');
});

test('an annotation its physical type cannot carry is refused (DuckDB refuses it too)', async () => {
  const file = join(dir, 'ts-on-int32.parquet');
  parquetWriteFile({
    filename: file,
    schema: [
      { name: 'root', num_children: 1 },
      { name: 'tcol', type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'DATE' },
    ],
    columnData: [{ name: 'tcol', data: [new Date(86_400_000 * 3), new Date(86_400_000 * 5)] }],
  });
  // DATE (6, zigzag 0x0c) -> TIMESTAMP_MILLIS (9, zigzag 0x12) in the footer's schema element
  const bytes = readFileSync(file);
  const footer = bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8);
  const at = bytes.indexOf(Buffer.from([0x25, 0x0c]), bytes.indexOf(Buffer.from('tcol'), footer));
  assert.ok(at > footer);
  bytes[at + 1] = 0x12;
  writeFileSync(file, bytes);
  await assert.rejects(duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`));
  await assert.rejects(openParquet(file), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'ERR_SPILLWAY_FORMAT');
    assert.match(error.message, /`tcol`.*TIMESTAMP_MILLIS.*INT32/);
    assert.ok(error.message.includes(file));
    return true;
  });
});

test('invalid UTF-8 is refused on both paths (as DuckDB does), or replaced when asked', async () => {
  const file = join(dir, 'bad-utf8.parquet');
  parquetWriteFile({
    filename: file,
    schema: [
      { name: 'root', num_children: 1 },
      { name: 's', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' },
    ],
    columnData: [{ name: 's', data: [new Uint8Array([0x61, 0xff, 0xfe]), new Uint8Array([0x62])] }],
  });
  await assert.rejects(duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`), /UTF8|encoding/i);
  const check = (error: Error & { code?: string }): boolean => {
    assert.equal(error.code, 'ERR_SPILLWAY_FORMAT');
    assert.match(error.message, /UTF-8/);
    assert.match(error.message, /`s`/);
    assert.ok(error.message.includes(file), error.message);
    return true;
  };
  const reader = await openParquet(file);
  try {
    await assert.rejects(async () => {
      for await (const _ of reader.batches()) void _;
    }, check);
    await assert.rejects(async () => {
      for await (const _ of reader.recordBatches()) void _;
    }, check);
  } finally {
    await reader.close();
  }
  const replaced = await readBoth(file, { invalidUtf8: 'replace' });
  assert.deepEqual(replaced.rows, [{ s: 'a\uFFFD\uFFFD' }, { s: 'b' }]);
  assert.deepEqual(replaced.arrowRows, replaced.rows);
});

test('TIME outside 00:00:00..24:00:00 is refused with a coded error naming the column', async () => {
  const file = join(dir, 'bad-time.parquet');
  parquetWriteFile({
    filename: file,
    schema: [
      { name: 'root', num_children: 1 },
      {
        name: 't',
        type: 'INT64',
        repetition_type: 'REQUIRED',
        logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' },
      },
    ],
    columnData: [{ name: 't', data: [-17_559_000_000n, 86_400_000_000n] }],
  });
  for (const arrow of [false, true]) {
    const reader = await openParquet(file);
    try {
      await assert.rejects(
        async () => {
          for await (const _ of arrow ? reader.recordBatches() : reader.batches()) void _;
        },
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_SPILLWAY_FORMAT');
          assert.match(error.message, /TIME value -17559000000 µs of column `t`/);
          return true;
        },
      );
    } finally {
      await reader.close();
    }
  }
});

test("TIME adjusted to UTC reads as DuckDB's TIME WITH TIME ZONE text (`+00`), the same on both paths", async () => {
  const file = join(dir, 'timetz.parquet');
  await duckRun(
    `COPY (SELECT * FROM (VALUES ('12:34:56.789012+00'::TIMETZ, TIME '01:02:03.5'), ('00:00:00+00'::TIMETZ, NULL), (NULL, TIME '23:59:59')) t(tz, tm)) TO ${sqlString(file)}`,
  );
  const duck = await duckRows(`SELECT tz::VARCHAR AS tz, tm::VARCHAR AS tm FROM read_parquet(${sqlString(file)})`);
  const { rows, arrowRows } = await readBoth(file);
  assert.deepEqual(
    rows.map((r) => r.tz),
    duck.rows.map((r) => r.tz),
  );
  assert.deepEqual(
    rows.map((r) => r.tz),
    ['12:34:56.789012+00', '00:00:00+00', null],
  );
  assert.deepEqual(
    rows.map((r) => r.tm),
    duck.rows.map((r) => r.tm),
  );
  assert.deepEqual(
    arrowRows.map((r) => r.tz),
    rows.map((r) => r.tz),
  );
  // a TIME written by another writer with the UTC flag (millisecond unit) gets the offset too
  const other = join(dir, 'timetz-ms.parquet');
  parquetWriteFile({
    filename: other,
    schema: [
      { name: 'root', num_children: 1 },
      {
        name: 't',
        type: 'INT32',
        repetition_type: 'OPTIONAL',
        logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: 'MILLIS' },
      },
    ],
    columnData: [{ name: 't', data: [45_296_789, null] }],
  });
  const duckMs = await duckRows(`SELECT t::VARCHAR AS t FROM read_parquet(${sqlString(other)})`);
  const both = await readBoth(other);
  assert.deepEqual(
    both.rows.map((r) => r.t),
    duckMs.rows.map((r) => r.t),
  );
  assert.deepEqual(both.arrowRows, both.rows);
});

test('a valid one-row file whose column statistics are out of range reads (statistics are ignored)', async () => {
  const file = join(dir, 'bad-stats.parquet');
  await duckRun(
    `COPY (SELECT TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, 7 AS x) TO ${sqlString(file)} (COMPRESSION uncompressed)`,
  );
  const bytes = readFileSync(file);
  const footer = bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8);
  const value = Buffer.alloc(8);
  value.writeBigInt64LE(1_704_164_645_123_456n);
  // the statistics in the footer now say the year 292277 (beyond a JavaScript Date)
  let patched = 0;
  for (let at = bytes.indexOf(value, footer); at >= 0; at = bytes.indexOf(value, at + 8)) {
    bytes.writeBigInt64LE(9_223_372_036_854_775_000n, at);
    patched++;
  }
  assert.ok(patched >= 2, `patched ${patched} statistics`);
  writeFileSync(file, bytes);
  const reader = await openParquet(file);
  try {
    assert.equal(reader.statisticsIgnored, true);
    const rows = [];
    for await (const b of reader.batches()) rows.push(...b.rows);
    assert.equal((rows[0]!.ts as Date).toISOString(), '2024-01-02T03:04:05.123456Z');
    assert.equal(rows[0]!.x, 7);
  } finally {
    await reader.close();
  }
});

test('batch.rows of an Arrow-output batch keeps microseconds (Batch.fromArrow)', async () => {
  const file = join(dir, 'micros.parquet');
  await duckRun(`COPY (SELECT TIMESTAMP '2024-01-02 03:04:05.765572' AS ts) TO ${sqlString(file)}`);
  const reader = await openParquet(file);
  try {
    for await (const part of reader.recordBatches()) {
      const batch = Batch.fromArrow(part.batch, { source: file, index: 0, rowStart: 0 });
      assert.equal((batch.rows[0] as { ts: Date }).ts.toISOString(), '2024-01-02T03:04:05.765572Z');
    }
  } finally {
    await reader.close();
  }
});

test('spillway-written Parquet reads the same in DuckDB and in spillway (every write type)', async () => {
  const { toParquet } = await import('../../../../sinks/toParquet.ts');
  const { fromIterable } = await import('../../../../sources/fromIterable.ts');
  const file = join(dir, 'ours.parquet');
  const rows = [
    {
      b: true,
      i: -2147483648,
      big: 9007199254740993n,
      d: -0.5,
      s: 'héllo ✓',
      bin: new Uint8Array([0, 255, 65]),
      ts: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 999)),
      day: new Date(Date.UTC(2024, 1, 29)),
      j: { a: [1, 'x'] },
    },
    { b: null, i: null, big: null, d: null, s: null, bin: null, ts: null, day: null, j: null },
    {
      b: false,
      i: 7,
      big: -(2n ** 63n) + 1n,
      d: 1e300,
      s: '',
      bin: new Uint8Array(0),
      ts: new Date(Date.UTC(2262, 0, 1)),
      day: new Date(Date.UTC(1900, 0, 1)),
      j: [],
    },
  ];
  await pipeline(
    fromIterable(rows),
    toParquet(file, {
      schema: {
        b: 'boolean',
        i: 'int32',
        big: 'int64',
        d: 'double',
        s: 'string',
        bin: 'binary',
        ts: 'timestamp',
        day: 'date',
        j: 'json',
      },
    }),
    { governor: false },
  );
  const duck = await duckRows(`SELECT * EXCLUDE (j), j::VARCHAR AS j FROM read_parquet(${sqlString(file)})`);
  const ours = await readBoth(file);
  assert.deepEqual(ours.names, ['b', 'i', 'big', 'd', 's', 'bin', 'ts', 'day', 'j']);
  for (const [k, row] of ours.rows.entries()) {
    for (const name of ours.names) {
      const mine = name === 'j' ? (row.j === null ? null : JSON.stringify(row.j)) : fromSpillway(row[name]);
      const theirs =
        name === 'j'
          ? duck.rows[k]!.j === null
            ? null
            : JSON.stringify(JSON.parse(duck.rows[k]!.j as string))
          : fromDuck(duck.rows[k]![name]);
      assert.deepEqual(mine, theirs, `row ${k} column ${name}`);
    }
  }
  assert.deepEqual(ours.arrowRows, ours.rows);
});

test('FLOAT16, and a struct with duplicate field names, read as DuckDB reads them', async () => {
  const file = join(dir, 'f16-struct.parquet');
  parquetWriteFile({
    filename: file,
    schema: [
      { name: 'root', num_children: 2 },
      {
        name: 'h',
        type: 'FIXED_LEN_BYTE_ARRAY',
        type_length: 2,
        repetition_type: 'OPTIONAL',
        logical_type: { type: 'FLOAT16' },
      },
      { name: 's', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'x', type: 'INT32', repetition_type: 'OPTIONAL' },
      { name: 'x', type: 'INT32', repetition_type: 'OPTIONAL' },
    ],
    columnData: [
      { name: 'h', data: [1, -2.5, null] },
      { name: 's', data: [{ x: 1 }, null, { x: 3 }] },
    ],
  });
  const rows = await assertSameAsDuckDB(file);
  assert.deepEqual(rows, [
    { h: 1, s: { x: 1, x_1: 1 } },
    { h: -2.5, s: null },
    { h: null, s: { x: 3, x_1: 3 } },
  ]);
  const { arrowRows } = await readBoth(file);
  assert.deepEqual(arrowRows, rows);
});
