/**
 * Arrow Time32 (seconds, milliseconds) and Time64 (micro-, nanoseconds) columns go to Parquet TIME,
 * as DuckDB writes its TIME (INT32 or INT64, not adjusted to UTC): read back by DuckDB (TIME,
 * TIME_NS) and by our reader with the same times of day, nulls and sliced batches included; the
 * corpus's generated_datetime converts; a unit change in the first row group widens the column.
 * Before, toParquet refused them ("has Arrow type Time64<MICROSECOND>, which the Parquet writer
 * cannot write"), so `fromParquet(f, { output: 'arrow' }) -> toParquet` failed on DuckDB's TIME.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  RecordBatch,
  TimeMicrosecond,
  TimeMillisecond,
  TimeNanosecond,
  TimeSecond,
  vectorFromArray,
} from 'apache-arrow';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { Batch } from '../../../../lib/core/batch.ts';
import { BatchSource } from '../../../../lib/core/source.ts';
import { toParquet } from '../../../../sinks/toParquet.ts';
import { collect, fromArrow, fromParquet } from '../../../../index.ts';
import { CORPUS, corpusSkip, tempDir } from '../../../helpers.ts';
import { duckRows, duckRun, sqlString } from './duckdb.ts';

/** A source of `batches` (Arrow). */
function arrowSource(batches: RecordBatch[]) {
  const wrapped = batches.map((b, index) => Batch.fromArrow(b, { source: 'test', index, rowStart: index }));
  return new BatchSource({
    name: 'times',
    async *open() {
      yield* wrapped;
    },
  });
}

const TIMES = ['00:00:00', '12:34:56.789012345', null, '23:59:59.999999999'];

test('Time32 and Time64 of every unit are written as TIME: DuckDB and our reader read the same times of day', async () => {
  const whole = new RecordBatch({
    s: vectorFromArray([0, 45296, null, 86399], new TimeSecond()).data[0]!,
    ms: vectorFromArray([0, 45296789, null, 86399999], new TimeMillisecond()).data[0]!,
    us: vectorFromArray([0n, 45296789012n, null, 86399999999n], new TimeMicrosecond()).data[0]!,
    ns: vectorFromArray([0n, 45296789012345n, null, 86399999999999n], new TimeNanosecond()).data[0]!,
  });
  const file = path.join(tempDir(), 'times.parquet');
  // the second batch a slice starting past the first row
  await pipeline(arrowSource([whole.slice(0, 1), whole.slice(1)]), toParquet(file), { governor: false });
  const types = await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
  assert.deepEqual(
    types.rows.map((r) => r.column_type),
    ['TIME', 'TIME', 'TIME', 'TIME_NS'],
  );
  const cut = (t: string | null, digits: number) =>
    t === null ? null : t.replace(/\.(\d+)$/, (_, f: string) => (digits ? `.${f.slice(0, digits)}` : ''));
  const expected = TIMES.map((t) => ({ s: cut(t, 0), ms: cut(t, 3), us: cut(t, 6), ns: t }));
  expected[0] = { s: '00:00:00', ms: '00:00:00', us: '00:00:00', ns: '00:00:00' };
  assert.deepEqual((await duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`)).rows, expected);
  assert.deepEqual((await pipeline(fromParquet(file), collect())).output, expected);
  // the statistics order times as DuckDB does: a filter it pushes down keeps the right rows
  const after = await duckRows(
    `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(file)}) WHERE us > TIME '12:00:00'`,
  );
  assert.deepEqual(after.rows, [{ n: 2 }]);
});

test('DuckDB TIME read as Arrow and written back stays TIME; a unit change in the first row group widens', async () => {
  const dir = tempDir();
  const source = path.join(dir, 'duck.parquet');
  await duckRun(
    `COPY (SELECT i, TIME '08:00:00' + INTERVAL (i * 1234567) MICROSECOND AS t FROM range(5000) r(i)) TO ${sqlString(source)} (FORMAT parquet)`,
  );
  const copy = path.join(dir, 'copy.parquet');
  await pipeline(fromParquet(source, { output: 'arrow' }), toParquet(copy));
  const same = await duckRows(
    `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(source)}) a JOIN read_parquet(${sqlString(copy)}) b USING (i) WHERE a.t = b.t`,
  );
  assert.deepEqual(same.rows, [{ n: 5000 }]);
  assert.deepEqual(
    (await duckRows(`DESCRIBE SELECT t FROM read_parquet(${sqlString(copy)})`)).rows.map((r) => r.column_type),
    ['TIME'],
  );
  // milliseconds, then microseconds within the first row group: the column becomes microseconds
  const widened = path.join(dir, 'widened.parquet');
  await pipeline(
    arrowSource([
      new RecordBatch({ t: vectorFromArray([1000, 2000], new TimeMillisecond()).data[0]! }),
      new RecordBatch({ t: vectorFromArray([3000001n], new TimeMicrosecond()).data[0]! }),
    ]),
    toParquet(widened),
    { governor: false },
  );
  assert.deepEqual((await duckRows(`SELECT t FROM read_parquet(${sqlString(widened)})`)).rows, [
    { t: '00:00:01' },
    { t: '00:00:02' },
    { t: '00:00:03.000001' },
  ]);
});

test('the corpus generated_datetime (Time32, Time64, Date, Timestamp with zones) converts to Parquet', {
  skip: corpusSkip,
}, async () => {
  const file = path.join(CORPUS!, 'arrow', 'cpp-21.0.0', 'generated_datetime.arrow_file');
  const out = path.join(tempDir(), 'datetime.parquet');
  const result = await pipeline(fromArrow(file), toParquet(out));
  const rows = (await pipeline(fromArrow(file), collect())).output as Record<string, unknown>[];
  assert.equal(result.output.rows, rows.length);
  const back = (await pipeline(fromParquet(out), collect())).output as Record<string, unknown>[];
  assert.equal(back.length, rows.length);
  // every time-of-day column reads back as the Arrow file's rows give it
  const times = Object.keys(rows[0]!).filter((k) =>
    rows.some((r) => typeof r[k] === 'string' && /^\d\d:\d\d:\d\d/.test(r[k] as string)),
  );
  assert.ok(times.length >= 2, `time columns: ${times}`);
  for (const k of times)
    assert.deepEqual(
      back.map((r) => r[k]),
      rows.map((r) => r[k]),
      k,
    );
});
