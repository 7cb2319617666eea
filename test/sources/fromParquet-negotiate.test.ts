/**
 * Fast by default (issue 17) for Parquet: `fromParquet` without `output` produces Arrow when the
 * next stage reads it, and only for columns whose Arrow form hands every stage the values the rows
 * path gives. A DuckDB-written file holds every such type (with nulls, int64 beyond 2^53, UBIGINT
 * max, NaN, -0, empty and non-ASCII text, microsecond and nanosecond timestamps); each pipeline
 * runs with `output: 'rows'` forced and as a user writes it, and must give the same rows. Into
 * toParquet, the negotiated file keeps the source's column types (rows infer DOUBLE for BIGINT).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import {
  pipeline,
  fromParquet,
  fromArrow,
  toParquet,
  toArrow,
  toSpill,
  sort,
  topK,
  groupBy,
  distinct,
  filter,
  agg,
  collect,
  type Row,
} from '../../index.ts';
import { CORPUS, corpusSkip, sortedRows, tempDir } from '../helpers.ts';
import { duckRun, parquetReadBack, sqlString } from '../lib/formats/parquet/duckdb.ts';

const dir = tempDir();
const file = joinPath(dir, 'types.parquet');
const withDecimal = joinPath(dir, 'decimal.parquet');
const withInterval = joinPath(dir, 'interval.parquet');
const N = 5000;

/** Every type the Arrow path negotiates, DuckDB-written, a null in every column now and then. */
const COLUMNS = `
  i AS id,
  CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 100)::TINYINT END AS tiny,
  CASE WHEN i % 12 = 0 THEN NULL ELSE (i * 7 % 60000)::USMALLINT END AS usmall,
  CASE WHEN i % 13 = 0 THEN NULL ELSE (i - 2500)::INTEGER END AS int32,
  CASE WHEN i % 14 = 0 THEN NULL WHEN i % 3 = 0 THEN 9007199254740993 + i ELSE i * 1000 END::BIGINT AS big,
  CASE WHEN i % 15 = 0 THEN NULL WHEN i % 4 = 0 THEN 18446744073709551615 ELSE i END::UBIGINT AS ubig,
  CASE WHEN i % 16 = 0 THEN NULL ELSE (i / 7)::REAL END AS real,
  CASE WHEN i % 17 = 0 THEN NULL WHEN i % 5 = 0 THEN 'NaN'::DOUBLE WHEN i % 9 = 0 THEN -0.0 ELSE i / 3 END::DOUBLE AS dbl,
  CASE WHEN i % 18 = 0 THEN NULL ELSE i % 2 = 0 END AS flag,
  CASE WHEN i % 19 = 0 THEN NULL WHEN i % 6 = 0 THEN '' ELSE ['a', 'é', 'Zürich', '😀', 'B', 'a,b'][i % 6 + 1] || (i % 40) END AS sym,
  CASE WHEN i % 20 = 0 THEN NULL ELSE ('\\x00\\xff' || (i % 9))::BLOB END AS bytes,
  CASE WHEN i % 21 = 0 THEN NULL ELSE DATE '1969-12-25' + (i % 400)::INTEGER END AS day,
  CASE WHEN i % 22 = 0 THEN NULL ELSE TIMESTAMP '2026-01-05 14:30:00' + INTERVAL (i * 1234567) MICROSECOND END AS ts_us,
  CASE WHEN i % 23 = 0 THEN NULL ELSE (TIMESTAMP '1960-01-05 14:30:00' + INTERVAL (i * 1234567) MICROSECOND)::TIMESTAMPTZ END AS ts_tz,
  CASE WHEN i % 24 = 0 THEN NULL ELSE make_timestamp_ns(1767623400000000000 + i * 7001) END AS ts_ns,
  CASE WHEN i % 25 = 0 THEN NULL ELSE (TIMESTAMP '2000-01-01' + INTERVAL (i) SECOND)::TIMESTAMP_MS END AS ts_ms`;

const ready = (async () => {
  await duckRun("SET TimeZone = 'UTC'");
  await duckRun(
    `COPY (SELECT ${COLUMNS} FROM range(${N}) t(i)) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 1500)`,
  );
  await duckRun(
    `COPY (SELECT i AS id, CASE WHEN i % 9 = 0 THEN NULL ELSE (i / 8 - 300)::DECIMAL(12, 3) END AS amount, i * 7 % 100 AS qty
       FROM range(${N}) t(i)) TO ${sqlString(withDecimal)} (FORMAT parquet)`,
  );
  await duckRun(
    `COPY (SELECT i AS id, INTERVAL (i) DAY AS span FROM range(${N}) t(i)) TO ${sqlString(withInterval)} (FORMAT parquet)`,
  );
})();

const ALL_BUT_UBIG = ['id', 'tiny', 'usmall', 'int32', 'big', 'real', 'dbl', 'flag', 'sym', 'bytes', 'day'].concat([
  'ts_us',
  'ts_tz',
  'ts_ns',
  'ts_ms',
]);

type Stage = Parameters<typeof pipeline>[1];

/** Rows of `fromParquet(path) -> ...stages -> collect()`, forced to rows or negotiated, and the source's choice. */
async function rowsThrough(
  path: string,
  stages: () => Stage[],
  forced: boolean,
  columns?: readonly string[],
): Promise<{ rows: Row[]; chosen: unknown }> {
  const source = fromParquet(path, { ...(forced ? { output: 'rows' } : {}), ...(columns ? { columns } : {}) });
  const result = await (
    pipeline as (
      ...args: unknown[]
    ) => Promise<{ output: Row[]; stats: { stages: { details: Record<string, unknown> }[] } }>
  )(source, ...stages(), collect());
  return { rows: result.output, chosen: result.stats.stages[0]!.details.outputChosen };
}

/** A row as comparable text: bigints, Dates (with sub-millisecond digits), bytes, NaN and -0 tagged. */
function text(rows: readonly Row[]): string[] {
  return rows.map((row) =>
    JSON.stringify(row, function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key];
      if (raw instanceof Date) return `date ${raw.toISOString()}`;
      if (raw instanceof Uint8Array) return `bytes ${Buffer.from(raw).toString('hex')}`;
      if (typeof raw === 'bigint') return `${raw}n`;
      if (typeof raw === 'number' && !Number.isFinite(raw)) return String(raw);
      if (Object.is(raw, -0)) return '-0';
      return value;
    }),
  );
}

/** The same rows (in the same order when `ordered`), values and their types. */
function sameRows(a: readonly Row[], b: readonly Row[], ordered: boolean, what: string): void {
  const left = text(a);
  const right = text(b);
  assert.equal(left.length, right.length, `${what}: row count`);
  assert.deepEqual(ordered ? left : left.sort(), ordered ? right : right.sort(), what);
}

/** The stages that read Arrow, each ending where collect() can take rows. */
const CASES: Record<string, { stages: () => Stage[]; ordered: boolean; columns?: string[] }> = {
  'sort (all key types)': {
    stages: () => [sort(['sym', { column: 'big', order: 'desc' }, 'ts_ns', 'day', 'dbl', 'id'], { budget: '256KB' })],
    ordered: true,
    // rows of UBIGINT max cannot become Arrow (Int64) for the sort: the rows path refuses them (below)
    columns: ALL_BUT_UBIG,
  },
  topK: {
    stages: () => [topK(100, ['usmall', { column: 'ts_tz', nulls: 'first' }, 'id'])],
    ordered: true,
    columns: ALL_BUT_UBIG,
  },
  'distinct by keys': { stages: () => [distinct(['flag', 'tiny', 'bytes'])], ordered: false },
  'distinct whole rows': { stages: () => [distinct(undefined, { budget: '512KB' })], ordered: false },
  groupBy: {
    stages: () => [
      groupBy(['sym', 'flag'], {
        n: agg.count(),
        total: agg.sum('big'),
        usum: agg.sum('usmall'),
        mean: agg.mean('real'),
        lo: agg.min('ts_us'),
        hi: agg.max('day'),
        first: agg.first('bytes'),
        last: agg.last('ts_ms'),
        ids: agg.countDistinct('int32'),
      }),
    ],
    ordered: false,
  },
  'filter over views': {
    stages: () => [filter((row: { id: number }) => row.id % 3 !== 1)],
    ordered: true,
  },
};

for (const [name, { stages, ordered, columns }] of Object.entries(CASES)) {
  test(`fromParquet -> ${name} -> collect: negotiated Arrow gives the rows the rows path gives`, async () => {
    await ready;
    const rows = await rowsThrough(file, stages, true, columns);
    const negotiated = await rowsThrough(file, stages, false, columns);
    assert.equal(rows.chosen, undefined, 'output given: no choice made');
    assert.match(String(negotiated.chosen), /^arrow: /);
    sameRows(rows.rows, negotiated.rows, ordered, name);
  });
}

test('fromParquet -> toParquet: negotiated Arrow keeps every column type of the source file, values equal', async () => {
  await ready;
  const out = joinPath(dir, 'negotiated.parquet');
  const result = await pipeline(fromParquet(file), toParquet(out));
  assert.match(String(result.stats.stages[0]!.details.outputChosen), /^arrow: /);
  const source = await parquetReadBack(file, 'id');
  const written = await parquetReadBack(out, 'id');
  assert.deepEqual(written.types, source.types);
  assert.equal(written.rows, source.rows);
});

test('fromParquet -> toArrow -> fromArrow: negotiated Arrow gives back the rows the rows path reads', async () => {
  await ready;
  const out = joinPath(dir, 'negotiated.arrow');
  await pipeline(fromParquet(file), toArrow(out));
  const back = await pipeline(fromArrow(out), collect());
  const direct = await pipeline(fromParquet(file, { output: 'rows' }), collect());
  sameRows(direct.output, back.output, true, 'toArrow');
});

test('fromParquet -> toSpill: negotiated Arrow replays the rows the rows path reads', async () => {
  await ready;
  const { output: spill } = await pipeline(fromParquet(file), toSpill({ budget: '64KB', dir: joinPath(dir, 'spill') }));
  try {
    const replayed: Row[] = [];
    for await (const row of spill.rows()) replayed.push(row);
    const direct = await pipeline(fromParquet(file, { output: 'rows' }), collect());
    sameRows(direct.output, replayed, true, 'toSpill');
  } finally {
    await spill.dispose();
  }
});

test('fromParquet -> sort on UBIGINT up to 2^64-1: negotiated Arrow sorts what rows cannot carry', async () => {
  await ready;
  await assert.rejects(
    rowsThrough(file, () => [sort(['ubig', 'id'])], true),
    /out of range for int64/,
  );
  const { rows } = await rowsThrough(file, () => [sort(['ubig', 'id'])], false);
  assert.equal(rows.length, N);
  const keys = rows.map((r) => (r as { ubig: number | bigint | null }).ubig);
  const present = keys.filter((k) => k !== null).map((k) => BigInt(k!));
  assert.equal(present.at(-1), 18446744073709551615n);
  for (let i = 1; i < present.length; i++) assert.ok(present[i - 1]! <= present[i]!, `sorted at ${i}`);
});

test('fromParquet with a DECIMAL column reads Arrow: a sort orders it as numbers, toParquet keeps DECIMAL, rows get exact text', async () => {
  await ready;
  const { output, stats } = await pipeline(
    fromParquet(withDecimal),
    sort([{ column: 'amount', order: 'desc' }, 'id']),
    collect(),
  );
  assert.equal(stats.stages[0]!.details.output, 'arrow');
  assert.equal(output.length, N);
  const amounts = output.map((r) => (r as { amount: string | null }).amount);
  // as numbers: 324.875 first (text order put '99.875' first, and '-0.125' among the positives)
  assert.deepEqual(amounts.slice(0, 3), ['324.875', '324.750', '324.625']);
  const present = amounts.filter((a) => a !== null).map(Number);
  for (let i = 1; i < present.length; i++) assert.ok(present[i - 1]! >= present[i]!, `descending at ${i}`);
  assert.equal(present.at(-1), -299.875);
  assert.equal(amounts.at(-1), null);
  const out = joinPath(dir, 'decimal-sorted.parquet');
  await pipeline(fromParquet(withDecimal), sort(['amount', 'id']), toParquet(out));
  const written = await parquetReadBack(out);
  assert.deepEqual(written.types, ['id:BIGINT', 'amount:DECIMAL(12,3)', 'qty:BIGINT']);
  assert.equal(written.rows, (await parquetReadBack(withDecimal, 'amount NULLS LAST, id')).rows);
});

test('fromParquet with an INTERVAL column reads rows even when the next stage reads Arrow, and says why', async () => {
  await ready;
  const { output, stats } = await pipeline(fromParquet(withInterval), sort(['id']), collect());
  assert.equal(stats.stages[0]!.details.output, 'rows');
  assert.match(String(stats.stages[0]!.details.outputChosen), /^rows: column `span` \(INTERVAL\) is read as rows/);
  assert.deepEqual((output[3] as { span: unknown }).span, { months: 0, days: 3, milliseconds: 0 });
});

test('fromParquet with `int64` given keeps its rows: no offer', async () => {
  await ready;
  const { output, stats } = await pipeline(
    fromParquet(file, { int64: 'bigint', columns: ['id', 'sym'] }),
    filter(() => true),
    collect(),
  );
  assert.equal(stats.stages[0]!.details.output, 'rows');
  assert.equal(stats.stages[0]!.details.outputChosen, undefined);
  assert.equal((output[0] as { id: unknown }).id, 0n);
});

test('spilled distinct and groupBy keep timestamps finer than the millisecond (PreciseDate) exactly', async () => {
  await ready;
  const columns = ['id', 'sym', 'ts_us', 'ts_ns'];
  const stages = {
    distinct: (budget?: string) => distinct(undefined, { budget }),
    groupBy: (budget?: string) =>
      groupBy(
        'sym',
        { first: agg.first('ts_ns'), last: agg.last('ts_ns'), lo: agg.min('ts_ns'), hi: agg.max('ts_us') },
        { budget },
      ),
  };
  for (const [name, make] of Object.entries(stages)) {
    for (const forced of [true, false]) {
      const source = (): ReturnType<typeof fromParquet> =>
        fromParquet(file, forced ? { columns, output: 'rows' } : { columns });
      const memory = await pipeline(source(), make(), collect());
      const spilled = await pipeline(source(), make('64KB'), collect());
      assert.ok(Number(spilled.stats.stages[1]!.details.partitionsSpilled) > 0, `${name} spilled`);
      sameRows(memory.output, spilled.output, false, `${name}${forced ? ' (rows)' : ''}`);
      assert.ok(
        text(spilled.output).some((row) => /\.\d{7,}Z/.test(row)),
        'nanosecond digits survive',
      );
    }
  }
});

test('fromParquet -> groupBy reads only the columns the groupBy reads (and a DECIMAL it does not read keeps nothing on rows)', async () => {
  await ready;
  const make = () => groupBy(['tiny'], { n: agg.count(), total: agg.sum('int32'), hi: agg.max('sym') });
  const projected = await pipeline(fromParquet(file), make(), collect());
  const all = await pipeline(fromParquet(file, { output: 'rows' }), make(), collect());
  assert.equal(projected.stats.stages[0]!.details.projection, 'tiny, int32, sym');
  assert.equal(all.stats.stages[0]!.details.projection, undefined);
  assert.deepEqual(sortedRows(projected.output), sortedRows(all.output));
  const decimal = await pipeline(fromParquet(withDecimal), groupBy('id', { n: agg.count() }), collect());
  assert.equal(decimal.stats.stages[0]!.details.output, 'arrow');
  assert.equal(decimal.stats.stages[0]!.details.projection, 'id');
  assert.equal(decimal.output.length, N);
  // a key the file lacks: refused, naming it (one group of nulls until 2026-12-07)
  await assert.rejects(
    pipeline(fromParquet(withDecimal), groupBy('nope', { n: agg.count() }), collect()),
    /groupBy key .*"nope".* not a column of its input/,
  );
});

test('INT96 timestamps read as Arrow: a Spark or Impala file keeps its other columns types; one past 2262 sends the rest of a negotiated read to rows', {
  skip: corpusSkip,
}, async () => {
  const impala = joinPath(CORPUS, 'parquet', 'alltypes_plain.parquet');
  const out = joinPath(dir, 'impala.parquet');
  const { stats } = await pipeline(fromParquet(impala), toParquet(out));
  assert.equal(stats.stages[0]!.details.output, 'arrow');
  const { types } = await parquetReadBack(out);
  assert.ok(types.includes('float_col:FLOAT'), `types: ${types.join(', ')}`);
  assert.ok(types.includes('tinyint_col:INTEGER'), `types: ${types.join(', ')}`);
  const direct = await pipeline(fromParquet(impala, { output: 'rows' }), collect());
  const back = await pipeline(fromParquet(out, { output: 'rows' }), collect());
  sameRows(direct.output, back.output, true, 'alltypes_plain copied through Arrow');
  // 9999-12-31 and a year -4128 past what an Arrow nanosecond timestamp holds: a stage that reads
  // Arrow (a filter over row views) gets the rows path's rows from the row where Arrow stopped
  const spark = joinPath(CORPUS, 'parquet', 'int96_from_spark.parquet');
  const asRows = await pipeline(fromParquet(spark, { output: 'rows' }), collect());
  assert.equal(asRows.output.length, 6);
  const negotiated = await pipeline(
    fromParquet(spark),
    filter((row: { a: unknown }) => row.a !== undefined),
    collect(),
  );
  assert.equal(negotiated.stats.stages[0]!.details.output, 'arrow');
  assert.match(
    String(negotiated.stats.stages[0]!.details.rowsFrom),
    /^row 0: INT96 timestamp of column `a` is beyond the range of Arrow nanosecond timestamps/,
  );
  sameRows(negotiated.output, asRows.output, true, 'int96_from_spark negotiated, then rows');
  // asked for Arrow: a coded error that says how to read it
  await assert.rejects(pipeline(fromParquet(spark, { output: 'arrow' }), collect()), {
    code: 'ERR_SPILLWAY_UNSUPPORTED',
    message: /INT96 timestamp of column `a` is beyond the range of Arrow nanosecond timestamps.*output 'rows'/,
  });
  // Parquet's TIMESTAMP cannot hold year -4128 to the nanosecond: a coded error, and no file
  await assert.rejects(pipeline(fromParquet(spark), toParquet(joinPath(dir, 'spark.parquet'))), {
    code: 'ERR_SPILLWAY_FORMAT',
    message: /Column `a` has type timestamp/,
  });
  assert.equal(existsSync(joinPath(dir, 'spark.parquet')), false);
});

test('a JSON column is copied as its text by default: numbers no double holds, repeated keys, scalars beside objects', async () => {
  const file = joinPath(dir, 'json-text.parquet');
  await duckRun(
    `COPY (SELECT * FROM (VALUES (1, '3.14159265358979323846264338327950288'::JSON), (2, '1e400'::JSON), (3, '-0'::JSON),
       (4, '{"a":1,"a":2}'::JSON), (5, '[0.1000000000000000055511151231257827]'::JSON), (6, '12345678901234567890.5'::JSON))
     t(id, j)) TO ${sqlString(file)} (FORMAT parquet)`,
  );
  const out = joinPath(dir, 'json-text-copy.parquet');
  // read as rows, the numbers were rounded and the repeated key dropped, and a number beside an
  // object failed toParquet ("type double but got {...}"); the Arrow form is the file's text
  const { stats } = await pipeline(fromParquet(file), toParquet(out));
  assert.match(String(stats.stages[0]!.details.outputChosen), /^arrow/);
  const written = await parquetReadBack(out, 'id');
  assert.deepEqual(written.types, ['id:INTEGER', 'j:JSON']);
  assert.equal(written.rows, (await parquetReadBack(file, 'id')).rows);
});
