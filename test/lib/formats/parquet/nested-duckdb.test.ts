/**
 * Nested columns assembled batch by batch from their levels (read/assemble.ts), differentially
 * against DuckDB, row by row: lists, nested lists, structs, lists of structs, maps, decimals and
 * int64 inside them, dictionary strings, with nulls and empty lists at every level, in files
 * where one page holds thousands of rows, read at batch sizes that cut pages anywhere, and
 * resumed inside a row group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { openParquet } from '../../../../lib/formats/parquet/reader.ts';
import { tempDir } from '../../../helpers.ts';
import { duckRows, duckRun, fromDuck, fromSpillway, sqlString } from './duckdb.ts';

const dir = tempDir('spillway-nested-duckdb-');
const ROWS = 30_000;
const file = join(dir, 'nested.parquet');

/** Every column kind, with nulls and empty values at each level; i is the row number. */
const SELECT = `SELECT
  i::BIGINT AS id,
  CASE WHEN i % 11 = 0 THEN NULL WHEN i % 13 = 0 THEN []::INT[]
       ELSE list_transform(range((i % 7)::BIGINT), x -> CASE WHEN (x + i) % 5 = 0 THEN NULL ELSE (x * i)::INT END) END AS l,
  CASE WHEN i % 17 = 0 THEN NULL
       ELSE list_transform(range((i % 4)::BIGINT), x -> CASE WHEN x = 1 AND i % 3 = 0 THEN NULL WHEN x = 2 THEN []::INT[]
                                                    ELSE [x::INT, i::INT] END) END AS ll,
  CASE WHEN i % 9 = 0 THEN NULL
       ELSE {'a': CASE WHEN i % 4 = 0 THEN NULL ELSE i::INT END, 'b': 'b' || (i % 50)::VARCHAR,
             'c': (i::DECIMAL(18,3) + 0.123)::DECIMAL(18,3)} END AS s,
  CASE WHEN i % 23 = 0 THEN NULL
       ELSE list_transform(range((i % 3)::BIGINT), x -> {'x': (x * 9007199254740993 + i)::BIGINT,
            'y': CASE WHEN x = 0 THEN NULL ELSE ['t' || (i % 7)::VARCHAR, 'u'] END}) END AS ls,
  CASE WHEN i % 19 = 0 THEN NULL WHEN i % 29 = 0 THEN MAP {}::MAP(VARCHAR, INT)
       ELSE MAP {'k' || (i % 5)::VARCHAR: i::INT, 'z': CASE WHEN i % 2 = 0 THEN NULL ELSE 1 END} END AS m,
  CASE WHEN i % 31 = 0 THEN NULL
       ELSE [(i::DECIMAL(38,10) * 1000000 + 0.0123456789)::DECIMAL(38,10), NULL, 98765432109876543210.5::DECIMAL(38,10)] END AS dl,
  ['tag' || (i % 3)::VARCHAR, 'tag' || (i % 4)::VARCHAR] AS tags,
  {'inner': list_transform(range((i % 3)::BIGINT), x -> {'v': CASE WHEN x = 0 THEN []::INT[] ELSE [x::INT, NULL] END})} AS deep
FROM range(${ROWS}) t(i)`;

test.before(async () => {
  await duckRun(`COPY (${SELECT}) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 12000)`);
});

/** DuckDB's rows of `file` in the comparable form, in file order. */
async function duckRowsOf(path: string): Promise<{ names: string[]; rows: Record<string, unknown>[] }> {
  const duck = await duckRows(`SELECT * FROM read_parquet(${sqlString(path)})`);
  return {
    names: duck.names,
    rows: duck.rows.map((r) => Object.fromEntries(duck.names.map((n) => [n, fromDuck(r[n])]))),
  };
}

/** spillway's rows of `path` from row `from` on, in the comparable form. */
async function ourRows(path: string, batchSize: number, from = 0): Promise<Record<string, unknown>[]> {
  const reader = await openParquet(path, { batchSize });
  const out: Record<string, unknown>[] = [];
  try {
    for await (const b of reader.batches(from))
      for (const r of b.rows) out.push(fromSpillway(r) as Record<string, unknown>);
  } finally {
    await reader.close();
  }
  return out;
}

function assertRowsEqual(ours: Record<string, unknown>[], duck: Record<string, unknown>[], offset = 0): void {
  assert.equal(ours.length, duck.length - offset, 'row count');
  for (const [i, row] of ours.entries()) {
    // one row at a time: a mismatch names its row and column
    const want = duck[i + offset]!;
    for (const name of Object.keys(want)) assert.deepEqual(row[name], want[name], `row ${i + offset} column ${name}`);
  }
}

test('the file really has pages of thousands of rows (what the batch-by-batch assembly is for)', async () => {
  const meta = await duckRows(
    `SELECT path_in_schema, num_values::BIGINT AS n FROM parquet_metadata(${sqlString(file)}) WHERE row_group_id = 0`,
  );
  const l = meta.rows.find((r) => r.path_in_schema === 'l, list, element');
  assert.ok(l && Number(l.n) > 12_000, `list leaf values in row group 0: ${String(l?.n)}`);
  const pages = await duckRows(
    `SELECT count(*)::BIGINT AS n FROM parquet_metadata(${sqlString(file)}) WHERE row_group_id = 0 AND path_in_schema = 'l, list, element'`,
  );
  assert.equal(Number(pages.rows[0]!.n), 1);
});

test('every nested column reads as DuckDB reads it, row by row, at batch sizes that cut pages anywhere', async () => {
  const duck = await duckRowsOf(file);
  for (const batchSize of [997, 10_000]) assertRowsEqual(await ourRows(file, batchSize), duck.rows);
});

test('empty lists stay [] and null lists null; empty maps []; decimals and int64 exact inside nested values', async () => {
  const rows = await ourRows(file, 5000);
  // fromSpillway keeps strings and turns integers into decimal strings
  assert.equal(rows[13]!.l === null, false);
  assert.deepEqual(rows[13]!.l, []);
  assert.equal(rows[11]!.l, null);
  assert.deepEqual(rows[29]!.m, []);
  assert.equal(rows[19]!.m, null);
  assert.deepEqual((rows[1]!.dl as unknown[])[2], '98765432109876543210.5000000000');
  const reader = await openParquet(file, { batchSize: 100 });
  try {
    for await (const b of reader.batches()) {
      const r = b.rows[2]!;
      // 9007199254740993 + 2 is not a safe number: a bigint, exact
      assert.equal((r.ls as { x: unknown }[])[1]!.x, 9007199254740995n);
      assert.equal((r.s as { c: unknown }).c, '2.123');
      assert.deepEqual(r.deep, { inner: [{ v: [] }, { v: [1, null] }] });
      break;
    }
  } finally {
    await reader.close();
  }
});

test('a read resumed inside a row group gives the rows DuckDB gives from there', async () => {
  const duck = await duckRowsOf(file);
  for (const from of [1, 12_345, 24_001]) assertRowsEqual(await ourRows(file, 4096, from), duck.rows, from);
});

test('required lists, structs and elements (hyparquet-writer, many rows a page): empty lists are []', async () => {
  const required = join(dir, 'required.parquet');
  const n = 20_000;
  const list = (i: number): number[] => Array.from({ length: i % 4 }, (_, j) => i + j);
  parquetWriteFile({
    filename: required,
    rowGroupSize: n,
    pageSize: 1 << 20,
    schema: [
      { name: 'root', num_children: 2 },
      { name: 'l', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 's', repetition_type: 'REQUIRED', num_children: 2 },
      { name: 'a', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'b', type: 'INT32', repetition_type: 'OPTIONAL' },
    ],
    columnData: [
      { name: 'l', data: Array.from({ length: n }, (_, i) => list(i)) },
      { name: 's', data: Array.from({ length: n }, (_, i) => ({ a: i, b: i % 3 === 0 ? null : -i })) },
    ],
  });
  const duck = await duckRowsOf(required);
  assertRowsEqual(await ourRows(required, 777), duck.rows);
  const reader = await openParquet(required, { batchSize: 8 });
  try {
    for await (const b of reader.batches()) {
      assert.deepEqual(
        b.rows.map((r) => r.l),
        [[], [1], [2, 3], [3, 4, 5], [], [5], [6, 7], [7, 8, 9]],
      );
      assert.deepEqual(b.rows[3]!.s, { a: 3, b: null });
      break;
    }
  } finally {
    await reader.close();
  }
});
