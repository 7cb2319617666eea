/**
 * Fast by default over a dataset (issue 17): `fromParquet(dir)` without `output` reads every file
 * as Arrow when the next stage reads Arrow, as `fromParquet(file)` does, so a dataset keeps its
 * column types into toParquet (rows infer DOUBLE for BIGINT, text for DECIMAL) and skips building
 * row objects. One form for all files: a column of any file that Arrow cannot carry as rows do
 * (an INTERVAL) makes the whole dataset rows, and `stats` names the file and column. Each
 * negotiated run is compared with the same pipeline forced to rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, fromParquet, toParquet, filter, groupBy, agg, collect, type Row } from '../../../index.ts';
import { sortedRows, tempDir } from '../../helpers.ts';
import { duckRows, duckRun, parquetReadBack, sqlString } from '../formats/parquet/duckdb.ts';

const dir = tempDir();
const dataset = join(dir, 'trades');
const decimal = join(dir, 'decimal.parquet');
const interval = join(dir, 'interval.parquet');

/** Three hive partitions of DuckDB-written files: BIGINT beyond 2^53, nulls, timestamps, text. */
const ready = (async () => {
  await duckRun("SET TimeZone = 'UTC'");
  for (const day of [1, 2, 3]) {
    const part = join(dataset, `day=${day}`);
    mkdirSync(part, { recursive: true });
    await duckRun(
      `COPY (SELECT i AS id, CASE WHEN i % 7 = 0 THEN NULL ELSE 9007199254740993 + i * ${day} END::BIGINT AS big,
         (i % 50)::INTEGER AS qty, ['é', 'a,b', '', 'Zürich'][i % 4 + 1] AS note,
         TIMESTAMP '2026-01-0${day} 00:00:00' + INTERVAL (i * 1234567) MICROSECOND AS ts
       FROM range(${day * 1000}) t(i)) TO ${sqlString(join(part, 'part-0.parquet'))} (FORMAT parquet)`,
    );
  }
  await duckRun(
    `COPY (SELECT i AS id, (i / 8)::DECIMAL(12, 3) AS amount FROM range(500) t(i)) TO ${sqlString(decimal)} (FORMAT parquet)`,
  );
  await duckRun(
    `COPY (SELECT i AS id, INTERVAL (i) DAY AS span FROM range(500) t(i)) TO ${sqlString(interval)} (FORMAT parquet)`,
  );
})();

type Details = { details: Record<string, unknown> };

/** Rows of `fromParquet(input) -> ...stages -> collect()` and the source's choice. */
async function read(
  input: string | string[],
  options: Record<string, unknown>,
  ...stages: unknown[]
): Promise<{ rows: Row[]; chosen: unknown }> {
  const run = pipeline as (...args: unknown[]) => Promise<{ output: Row[]; stats: { stages: Details[] } }>;
  const result = await run(fromParquet(input, options), ...stages, collect());
  return { rows: result.output, chosen: result.stats.stages[0]!.details.outputChosen };
}

/** Rows as sorted comparable text (bigints, Dates with their sub-millisecond digits). */
function text(rows: readonly Row[]): string[] {
  return rows
    .map((row) =>
      JSON.stringify(row, function (this: Record<string, unknown>, key: string, value: unknown) {
        const raw = this[key];
        if (raw instanceof Date) return `date ${raw.toISOString()}`;
        if (typeof raw === 'bigint') return `${raw}n`;
        return value;
      }),
    )
    .sort();
}

test('a Parquet dataset into toParquet: negotiated Arrow keeps BIGINT and every value', async () => {
  await ready;
  const out = join(dir, 'all.parquet');
  const result = await pipeline(fromParquet(dataset), toParquet(out));
  assert.match(String(result.stats.stages[0]!.details.outputChosen), /^arrow: /);
  assert.equal(result.output.rows, 6000);
  const written = await parquetReadBack(out, 'day, id');
  assert.ok(written.types.includes('big:BIGINT'), `types: ${written.types.join(', ')}`);
  const forced = join(dir, 'forced.parquet');
  await pipeline(fromParquet(dataset, { output: 'arrow' }), toParquet(forced));
  assert.deepEqual(written, await parquetReadBack(forced, 'day, id'));
});

test('negotiated rows equal the rows path, with hive columns and a where filter', async () => {
  await ready;
  const options = { where: { col: 'qty', op: '<', value: 20 } };
  const keep = (): unknown => filter((row: { id: number }) => row.id % 3 !== 0);
  const rows = await read(dataset, { ...options, output: 'rows' }, keep());
  const negotiated = await read(dataset, options, keep());
  assert.equal(rows.chosen, undefined, 'output given: no choice made');
  assert.match(String(negotiated.chosen), /^arrow: /);
  assert.ok(rows.rows.length > 1000);
  assert.deepEqual(text(negotiated.rows), text(rows.rows));
});

test('a file with a column Arrow cannot carry makes the whole dataset rows, naming it', async () => {
  await ready;
  const files = [join(dataset, 'day=1', 'part-0.parquet'), interval];
  const mixed = await read(
    files,
    {},
    filter(() => true),
  );
  assert.match(String(mixed.chosen), /^rows: .*interval\.parquet: column `span` \(INTERVAL\) is read as rows/);
  const rows = await read(
    files,
    { output: 'rows' },
    filter(() => true),
  );
  assert.deepEqual(text(mixed.rows), text(rows.rows));
  // projected away, the INTERVAL column no longer decides
  const projected = await read(
    files,
    { columns: ['id'] },
    filter(() => true),
  );
  assert.match(String(projected.chosen), /^arrow: /);
  assert.equal(projected.rows.length, 1500);
});

test('a file with a DECIMAL column reads Arrow like the others, with the rows the rows path gives', async () => {
  await ready;
  const files = [join(dataset, 'day=1', 'part-0.parquet'), decimal];
  const mixed = await read(
    files,
    {},
    filter(() => true),
  );
  assert.match(String(mixed.chosen), /^arrow: /);
  const rows = await read(
    files,
    { output: 'rows' },
    filter(() => true),
  );
  // the rows path appends a column a file lacks after its own; Arrow has the unified schema's order
  const byName = (all: readonly Row[]): Row[] =>
    all.map((row) => Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1))));
  assert.deepEqual(text(byName(mixed.rows)), text(byName(rows.rows)));
});

test('int64 given: the user chose the rows, no offer is made', async () => {
  await ready;
  const { rows, chosen } = await read(
    dataset,
    { int64: 'bigint' },
    filter(() => true),
  );
  assert.equal(chosen, undefined);
  assert.ok(rows.every((r) => typeof (r as { id: unknown }).id === 'bigint'));
});

test('fromParquet(dir) -> groupBy reads only the columns it reads (hive keys from the paths), with the groups every column gives', async () => {
  await ready;
  const make = () => groupBy(['day', 'note'], { n: agg.count(), total: agg.sum('qty'), hi: agg.max('big') });
  const projected = await pipeline(fromParquet(dataset), make(), collect());
  const all = await pipeline(fromParquet(dataset, { output: 'rows' }), make(), collect());
  assert.equal(projected.stats.stages[0]!.details.projection, 'note, qty, big');
  assert.equal(all.stats.stages[0]!.details.projection, undefined);
  assert.equal(projected.output.length, 12);
  assert.deepEqual(sortedRows(projected.output), sortedRows(all.output));
  // a decimal column the groupBy does not read no longer keeps the dataset on rows
  const files = [decimal, join(dataset, 'day=1', 'part-0.parquet')];
  const mixed = await pipeline(fromParquet(files), groupBy('id', { n: agg.count() }), collect());
  assert.match(String(mixed.stats.stages[0]!.details.outputChosen), /^arrow/);
  assert.equal(mixed.stats.stages[0]!.details.projection, 'id');
  assert.equal(mixed.output.length, 1000);
  // a column no file has: refused, naming it (it made one group of nulls until 2026-12-07)
  await assert.rejects(
    pipeline(fromParquet(dataset), groupBy('nope', { n: agg.count() }), collect()),
    /groupBy key .*"nope".* not a column of its input/,
  );
});

test('a projection that puts a hive column first and drops a where column: the Parquet written holds the asked columns, in order, with their values', async () => {
  // apache-arrow's RecordBatch.select placed each column at its old index: here `day` came out
  // all null and after `note`, with no error (found reading a dataset as a user would)
  await ready;
  const out = join(dir, 'projected.parquet');
  const columns = ['day', 'note', 'id'];
  const where = { col: 'qty', op: '<', value: 20 } as const;
  const result = await pipeline(fromParquet(dataset, { hive: true, columns, where }), toParquet(out));
  assert.match(String(result.stats.stages[0]!.details.outputChosen), /^arrow: /);
  const written = await parquetReadBack(out, 'day, id');
  assert.deepEqual(
    written.types.map((t) => t.split(':')[0]),
    columns,
  );
  const expected = await duckRows(
    `SELECT day, note, id FROM read_parquet(${sqlString(join(dataset, '*/*.parquet'))}, hive_partitioning = true)
     WHERE qty < 20 ORDER BY day, id`,
  );
  assert.ok(expected.rows.length > 1000);
  assert.deepEqual(
    JSON.parse(written.rows).map((r: unknown[]) => r.map(String)),
    expected.rows.map((r) => columns.map((c) => String(r[c]))),
  );
});

test('a DECIMAL column only a later file holds is written as that DECIMAL (it was a bare TypeError in toParquet)', async () => {
  const root = join(dir, 'late-decimal');
  mkdirSync(root, { recursive: true });
  await duckRun(`COPY (SELECT 1 AS y) TO ${sqlString(join(root, 'part-0.parquet'))} (FORMAT parquet)`);
  await duckRun(
    `COPY (SELECT 2 AS y, 3.5::DECIMAL(5, 1) AS x UNION ALL SELECT 3, -12.25::DECIMAL(5, 1)) TO ${sqlString(join(root, 'part-1.parquet'))} (FORMAT parquet)`,
  );
  for (const output of [undefined, 'arrow'] as const) {
    const out = join(dir, `late-decimal-${output ?? 'negotiated'}.parquet`);
    await pipeline(fromParquet(root, output ? { output } : {}), toParquet(out));
    const got = await duckRows(`SELECT y, x::VARCHAR AS x, typeof(x) AS t FROM ${sqlString(out)} ORDER BY y`);
    assert.deepEqual(got.rows, [
      { y: 1, x: null, t: 'DECIMAL(5,1)' },
      { y: 2, x: '3.5', t: 'DECIMAL(5,1)' },
      { y: 3, x: '-12.3', t: 'DECIMAL(5,1)' },
    ]);
  }
});
