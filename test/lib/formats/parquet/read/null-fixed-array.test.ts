/**
 * DuckDB writes a NULL fixed-size ARRAY (`INT[3]`) as one level entry a slot, each continuing a
 * list that holds nothing; the format has one entry for a null list. Such files were refused
 * ("levels that do not line up with its sibling columns", "does not start at a row"), also with
 * the ARRAY inside a STRUCT or a LIST (embeddings, FLOAT[384] with a NULL, are the common case).
 * They are read as DuckDB reads them: the array is null, every other value as it is, as rows and
 * as Arrow, whatever the batch size, and a copy through toParquet holds DuckDB's values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pipeline, fromParquet, toParquet, collect } from '../../../../../index.ts';
import { tempDir } from '../../../../helpers.ts';
import { duckDifferences, duckRows, duckRun, sqlString } from '../duckdb.ts';

const dir = tempDir();

const CASES: Record<string, string> = {
  top: `SELECT * FROM (VALUES (1, [1, 2, 3]::INT[3]), (2, [NULL, NULL, NULL]::INT[3]), (3, NULL), (4, [4, 5, 6]::INT[3]), (5, NULL)) t(id, v)`,
  first_null: `SELECT * FROM (VALUES (1, NULL::INT[2]), (2, [1, 2]::INT[2])) t(id, v)`,
  in_struct: `SELECT * FROM (VALUES (1, {'a': [1, 2]::INT[2], 'b': 1}), (2, {'a': NULL, 'b': 2}), (3, {'a': [3, 4], 'b': 3})) t(id, v)`,
  in_list: `SELECT * FROM (VALUES (1, [[1, 2]::INT[2], NULL, [3, 4]]), (2, [NULL]), (3, NULL)) t(id, v)`,
  // halves and quarters: exact in a FLOAT, so DuckDB's JSON and the read values print alike
  embeddings: `SELECT i AS id, [i * 0.5, -i, i * 0.25]::FLOAT[3] AS v FROM range(3000) t(i) WHERE i % 7 <> 3 UNION ALL SELECT i, NULL FROM range(3000) t(i) WHERE i % 7 = 3 ORDER BY id`,
};

/** A value as DuckDB's JSON gives it (Arrow vectors and typed arrays as plain arrays). */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && Symbol.iterator in value && typeof value !== 'string')
    return [...(value as Iterable<unknown>)].map(plain);
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, plain(v)]));
  return value;
}

for (const [name, sql] of Object.entries(CASES)) {
  const file = join(dir, `${name}.parquet`);
  const ready = duckRun(`COPY (${sql}) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 1000)`);

  test(`a NULL fixed-size ARRAY (${name}) reads as DuckDB reads it, as rows and Arrow, in batches of 1 and 1024`, async () => {
    await ready;
    const expected = (await duckRows(`SELECT id, v FROM ${sqlString(file)} ORDER BY id`)).rows.map((r) =>
      JSON.stringify(r.v),
    );
    for (const output of ['rows', 'arrow'] as const)
      for (const batchSize of [1, 1024]) {
        const { output: rows } = await pipeline(fromParquet(file, { output, batchSize }), collect());
        const got = (rows as { v: unknown }[]).map((r) => JSON.stringify(plain(r.v)));
        assert.deepEqual(got, expected, `${output}, batchSize ${batchSize}`);
      }
  });

  test(`a NULL fixed-size ARRAY (${name}) copied through toParquet keeps DuckDB's values`, async () => {
    await ready;
    const out = join(dir, `${name}-copy.parquet`);
    await pipeline(fromParquet(file, { output: 'arrow' }), toParquet(out));
    // the copy is a LIST (spillway writes no fixed size): compared as DuckDB's JSON of each value
    const json = (path: string) => `SELECT id, to_json(v)::VARCHAR AS v FROM ${sqlString(path)}`;
    assert.deepEqual(await duckDifferences(json(out), json(file)), [0, 0]);
  });
}
