/**
 * Whole-row distinct over rows whose columns vary (sparse JSON Lines): a column a row lacks is
 * null, as DuckDB reads the file (`SELECT DISTINCT *` over read_json). `{"b":1}` and
 * `{"a":null,"b":1}` were kept as two rows, spilled or not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, fromJsonl, distinct, collect } from 'spillway';
import { tempDir } from '../helpers.ts';
import { duckRows, sqlString } from '../lib/formats/parquet/duckdb.ts';

const dir = tempDir();

const LINES = [
  '{"a":null,"b":1}',
  '{"b":1}',
  '{"a":2,"b":1}',
  '{"b":1,"a":2}',
  '{"b":1}',
  '{"b":1,"c":null}',
  '{"b":1,"c":3}',
  '{"c":3,"b":1,"a":null}',
  '{"b":2}',
];

test('distinct() takes a missing column for null, as DuckDB does, in memory and spilled', async () => {
  const file = join(dir, 'sparse.jsonl');
  writeFileSync(file, `${LINES.join('\n')}\n`);
  const expected = (
    await duckRows(
      `SELECT DISTINCT a, b, c FROM read_json(${sqlString(file)}, columns = {a: 'INTEGER', b: 'INTEGER', c: 'INTEGER'})`,
    )
  ).rows
    .map((r) => JSON.stringify([r.a ?? null, r.b ?? null, r.c ?? null]))
    .sort();
  for (const budget of [undefined, '1kB']) {
    const { output } = await pipeline(fromJsonl(file), distinct(undefined, budget ? { budget } : {}), collect());
    const got = output
      .map((r) => {
        const row = r as { a?: number | null; b?: number | null; c?: number | null };
        return JSON.stringify([row.a ?? null, row.b ?? null, row.c ?? null]);
      })
      .sort();
    assert.deepEqual(got, expected, `budget ${budget}`);
  }
});
