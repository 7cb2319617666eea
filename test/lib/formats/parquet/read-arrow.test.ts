/** Arrow output (`recordBatches`) equals the rows path on every corpus file that reads, and on a written file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { openParquet } from '../../../../lib/formats/parquet/reader.ts';
import { recordBatchToRows } from '../../../../lib/formats/arrow/convert.ts';
import { CORPUS, corpusSkip, tempDir } from '../../../helpers.ts';
import type { TruthFile } from './corpusNormalize.ts';
import { fromParquet, mapBatch, pipeline } from '../../../../index.ts';
import { duckRows, duckRun, sqlString } from './duckdb.ts';

/** One comparable form, at any depth: dates as ISO strings without trailing zero digits, bytes as base64. */
function canon(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date)
    return value
      .toISOString()
      .replace(/\.?0+Z$/, 'Z')
      .replace(/\.Z$/, 'Z');
  if (value instanceof Uint8Array) return `b64:${Buffer.from(value).toString('base64')}`;
  if (typeof value === 'string') {
    // (times are compared as they are: both paths drop a fraction's trailing zeros)
    return /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(value) ? value.replace(/0+Z$/, 'Z').replace(/\.Z$/, 'Z') : value;
  }
  if (Array.isArray(value)) return value.map((v) => canon(v));
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, canon(v)]));
  return value;
}

async function bothWays(file: string): Promise<{ rows: unknown[][]; arrow: unknown[][] }> {
  const reader = await openParquet(file, { int64: 'auto', batchSize: 3 });
  try {
    const names = reader.columns.map((c) => c.name);
    const rows: unknown[][] = [];
    for await (const b of reader.batches()) for (const r of b.rows) rows.push(names.map((n) => canon(r[n])));
    const arrow: unknown[][] = [];
    for await (const b of reader.recordBatches()) {
      assert.ok(b.batch.numRows <= 3);
      const dates = new Set(b.batch.schema.fields.filter((f) => String(f.type).startsWith('Date')).map((f) => f.name));
      for (const r of recordBatchToRows(b.batch, { int64: 'auto', timestamps: 'string' }) as Record<
        string,
        unknown
      >[]) {
        // DateDay comes back as YYYY-MM-DD with timestamps: 'string'; the rows path gives midnight UTC
        arrow.push(
          names.map((n) => (dates.has(n) && typeof r[n] === 'string' ? `${r[n] as string}T00:00:00Z` : canon(r[n]))),
        );
      }
    }
    return { rows, arrow };
  } finally {
    await reader.close();
  }
}

// INT96 values beyond int64 nanoseconds (years 1677-2262): the rows path reads them, Arrow refuses.
const ARROW_UNSUPPORTED = new Set(['parquet/int96_from_spark.parquet']);

const truth: TruthFile[] = corpusSkip
  ? []
  : (JSON.parse(readFileSync(join(CORPUS, 'truth.json'), 'utf8')) as { files: TruthFile[] }).files.filter(
      (f) => f.format === 'parquet' && f.expect === 'read',
    );

test('Arrow output equals the rows path on every corpus Parquet file that reads', { skip: corpusSkip }, async (t) => {
  let compared = 0;
  for (const f of truth) {
    await t.test(f.path, async () => {
      if (ARROW_UNSUPPORTED.has(f.path)) {
        await assert.rejects(bothWays(join(CORPUS, f.path)), { code: 'ERR_SPILLWAY_UNSUPPORTED' });
        return;
      }
      let result;
      try {
        result = await bothWays(join(CORPUS, f.path));
      } catch (error) {
        // files the rows path rejects too (asserted in reader.test.ts) are not compared
        const rowsFail = await (async () => {
          const r = await openParquet(join(CORPUS, f.path));
          try {
            for await (const b of r.batches()) void b;
            return false;
          } catch {
            return true;
          } finally {
            await r.close();
          }
        })().catch(() => true);
        if (rowsFail) return;
        throw error;
      }
      assert.equal(result.arrow.length, result.rows.length);
      assert.deepStrictEqual(result.arrow, result.rows);
      compared++;
    });
  }
  assert.ok(compared >= 40, `compared ${compared} files`);
});

test('Arrow output keeps native types: typed buffers, timestamps, strings, nulls, resume', async () => {
  const file = join(tempDir('spillway-read-arrow-'), 'types.parquet');
  const n = 2500;
  parquetWriteFile({
    filename: file,
    rowGroupSize: 1000,
    pageSize: 4096,
    schema: [
      { name: 'root', num_children: 4 },
      { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
      {
        name: 'at',
        type: 'INT64',
        repetition_type: 'OPTIONAL',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      },
      { name: 'amount', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'name', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', converted_type: 'UTF8' },
    ],
    columnData: [
      { name: 'id', data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 10n ** 12n) },
      {
        name: 'at',
        data: Array.from({ length: n }, (_, i) =>
          i % 7 === 0 ? null : BigInt(Date.UTC(2024, 0, 1)) * 1000n + BigInt(i) * 1001n,
        ),
      },
      { name: 'amount', data: Int32Array.from({ length: n }, (_, i) => i - 1000) },
      { name: 'name', data: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : `név ${i}`)) },
    ],
  });
  const reader = await openParquet(file, { batchSize: 400 });
  try {
    const types = reader.columns.map((c) => c.type);
    assert.deepEqual(types, ['int64', 'timestamp', 'int32', 'string']);
    const starts: number[] = [];
    const rows: Record<string, unknown>[] = [];
    for await (const b of reader.recordBatches(150)) {
      starts.push(b.rowStart);
      assert.deepEqual(
        b.batch.schema.fields.map((f) => String(f.type)),
        ['Int64', 'Timestamp<MICROSECOND, UTC>', 'Int32', 'Utf8'],
      );
      rows.push(...(recordBatchToRows(b.batch, { int64: 'bigint' }) as Record<string, unknown>[]));
    }
    // from row 150 on, batches never straddle the row groups of 1000
    assert.deepEqual(starts, [150, 550, 950, 1000, 1400, 1800, 2000, 2400]);
    assert.equal(rows.length, n - 150);
    const r = rows[850]!; // row 1000
    assert.equal(r.id, 1000n * 10n ** 12n);
    assert.equal((r.at as Date).getTime(), Date.UTC(2024, 0, 1) + 1001);
    assert.equal(r.amount, 0);
    assert.equal(r.name, null);
    assert.equal(rows[0]!.amount, -850);
    assert.equal(rows[1]!.name, 'név 151');
    assert.equal(rows[4]!.at, null); // row 154 = 7 * 22
  } finally {
    await reader.close();
  }
});

test("TIME and sub-millisecond timestamps: `batch.rows` of output 'arrow' gives the rows path's values, digit for digit", async () => {
  const file = join(tempDir(), 'times-duckdb.parquet');
  // DuckDB writes TIME as TIME(MICROS) and TIME_NS as TIME(NANOS)
  await duckRun(
    `COPY (SELECT * FROM (VALUES
       (1, TIME '12:34:56.5', '01:02:03.123456789'::TIME_NS, TIMESTAMP_MS '2024-01-02 03:04:05.765', TIMESTAMP '2024-01-02 03:04:23.765572', TIMESTAMP_NS '2024-01-02 03:04:05.765572120'),
       (2, TIME '23:59:59.999999', '00:00:00.0000001'::TIME_NS, TIMESTAMP_MS '1969-12-31 23:59:59.999', TIMESTAMP '1969-12-31 23:59:59.999990', TIMESTAMP_NS '1969-12-31 23:59:59.999999999'),
       (3, TIME '00:00:00', '10:00:00.5'::TIME_NS, NULL, TIMESTAMP '2024-01-02 03:04:05', NULL),
       (4, TIME '24:00:00', NULL, NULL, NULL, NULL)
     ) v(id, t, tn, tms, tus, tns) ORDER BY id) TO ${sqlString(file)}`,
  );
  // every digit as text: a PreciseDate's toISOString() keeps its nanoseconds
  const text = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v);
  const rowsOf = async (output: 'rows' | 'arrow'): Promise<unknown[][]> => {
    const got: unknown[][] = [];
    const keep = mapBatch((rows: Record<string, unknown>[]) => {
      for (const r of rows) got.push(Object.values(r).map(text));
      return [];
    });
    await pipeline(fromParquet(file, { output }), keep, { governor: false });
    return got;
  };
  const rows = await rowsOf('rows');
  const arrow = await rowsOf('arrow');
  assert.deepEqual(arrow, rows);
  assert.deepEqual(
    rows.map((r) => r.slice(1, 3)),
    [
      ['12:34:56.5', '01:02:03.123456789'],
      ['23:59:59.999999', '00:00:00.0000001'],
      ['00:00:00', '10:00:00.5'],
      ['24:00:00', null],
    ],
  );
  assert.deepEqual(rows[0]!.slice(3), [
    '2024-01-02T03:04:05.765Z',
    '2024-01-02T03:04:23.765572Z',
    '2024-01-02T03:04:05.76557212Z',
  ]);
  // and DuckDB's own text of the times
  const duckTimes = (await duckRows(`SELECT t::VARCHAR AS t, tn::VARCHAR AS tn FROM ${sqlString(file)} ORDER BY id`))
    .rows;
  assert.deepEqual(
    duckTimes.map((r) => [r.t, r.tn]),
    rows.map((r) => r.slice(1, 3)),
  );
});
