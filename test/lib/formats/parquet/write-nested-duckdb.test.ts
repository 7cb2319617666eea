/**
 * Nested columns written back as nested columns (issue 18): DuckDB writes a file of lists, lists
 * of lists, structs, structs of lists, maps, with nulls and empty lists at every level, int64,
 * decimals, timestamps and non-ASCII strings inside; fromParquet reads it (Arrow batches and rows),
 * toParquet writes it, and DuckDB reads the copy with the same column types and values. Before,
 * every nested column came back as JSON text (VARCHAR).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadata, parquetReadObjects } from 'hyparquet';
import { fromParquet, pipeline, toParquet } from '../../../../index.ts';
import { tempDir } from '../../../helpers.ts';
import { duckRows, duckRun, sqlString } from './duckdb.ts';

const dir = tempDir('spillway-write-nested-');
const ROWS = 5000;
const source = join(dir, 'nested.parquet');

/** Nested columns with nulls and empties at each level; i is the row number. */
const SELECT = `SELECT
  i::BIGINT AS id,
  CASE WHEN i % 11 = 0 THEN NULL WHEN i % 13 = 0 THEN []::INT[]
       ELSE list_transform(range((i % 7)::BIGINT), x -> CASE WHEN (x + i) % 5 = 0 THEN NULL ELSE (x * i)::INT END) END AS l,
  CASE WHEN i % 17 = 0 THEN NULL
       ELSE list_transform(range((i % 4)::BIGINT), x -> CASE WHEN x = 1 AND i % 3 = 0 THEN NULL WHEN x = 2 THEN []::INT[]
                                                    ELSE [x::INT, i::INT] END) END AS ll,
  CASE WHEN i % 9 = 0 THEN NULL
       ELSE {'a': CASE WHEN i % 4 = 0 THEN NULL ELSE i::INT END, 'b': 'bé€' || (i % 50)::VARCHAR,
             'big': (9007199254740993 + i * 1000)::BIGINT,
             'c': (i::DECIMAL(18,3) * -7 + 0.123)::DECIMAL(18,3),
             't': TIMESTAMPTZ '2024-01-01 00:00:00.123456+00' + to_microseconds(i * 1000003)} END AS s,
  CASE WHEN i % 23 = 0 THEN NULL
       ELSE {'n': i::DOUBLE / 3, 'tags': CASE WHEN i % 5 = 0 THEN NULL WHEN i % 7 = 0 THEN []::VARCHAR[]
                                      ELSE ['t' || (i % 7)::VARCHAR, NULL, 'ü'] END} END AS sl,
  CASE WHEN i % 19 = 0 THEN NULL WHEN i % 29 = 0 THEN MAP {}::MAP(VARCHAR, INT)
       ELSE MAP {'k' || (i % 5)::VARCHAR: i::INT, 'z': CASE WHEN i % 2 = 0 THEN NULL ELSE 1 END} END AS m,
  list_transform(range((i % 3)::BIGINT), x -> {'v': CASE WHEN x = 0 THEN []::BIGINT[] ELSE [x, NULL] END,
                                               'at': TIMESTAMPTZ '2020-02-29 12:00:00+00' + to_seconds(x * i)}) AS ls,
  CASE WHEN i % 31 = 0 THEN NULL
       ELSE [(i::DECIMAL(38,10) * -1000000 + 0.0123456789)::DECIMAL(38,10), NULL, 98765432109876543210.5::DECIMAL(38,10)] END AS dl,
  (i::DECIMAL(9,2) / 7)::DECIMAL(9,2) AS d
FROM range(${ROWS}) t(i)`;

test.before(async () => {
  await duckRun(`COPY (${SELECT}) TO ${sqlString(source)} (FORMAT parquet, ROW_GROUP_SIZE 2000)`);
});

/** DuckDB's column types of a file. */
async function typesOf(file: string): Promise<Record<string, unknown>> {
  const { rows } = await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
  return Object.fromEntries(rows.map((r) => [r.column_name, r.column_type]));
}

/** Rows of `file` in DuckDB's JSON, ordered by id. */
async function valuesOf(file: string, columns = '*'): Promise<Record<string, unknown>[]> {
  return (await duckRows(`SELECT ${columns} FROM read_parquet(${sqlString(file)}) ORDER BY id`)).rows;
}

/** Rows in one file and not the other, both ways (DuckDB compares the nested values itself). */
async function differences(a: string, b: string, columns = '*'): Promise<unknown> {
  const q = (x: string, y: string) =>
    `SELECT count(*)::INT AS n FROM (SELECT ${columns} FROM read_parquet(${sqlString(x)}) EXCEPT ALL SELECT ${columns} FROM read_parquet(${sqlString(y)}))`;
  return [(await duckRows(q(a, b))).rows[0]!.n, (await duckRows(q(b, a))).rows[0]!.n];
}

test('Arrow batches: the copy has the same nested column types and values as the DuckDB original', async () => {
  const copy = join(dir, 'copy-arrow.parquet');
  await pipeline(fromParquet(source, { output: 'arrow', batchSize: 700 }), toParquet(copy, { rowGroupSize: 1500 }), {
    governor: false,
  });
  const types = await typesOf(copy);
  assert.deepEqual(types, await typesOf(source));
  assert.match(String(types.ll), /^INTEGER\[\]\[\]$/);
  assert.match(String(types.m), /^MAP\(VARCHAR, INTEGER\)$/);
  assert.equal(types.dl, 'DECIMAL(38,10)[]');
  assert.deepEqual(await differences(source, copy), [0, 0]);
  assert.deepEqual(await valuesOf(copy), await valuesOf(source));
});

test('rows: nested columns stay lists, structs (and maps as lists of key/value structs) with the same values', async () => {
  const copy = join(dir, 'copy-rows.parquet');
  // rows asked for: without `output` the read negotiates Arrow, and the copy keeps the types (test above)
  await pipeline(fromParquet(source, { output: 'rows', batchSize: 700 }), toParquet(copy, { rowGroupSize: 1500 }), {
    governor: false,
  });
  const types = await typesOf(copy);
  // rows carry JS values, not Parquet types: numbers are DOUBLE, dates TIMESTAMP WITH TIME ZONE (milliseconds)
  assert.equal(types.l, 'DOUBLE[]');
  assert.equal(types.ll, 'DOUBLE[][]');
  assert.match(String(types.sl), /^STRUCT\(n DOUBLE, tags VARCHAR\[\]\)$/);
  assert.match(String(types.m), /^STRUCT\("?key"? VARCHAR, "?value"? DOUBLE\)\[\]$/);
  const cast = `id::BIGINT AS id, l::INT[] AS l, ll::INT[][] AS ll, sl, m::STRUCT(key VARCHAR, value INT)[] AS m`;
  const original = `id, l, ll, sl, map_entries(m) AS m`;
  assert.deepEqual(await valuesOf(copy, cast), await valuesOf(source, original));
});

test('an independent reader (hyparquet) reads the nested copy to the values DuckDB reads', async () => {
  const copy = join(dir, 'copy-arrow.parquet');
  const file = await asyncBufferFromFile(copy);
  const metadata = parquetMetadata(await file.slice(0, file.byteLength));
  assert.equal(Number(metadata.num_rows), ROWS);
  const ours = (await parquetReadObjects({ file, columns: ['l', 'll', 'sl'] })) as Record<string, unknown>[];
  const duck = (await duckRows(`SELECT l, ll, sl FROM read_parquet(${sqlString(copy)})`)).rows;
  assert.equal(ours.length, duck.length);
  const plain = (v: unknown): unknown =>
    JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x === undefined ? null : x)));
  for (const [i, row] of ours.entries()) assert.deepEqual(plain(row), plain(duck[i]), `row ${i}`);
});

test('pages of a nested leaf hold whole rows: the page row counts add up to the row group', async () => {
  const copy = join(dir, 'pages.parquet');
  await pipeline(fromParquet(source, { output: 'arrow' }), toParquet(copy, { rowGroupSize: ROWS }), {
    governor: false,
  });
  const meta = await duckRows(
    `SELECT path_in_schema, num_values::BIGINT AS n FROM parquet_metadata(${sqlString(copy)}) ORDER BY column_id`,
  );
  const values = Object.fromEntries(meta.rows.map((r) => [String(r.path_in_schema), Number(r.n)]));
  // a leaf has one value slot per element, null or empty list: more than the rows for lists
  assert.equal(values.id, ROWS);
  assert.ok(values['l, list, element']! > ROWS, JSON.stringify(values));
  assert.ok(values['m, key_value, key']! > ROWS);
  assert.equal(values['s, a'], ROWS);
});
