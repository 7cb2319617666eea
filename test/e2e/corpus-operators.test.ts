/**
 * The operators over files nobody on the team wrote, each result checked by DuckDB:
 *
 * - every Arrow IPC stream Arrow C++ 21 wrote for the integration suite, sorted by each of its
 *   columns (the order checked row by row with DuckDB's comparison, NULLs last) and made distinct
 *   (the rows and the column types those of the file), through a Parquet copy DuckDB can read;
 * - every small Parquet file joined to itself on a column of each type it holds, left, full and
 *   anti, in memory and partitioned by a 16 KB budget, the rows equal to DuckDB's join as multisets.
 *
 * A refusal passes only when it is coded and gives the expected reason: a regression that turns a
 * result into an error fails here as a wrong result would.
 *
 * This is how these were found: sort ordered fixed-size binary keys arbitrarily and a dictionary's
 * null entry as the text "null"; distinct turned DATE into TIMESTAMP WITH TIME ZONE and TIME into
 * text; a join of no output row could not be written; a full join failed on BIGINT values past
 * 2^53 and toParquet dropped Binary values after a batch of nulls; a left join whose right keys
 * were all null lost the right columns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  pipeline,
  fromArrow,
  fromCsv,
  fromParquet,
  toParquet,
  sort,
  distinct,
  groupBy,
  agg,
  join as joinOn,
  ErrorCodes,
} from '../../index.ts';
import type { SpillwayError } from '../../index.ts';
import { CORPUS, corpusSkip, tempDir } from '../helpers.ts';
import { duckRows, sqlString } from '../lib/formats/parquet/duckdb.ts';

const skip = corpusSkip;
const dir = tempDir('spillway-corpus-ops-');
const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Rows of query `a` not in `b`, and of `b` not in `a` (as multisets). */
async function differences(a: string, b: string): Promise<[number, number]> {
  const count = async (x: string, y: string) =>
    Number((await duckRows(`SELECT count(*)::INTEGER AS n FROM ((${x}) EXCEPT ALL (${y}))`)).rows[0]!.n);
  return [await count(a, b), await count(b, a)];
}

async function columnsOf(file: string): Promise<{ name: string; type: string }[]> {
  const { rows } = await duckRows(`DESCRIBE SELECT * FROM ${sqlString(file)}`);
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

/** A refusal is fine only when it is coded and says the reason `why` expects; anything else fails the test. */
function refused(error: unknown, what: string, why: RegExp): void {
  const code = (error as SpillwayError).code;
  const message = String((error as Error).message);
  assert.ok(
    (code === ErrorCodes.UNSUPPORTED || code === ErrorCodes.SCHEMA_MISMATCH) && why.test(message),
    `${what}: ${message}`,
  );
}

/** Streams with no Parquet copy for DuckDB to check against, and the refusal each gives. */
const NOT_COPIED: Record<string, RegExp> = {
  'generated_duplicate_fieldnames.stream': /two struct fields named ""/,
  'generated_duration.stream': /Duration<SECOND>, which the Parquet writer cannot write/,
  'generated_interval.stream': /Interval<YEAR_MONTH>, which the Parquet writer cannot write/,
  'generated_interval_mdn.stream': /Interval<MONTH_DAY_NANO>, which the Parquet writer cannot write/,
  'generated_list_view.stream': /Unrecognized type: "ListView"/,
  'generated_nested_dictionary.stream': /List<Dictionary<Int8, Utf8>>>, which the Parquet writer cannot write/,
  'generated_run_end_encoded.stream': /Unrecognized type: "RunEndEncoded"/,
  'generated_union.stream': /Union<Int32 \| Utf8>, which the Parquet writer cannot write/,
};

const arrowDir = join(CORPUS, 'arrow', 'cpp-21.0.0');
const streams = skip ? [] : readdirSync(arrowDir).filter((f) => f.endsWith('.stream'));

test('every corpus Arrow stream sorted by each column comes out in DuckDB order, and distinct keeps its rows and types', {
  skip,
}, async () => {
  let sorted = 0;
  for (const name of streams) {
    const path = join(arrowDir, name);
    const copy = join(dir, `${name}.parquet`);
    try {
      await pipeline(fromArrow(path), toParquet(copy));
    } catch (error) {
      refused(error, `copying ${name}`, NOT_COPIED[name] ?? /^$/);
      continue;
    }
    const columns = await columnsOf(copy);
    if (new Set(columns.map((c) => c.name)).size !== columns.length) continue; // DuckDB renames repeats
    for (const { name: column, type } of columns) {
      const out = join(dir, `${name}.${sorted}.sorted.parquet`);
      try {
        await pipeline(fromArrow(path), sort([column]), toParquet(out));
      } catch (error) {
        refused(error, `sorting ${name} by ${column} (${type})`, /nested values have no order here/);
        continue;
      }
      sorted++;
      // in file order, no row greater than the next (DuckDB's comparison: NaN last, -0 = 0), and no value after a NULL
      const c = q(column);
      const { rows } = await duckRows(
        `SELECT count(*) FILTER (WHERE prev > v)::INTEGER AS down, count(*) FILTER (WHERE prev IS NULL AND v IS NOT NULL AND n > 1)::INTEGER AS after_null
         FROM (SELECT ${c} AS v, lag(${c}) OVER (ORDER BY file_row_number) AS prev, row_number() OVER (ORDER BY file_row_number) AS n
               FROM read_parquet(${sqlString(out)}, file_row_number = true))`,
      );
      assert.deepEqual(rows[0], { down: 0, after_null: 0 }, `${name} sorted by ${column} (${type})`);
      assert.deepEqual(
        await differences(`SELECT * FROM ${sqlString(out)}`, `SELECT * FROM ${sqlString(copy)}`),
        [0, 0],
        `${name} sorted by ${column}: its rows`,
      );
    }
    const unique = join(dir, `${name}.distinct.parquet`);
    await pipeline(fromArrow(path), distinct(), toParquet(unique));
    assert.deepEqual(await columnsOf(unique), columns, `${name}: distinct keeps the column types`);
    assert.deepEqual(
      await differences(`SELECT * FROM ${sqlString(unique)}`, `SELECT DISTINCT * FROM ${sqlString(copy)}`),
      [0, 0],
      `${name}: distinct rows`,
    );
  }
  assert.ok(sorted > 100, `sorted by ${sorted} columns`);
});

/**
 * Parquet files left out of the join sweep, and why. The rest are joined on every column; a key
 * type the join refuses must be a coded error.
 */
const NOT_JOINED: Record<string, string> = {
  'alltypes_tiny_pages.parquet': 'keys of 10 values over 7300 rows: millions of output rows per column',
  'plain-dict-uncompressed-checksum.parquet':
    'each column holds one value over 1000 rows: a million output rows per join, as rle-dict-snappy-checksum.parquet (kept) gives',
  'ARROW-17100.parquet': 'no reader here decodes it (MANIFEST.md)',
  'hadoop_lz4_compressed.parquet': 'DuckDB cannot read its LZ4 codec to check the result',
  'non_hadoop_lz4_compressed.parquet': 'DuckDB cannot read its LZ4 codec to check the result',
  'map_no_value.parquet': 'DuckDB cannot read it (MANIFEST.md)',
  'int96_from_spark.parquet':
    'DuckDB reads INT96 as microseconds: its year -4128 value loses 616 ns there, so rows cannot be compared',
  'nullable.impala.parquet': 'a MAP column comes out of the rows path as a list of structs (known, docs/operators.md)',
  'nested_maps.snappy.parquet':
    'a MAP column comes out of the rows path as a list of structs (known, docs/operators.md)',
};

/**
 * The first column of each DuckDB type: the key's type (and how its pages were written) is what
 * a join's key path depends on. Every column of a file is still read and written as a payload
 * column. Keying on each of delta_binary_packed's 66 integer columns took 80 of this test's 190 s.
 */
function keyColumns(columns: { name: string; type: string }[]): { name: string; type: string }[] {
  const seen = new Set<string>();
  return columns.filter((c) => !seen.has(c.type) && seen.add(c.type));
}

test('every small corpus Parquet file joined to itself on a column of each type (left, full, anti) matches DuckDB', {
  skip,
}, async () => {
  const parquetDir = join(CORPUS, 'parquet');
  let joined = 0;
  for (const name of skip ? [] : readdirSync(parquetDir).filter((f) => f.endsWith('.parquet'))) {
    if (NOT_JOINED[name]) continue;
    const path = join(parquetDir, name);
    const file = sqlString(path);
    const columns = await columnsOf(path);
    for (const { name: key, type } of keyColumns(columns)) {
      for (const how of ['left', 'full', 'anti'] as const) {
        // in memory, and partitioned by a tiny budget (the partitions' own probe and rows paths)
        const budget = joined % 2 === 0 ? undefined : '16KB';
        const out = join(dir, `${name}.${joined}.${how}.parquet`);
        await pipeline(fromParquet(path), joinOn(fromParquet(path), { on: key, how, budget }), toParquet(out));
        joined++;
        const k = q(key);
        const right = columns.filter((c) => c.name !== key).map((c) => `r.${q(c.name)} AS ${q(`${c.name}_right`)}`);
        const left = columns.map((c) => (c.name === key ? `coalesce(l.${k}, r.${k}) AS ${k}` : `l.${q(c.name)}`));
        const expected =
          how === 'anti'
            ? `SELECT * FROM ${file} l WHERE NOT EXISTS (SELECT 1 FROM ${file} r WHERE r.${k} = l.${k})`
            : `SELECT ${[...left, ...right].join(', ')} FROM ${file} l ${how.toUpperCase()} JOIN ${file} r ON l.${k} = r.${k}`;
        assert.deepEqual(
          await differences(`SELECT * FROM ${sqlString(out)}`, expected),
          [0, 0],
          `${how} join of ${name} on ${key} (${type}), budget ${budget ?? 'none'}`,
        );
      }
    }
  }
  assert.ok(joined > 150, `${joined} joins`);
});

test("every corpus CSV file read with cast: 'auto', sorted, grouped and full-joined on each column, matches DuckDB", {
  skip,
}, async () => {
  let checked = 0;
  for (const sub of skip ? [] : ['csv-spectrum', 'csv-test-data', 'arrow-testing']) {
    const csvDir = join(CORPUS, 'csv', sub);
    for (const name of readdirSync(csvDir).filter((f) => f.endsWith('.csv') && !f.startsWith('bad-'))) {
      const path = join(csvDir, name);
      // the copy DuckDB checks against: the file as spillway reads it, typed per column
      const copy = join(dir, `${sub}-${name}.parquet`);
      await pipeline(fromCsv(path, { cast: 'auto' }), toParquet(copy));
      const file = sqlString(copy);
      const columns = await columnsOf(copy);
      for (const { name: key, type } of columns) {
        const k = q(key);
        const what = `${sub}/${name} on ${key} (${type})`;
        const sorted = join(dir, `${sub}-${name}.${checked}.sorted.parquet`);
        await pipeline(fromCsv(path, { cast: 'auto' }), sort([key]), toParquet(sorted));
        const { rows } = await duckRows(
          `SELECT count(*) FILTER (WHERE prev > v)::INTEGER AS down FROM (SELECT ${k} AS v, lag(${k}) OVER (ORDER BY file_row_number) AS prev FROM read_parquet(${sqlString(sorted)}, file_row_number = true))`,
        );
        assert.equal(rows[0]!.down, 0, `sorted ${what}`);
        assert.deepEqual(
          await differences(`SELECT * FROM ${sqlString(sorted)}`, `SELECT * FROM ${file}`),
          [0, 0],
          what,
        );
        const grouped = join(dir, `${sub}-${name}.${checked}.grouped.parquet`);
        await pipeline(fromCsv(path, { cast: 'auto' }), groupBy([key], { n: agg.count() }), toParquet(grouped));
        assert.deepEqual(
          await differences(
            `SELECT * FROM ${sqlString(grouped)}`,
            `SELECT ${k}, count(*)::DOUBLE AS n FROM ${file} GROUP BY ALL`,
          ),
          [0, 0],
          `grouped ${what}`,
        );
        const joined = join(dir, `${sub}-${name}.${checked}.joined.parquet`);
        await pipeline(
          fromCsv(path, { cast: 'auto' }),
          joinOn(fromCsv(path, { cast: 'auto' }), { on: key, how: 'full' }),
          toParquet(joined),
        );
        const right = columns.filter((c) => c.name !== key).map((c) => `r.${q(c.name)} AS ${q(`${c.name}_right`)}`);
        const left = columns.map((c) => (c.name === key ? `coalesce(l.${k}, r.${k}) AS ${k}` : `l.${q(c.name)}`));
        assert.deepEqual(
          await differences(
            `SELECT * FROM ${sqlString(joined)}`,
            `SELECT ${[...left, ...right].join(', ')} FROM ${file} l FULL JOIN ${file} r ON l.${k} = r.${k}`,
          ),
          [0, 0],
          `full join ${what}`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked > 40, `${checked} columns`);
});
