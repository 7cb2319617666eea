/**
 * toCsv's cell values that an empty unquoted field or plain JSON.stringify lost:
 *
 * - a value inside a list, struct or map (a cell of JSON text) is written as toJsonl writes it
 *   (one serializer, lib/formats/json/format.ts): NaN and infinities as bare tokens, bigints as
 *   bare digits, binary as base64 strings, where JSON.stringify wrote `null`, `"digits"` and
 *   `{"0":1,"1":2}`;
 *
 * Every path is checked: the fast formatter (rows), csv-stringify (an option the fast formatter
 * leaves to it), Arrow batches through row views (nested columns); the file is read back by
 * fromCsv and by DuckDB. An empty string is written as an empty field, as null is: CSV has no null,
 * DuckDB reads its own `""` as NULL by default, and fromCsv reads both alike (docs/csv.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  pipeline,
  fromIterable,
  fromParquet,
  fromCsv,
  toCsv,
  toJsonl,
  collect,
  type FormatError,
} from '../../index.ts';
import { jsonLineFormatter } from '../../lib/formats/json/format.ts';
import { duckRows, duckRun, sqlString } from '../lib/formats/parquet/duckdb.ts';
import { tempDir } from '../helpers.ts';

/** Options that leave the text as the fast formatter writes it but hand the work to csv-stringify. */
const SLOW = { bom: false } as const;

const nestedRow = () => ({
  id: 1,
  lb: [new Uint8Array([1, 2]), new Uint8Array(0)],
  ld: [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null],
  li: [9007199254740993n, -1],
  st: { x: Number.NaN, big: 9007199254740993n, b: new Uint8Array([255]) },
});
/** The JSON text of each nested cell of nestedRow, as toJsonl writes these values. */
const NESTED_TEXT = {
  lb: '["AQI=",""]',
  ld: '[1.5,NaN,Infinity,-Infinity,null]',
  li: '[9007199254740993,-1]',
  st: '{"x":NaN,"big":9007199254740993,"b":"/w=="}',
};
const quoted = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** The CSV file of `rows` written by toCsv with `options`, as text. */
async function written(rows: Record<string, unknown>[], options: Record<string, unknown> = {}): Promise<string> {
  const file = join(tempDir(), 'out.csv');
  await pipeline(fromIterable(rows), toCsv(file, options));
  return readFileSync(file, 'utf8');
}

test('nested values are written with the JSON text toJsonl writes for them (fast formatter and csv-stringify)', async () => {
  const expected = `id,lb,ld,li,st\n1,${Object.values(NESTED_TEXT).map(quoted).join(',')}\n`;
  assert.equal(await written([nestedRow()]), expected);
  assert.equal(await written([nestedRow()], SLOW), expected);
  // the very text toJsonl writes for each value
  const json = jsonLineFormatter();
  for (const [key, value] of Object.entries(nestedRow()))
    if (key !== 'id') assert.equal(json(value), NESTED_TEXT[key as keyof typeof NESTED_TEXT], key);
  const jsonl = join(tempDir(), 'out.jsonl');
  await pipeline(fromIterable([nestedRow()]), toJsonl(jsonl));
  assert.equal(
    readFileSync(jsonl, 'utf8'),
    `{"id":1,${Object.entries(NESTED_TEXT)
      .map(([k, v]) => `"${k}":${v}`)
      .join(',')}}\n`,
  );
});

test('fromCsv reads a nested cell back as the JSON text toJsonl writes', async () => {
  for (const options of [{}, SLOW]) {
    const file = join(tempDir(), 'nested.csv');
    await pipeline(fromIterable([nestedRow()]), toCsv(file, options));
    const { output } = await pipeline(fromCsv(file), collect());
    assert.deepEqual(output, [{ id: '1', ...NESTED_TEXT }], JSON.stringify(options));
  }
});

test('a Map and a Set in a cell are written as toJsonl writes them (entries, values), not as {}', async () => {
  const rows = [{ m: new Map([['k', 1n]]), s: new Set([Number.NaN]) }];
  const expected = `m,s\n"[{""key"":""k"",""value"":1}]",[NaN]\n`;
  assert.equal(await written(rows), expected);
  assert.equal(await written(rows, SLOW), expected);
});

test('an invalid Date inside a nested value is refused, naming the column, as toJsonl refuses it', async () => {
  for (const options of [{}, SLOW]) {
    await assert.rejects(
      written([{ id: 1, when: [new Date('nope')] }], options),
      (error: FormatError) => /`when`.*invalid Date/.test(error.message) && error.context.stage === 'toCsv',
    );
  }
});

/** A Parquet file DuckDB wrote with empty strings and blobs, nulls, and lists and a struct of BLOB, DOUBLE and BIGINT. */
async function duckParquet(): Promise<string> {
  const file = join(tempDir(), 'values.parquet');
  await duckRun(`COPY (SELECT * FROM (VALUES
      (1, '', ''::BLOB, ['\\x01\\x02'::BLOB, ''::BLOB], [1.5, 'NaN'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE, NULL],
       [9007199254740993::BIGINT, -1], {'x': 'NaN'::DOUBLE, 'big': 9007199254740993::BIGINT, 'b': '\\xFF'::BLOB}, ['', NULL]),
      (2, NULL, NULL, NULL, [], NULL, NULL, NULL),
      (3, 'a', 'b'::BLOB, [], [0.5], [], {'x': 1, 'big': 2, 'b': ''::BLOB}, [])
    ) t(id, s, b, lb, ld, li, st, ls)) TO ${sqlString(file)} (FORMAT parquet)`);
  return file;
}

const CSV_TYPES =
  "{'id': 'INTEGER', 's': 'VARCHAR', 'b': 'BLOB', 'lb': 'VARCHAR', 'ld': 'DOUBLE[]', 'li': 'BIGINT[]', " +
  "'st': 'STRUCT(x DOUBLE, big BIGINT, b VARCHAR)', 'ls': 'VARCHAR[]'}";

/** Each column as DuckDB's text (NULL as null), by row. */
const TEXT_COLUMNS = (binaryAsText: boolean) =>
  [
    'id::VARCHAR AS id',
    's',
    binaryAsText ? 'b::VARCHAR AS b' : "CASE WHEN b IS NULL THEN NULL WHEN b = ''::BLOB THEN '' ELSE 'bytes' END AS b",
    'ld::VARCHAR AS ld',
    'li::VARCHAR AS li',
    'st.x::VARCHAR AS x',
    'st.big::VARCHAR AS big',
    'ls::VARCHAR AS ls',
  ].join(', ');

test('Parquet (DuckDB) -> toCsv, rows and Arrow: DuckDB reads back every nested value', async () => {
  const parquet = await duckParquet();
  const source = (await duckRows(`SELECT ${TEXT_COLUMNS(false)} FROM read_parquet(${sqlString(parquet)}) ORDER BY id`))
    .rows;
  for (const output of ['rows', 'arrow'] as const) {
    for (const options of [{}, SLOW]) {
      const label = `${output} ${JSON.stringify(options)}`;
      const file = join(tempDir(), `${output}.csv`);
      await pipeline(fromParquet(parquet, { output }), toCsv(file, options));
      const text = readFileSync(file, 'utf8');
      assert.equal(
        text,
        'id,s,b,lb,ld,li,st,ls\n' +
          `1,,,${quoted(NESTED_TEXT.lb)},${quoted(NESTED_TEXT.ld)},${quoted(NESTED_TEXT.li)},` +
          `"{""x"":NaN,""big"":9007199254740993,""b"":""/w==""}","["""",null]"\n` +
          '2,,,,[],,,\n' +
          `3,a,62,[],[0.5],[],"{""x"":1,""big"":2,""b"":""""}",[]\n`,
        label,
      );
      // an empty string reads back as NULL (CSV has no null; DuckDB's own `""` reads so too)
      const from = `read_csv(${sqlString(file)}, columns=${CSV_TYPES})`;
      const back = (await duckRows(`SELECT ${TEXT_COLUMNS(false)} FROM ${from} ORDER BY id`)).rows;
      const emptyAsNull = source.map((r) => ({ ...r, s: r.s === '' ? null : r.s, b: r.b === '' ? null : r.b }));
      assert.deepEqual(back, emptyAsNull, label);
      // binary inside a nested value is base64 text, as toJsonl writes it: DuckDB reads that text
      const blobs = (await duckRows(`SELECT lb, st.b AS sb FROM ${from} ORDER BY id`)).rows;
      assert.deepEqual(
        blobs,
        [
          { lb: '["AQI=",""]', sb: '/w==' },
          { lb: null, sb: null },
          { lb: '[]', sb: '' },
        ],
        label,
      );
      // fromCsv reads nested cells back as the JSON text toJsonl writes
      const { output: rows } = await pipeline(fromCsv(file), collect<Record<string, unknown>>());
      assert.deepEqual(
        rows.map((r) => [r.lb, r.ld, r.li, r.st]),
        [
          [NESTED_TEXT.lb, NESTED_TEXT.ld, NESTED_TEXT.li, '{"x":NaN,"big":9007199254740993,"b":"/w=="}'],
          ['', '[]', '', ''],
          ['[]', '[0.5]', '[]', '{"x":1,"big":2,"b":""}'],
        ],
        label,
      );
    }
  }
});

test('a file of no rows written by csv-stringify has the header its rows would have (its options and casts)', async () => {
  // before 2026-12-07 the header of an empty file ignored csv-stringify's options: `a,b` for `delimiter: '::'`
  for (const options of [{ delimiter: '::' }, { quoted: true }, { bom: true }]) {
    const withRows = await written([{ a: 1, b: '' }], { ...options, columns: ['a', 'b'] });
    const empty = await written([], { ...options, columns: ['a', 'b'] });
    assert.equal(empty, withRows.slice(0, withRows.indexOf('\n') + 1), JSON.stringify(options));
  }
});
