/**
 * DELTA_BINARY_PACKED INT32 pages whose first value needs 33 bits: DuckDB writes a UINTEGER's
 * unsigned value there (PARQUET_VERSION v2), and every value of such a page read 2^31 off, on
 * both output forms, flat and in lists, and `where` dropped the rows it should keep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pipeline, fromParquet, collect } from '../../../../../index.ts';
import { duckRows, duckRun, sqlString } from '../duckdb.ts';
import { tempDir } from '../../../../helpers.ts';

const dir = tempDir('spillway-delta-int32-');

test('UINTEGER pages starting at 2^31 or more read as DuckDB reads them (rows, Arrow, lists, where)', async () => {
  const file = join(dir, 'u32.parquet');
  // pages of 1,000-2,000 values: some start past 2^31, some below; values span the whole range
  await duckRun(
    `COPY (SELECT i AS id,
       ((i * 2654435761) % 4294967296)::UINTEGER AS u,
       CASE WHEN i % 7 = 0 THEN NULL ELSE (4294967295 - i)::UINTEGER END AS top,
       [(3000000000 + i)::UINTEGER, (i % 3)::UINTEGER] AS list
     FROM range(20000) t(i)) TO ${sqlString(file)} (FORMAT parquet, PARQUET_VERSION v2, ROW_GROUP_SIZE 5000)`,
  );
  const encodings = await duckRows(`SELECT DISTINCT encodings FROM parquet_metadata(${sqlString(file)})`);
  assert.ok(encodings.rows.some((r) => String(r.encodings).includes('DELTA_BINARY_PACKED')));
  const want = (await duckRows(`SELECT id, u, top, list FROM ${sqlString(file)} ORDER BY id`)).rows.map((r) =>
    JSON.stringify([
      Number(r.id),
      Number(r.u),
      r.top === null ? null : Number(r.top),
      (r.list as number[]).map(Number),
    ]),
  );
  for (const output of ['rows', 'arrow'] as const) {
    const { output: rows } = await pipeline(fromParquet(file, { output }), collect());
    const got = (rows as Record<string, unknown>[]).map((r) =>
      JSON.stringify([
        Number(r.id),
        Number(r.u),
        r.top === null ? null : Number(r.top),
        Array.from(r.list as Iterable<number>, Number),
      ]),
    );
    assert.deepEqual(got, want, output);
  }
  const kept = await pipeline(fromParquet(file, { where: { col: 'top', op: '>', value: 4294960000 } }), collect());
  const duckKept = await duckRows(`SELECT count(*)::INTEGER AS n FROM ${sqlString(file)} WHERE top > 4294960000`);
  assert.equal(kept.output.length, duckKept.rows[0]!.n);
  assert.ok(kept.output.length > 6000);
});
