/**
 * `where` values given as text that names no time zone keep the rows DuckDB keeps whatever the
 * process's `TZ`: `Date.parse` read `2024-03-10 12:00:00` in local time, so the rows kept, and the
 * row groups and hive partitions skipped, changed from one machine to the next. TIME columns
 * compare by time, not as text (`02:30:00.000` is `02:30:00`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { pipeline, collect, fromParquet } from '../../../index.ts';
import type { Predicate } from '../../../lib/dataset/predicate.ts';
import { tempDir } from '../../helpers.ts';

test('where on timestamps, dates and times with text without an offset keeps the rows DuckDB keeps, in any TZ', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'hours.parquet');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  await con.run("SET TimeZone = 'UTC'");
  await con.run(`COPY (SELECT i,
      TIMESTAMP '2024-03-10 00:00:00' + INTERVAL (i) HOUR AS ts,
      TIMESTAMPTZ '2024-03-10 00:00:00+00' + INTERVAL (i) HOUR AS tz,
      DATE '2024-03-09' + (i // 4)::INTEGER AS d,
      TIME '02:30:00' + INTERVAL (i * 250) MILLISECOND AS t
    FROM range(24) r(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 4)`);
  const cases: [Predicate, string][] = [
    [{ col: 'ts', op: '>=', value: '2024-03-10 12:00:00' }, "ts >= '2024-03-10 12:00:00'"],
    [{ col: 'ts', op: '<', value: '2024-03-10T05:00' }, "ts < '2024-03-10 05:00:00'"],
    [{ col: 'tz', op: '>=', value: '2024-03-10T12:00:00' }, "tz >= '2024-03-10 12:00:00+00'"],
    [{ col: 'd', op: '>=', value: '2024-03-12' }, "d >= '2024-03-12'"],
    [{ col: 'd', op: '=', value: '2024-03-12T00:00:00' }, "d = '2024-03-12'"],
    [
      { col: 'ts', op: 'in', values: ['2024-03-10 12:00:00', '2024-03-10T13:00:00'] },
      "ts IN ('2024-03-10 12:00:00', '2024-03-10 13:00:00')",
    ],
    [{ col: 't', op: '=', value: '02:30:00.000' }, "t = '02:30:00'"],
    [{ col: 't', op: '>=', value: '02:30:00.750000' }, "t >= '02:30:00.75'"],
    [{ col: 't', op: '<', value: '02:30:00.50' }, "t < '02:30:00.5'"],
    [{ col: 't', op: '=', value: '02:30' }, "t = '02:30:00'"],
  ];
  const wants: number[] = [];
  for (const [, sql] of cases)
    wants.push(Number((await (await con.run(`SELECT count(*) FROM '${file}' WHERE ${sql}`)).getRows())[0]![0]));
  con.closeSync();
  db.closeSync();
  const zone = process.env.TZ;
  t.after(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });
  for (const tz of ['Asia/Kolkata', 'America/New_York', 'Pacific/Chatham', 'UTC']) {
    process.env.TZ = tz;
    for (const [k, [where, sql]] of cases.entries()) {
      const { output } = await pipeline(fromParquet(file, { where, columns: ['i'] }), collect());
      assert.equal(output.length, wants[k], `${tz}: ${sql}`);
    }
  }
});
