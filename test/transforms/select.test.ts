/**
 * `select(columns)`: the columns asked for, in that order, whatever form the batches travel in
 * (Arrow from the readers, a filter's selection of it, object rows); the reader before it reads
 * only those columns; a column the data lacks is a coded error naming it, and no output file is
 * left. Checked against DuckDB's `SELECT` of the same columns of the same file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import {
  pipeline,
  fromCsv,
  fromIterable,
  fromParquet,
  toParquet,
  select,
  filter,
  distinct,
  collect,
  ErrorCodes,
} from '../../index.ts';
import { tempDir } from '../helpers.ts';
import { duckRows, fromDuck, fromSpillway, parquetReadBack, sqlString } from '../lib/formats/parquet/duckdb.ts';

const dir = tempDir();
const ROWS = 5000;
const SYMBOLS = ['AAPL', 'é', '', 'Zürich', '😀', 'a,b'];
const csv = joinPath(dir, 'trades.csv');
writeFileSync(
  csv,
  `id,symbol,price,qty,note\n${Array.from({ length: ROWS }, (_, i) => {
    const symbol = SYMBOLS[i % SYMBOLS.length]!;
    const note = i % 5 === 0 ? `"x, ""y""\nz${i}"` : `n${i % 40}`;
    const qty = i % 11 === 0 ? '' : String((i % 30) - 10);
    return `${i},${symbol.includes(',') ? `"${symbol}"` : symbol},${(i % 700) + 0.5},${qty},${note}`;
  }).join('\n')}\n`,
);

/** Rows in one comparable form (values as DuckDB's JSON rows give them), in order. */
function comparable(rows: readonly object[]): string {
  return JSON.stringify(rows.map((row) => Object.entries(row).map(([k, v]) => [k, fromSpillway(v)])));
}

async function duckSelect(sql: string): Promise<string> {
  const { rows } = await duckRows(sql);
  return JSON.stringify(rows.map((row) => Object.entries(row).map(([k, v]) => [k, fromDuck(v)])));
}

/** The CSV's rows with qty > 3, through `select(columns)`, written to Parquet and read back by DuckDB. */
async function selectedParquet(name: string, columns: Parameters<typeof select>[0]) {
  const out = joinPath(dir, name);
  await pipeline(
    fromCsv(csv, { cast: true }),
    filter((row: { qty: number | null }) => row.qty !== null && row.qty > 3),
    select(columns),
    toParquet(out),
  );
  return parquetReadBack(out);
}

test('fromCsv -> select: the columns asked for, in that order, as DuckDB selects them; only they are read', async () => {
  const arrow = await pipeline(fromCsv(csv, { cast: true }), select(['qty', 'symbol', 'id']), collect());
  const rows = await pipeline(fromCsv(csv, { cast: true, output: 'rows' }), select(['qty', 'symbol', 'id']), collect());
  assert.equal(arrow.output.length, ROWS);
  assert.deepEqual(Object.keys(arrow.output[0]!), ['qty', 'symbol', 'id']);
  assert.deepEqual(arrow.output, rows.output);
  assert.equal(comparable(arrow.output), await duckSelect(`SELECT qty, symbol, id FROM read_csv(${sqlString(csv)})`));
  // the reader filled the three columns only; select got Arrow and kept it
  assert.equal(arrow.stats.stages[0]!.details.projection, 'id, symbol, qty');
  assert.equal(arrow.stats.stages[1]!.details.input, 'arrow');
  assert.equal(rows.stats.stages[0]!.details.projection, undefined);
});

test('filter -> select keeps the filter selection; written to Parquet it reads back as DuckDB selects it', async () => {
  const back = await selectedParquet('selected.parquet', ['symbol', 'note', 'price']);
  assert.deepEqual(back.types, ['symbol:VARCHAR', 'note:VARCHAR', 'price:DOUBLE']);
  const { rows } = await duckRows(`SELECT symbol, note, price FROM read_csv(${sqlString(csv)}) WHERE qty > 3`);
  assert.equal(back.rows, JSON.stringify(rows.map((row) => Object.values(row).map(fromDuck))));
});

test('fromParquet -> select reads only the selected column chunks', async () => {
  const file = joinPath(dir, 'trades.parquet');
  await pipeline(fromCsv(csv, { cast: true }), toParquet(file));
  const result = await pipeline(fromParquet(file), select(['price', 'symbol']), collect());
  // (in the file's column order)
  assert.equal(result.stats.stages[0]!.details.projection, 'symbol, price');
  assert.equal(
    comparable(result.output),
    await duckSelect(`SELECT price, symbol FROM read_parquet(${sqlString(file)})`),
  );
});

test('select -> distinct is SELECT DISTINCT of those columns', async () => {
  const result = await pipeline(fromCsv(csv, { cast: true }), select(['symbol', 'qty']), distinct(), collect());
  const ours = (result.output as Record<string, unknown>[])
    .map((row) => JSON.stringify([row.symbol, fromSpillway(row.qty)]))
    .sort();
  const { rows } = await duckRows(`SELECT DISTINCT symbol, qty FROM read_csv(${sqlString(csv)})`);
  const theirs = rows.map((row) => JSON.stringify([row.symbol, fromDuck(row.qty)])).sort();
  assert.deepEqual(ours, theirs);
  assert.equal(result.stats.stages[0]!.details.projection, 'symbol, qty');
});

test('a column the data lacks is a coded error naming it, from Arrow and from rows, and no file is left', async () => {
  for (const output of ['arrow', 'rows'] as const) {
    const out = joinPath(dir, `missing-${output}.parquet`);
    await assert.rejects(
      pipeline(fromCsv(csv, { cast: true, output }), select(['symbol', 'venue']), toParquet(out)),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, ErrorCodes.SCHEMA_MISMATCH);
        assert.match(error.message, /no column "venue".*it has id, symbol, price, qty, note/);
        return true;
      },
    );
    assert.equal(existsSync(out), false);
  }
  assert.deepEqual(
    readdirSync(dir).filter((name) => name.includes('missing')),
    [],
  );
  await assert.rejects(
    pipeline(fromIterable([[1, 2]]), select('a'), collect()),
    (error: Error & { code?: string }) => error.code === ErrorCodes.SCHEMA_MISMATCH && /arrays/.test(error.message),
  );
});

test('select checks its columns up front', () => {
  assert.throws(() => select([]), { code: ErrorCodes.INVALID_OPTION });
  assert.throws(() => select(['a', 'a']), /appears twice/);
  assert.throws(() => select([''] as string[]), { code: ErrorCodes.INVALID_OPTION });
});

test('select({ output: input }) renames as SELECT ... AS does, from Arrow, a filter selection and rows, the same in Parquet', async () => {
  const renames = { ident: 'id', p2: 'price', sym: 'symbol', again: 'id' };
  const sql = `SELECT id AS ident, price AS p2, symbol AS sym, id AS again FROM read_csv(${sqlString(csv)})`;
  const arrow = await pipeline(fromCsv(csv, { cast: true }), select(renames), collect());
  const rows = await pipeline(fromCsv(csv, { cast: true, output: 'rows' }), select(renames), collect());
  assert.deepEqual(Object.keys(arrow.output[0]!), ['ident', 'p2', 'sym', 'again']);
  assert.deepEqual(arrow.output, rows.output);
  assert.equal(comparable(arrow.output), await duckSelect(sql));
  // the reader read each input column once
  assert.equal(arrow.stats.stages[0]!.details.projection, 'id, symbol, price');
  assert.equal(arrow.stats.stages[1]!.details.input, 'arrow');
  const back = await selectedParquet('renamed.parquet', renames);
  // the types and values the same columns get unrenamed (DuckDB reading both files)
  const unrenamed = await selectedParquet('unrenamed.parquet', ['id', 'price', 'symbol']);
  const [id, price, symbol] = unrenamed.types.map((t) => t.split(':')[1]);
  assert.deepEqual(back.types, [`ident:${id}`, `p2:${price}`, `sym:${symbol}`, `again:${id}`]);
  const expected = (JSON.parse(unrenamed.rows) as unknown[][]).map((row) => [...row, row[0]]);
  assert.deepEqual(JSON.parse(back.rows), expected);
  // an output named __proto__ is an own column of rows, not their prototype
  const proto = await pipeline(fromIterable([{ a: 1 }]), select({ ['__proto__']: 'a' }), collect());
  assert.deepEqual(Object.keys(proto.output[0]!), ['__proto__']);
  assert.equal(Object.getPrototypeOf(proto.output[0]!), Object.prototype);
});

test('select({ ... }) checks its names up front, and a missing input column names it', async () => {
  assert.throws(() => select({}), { code: ErrorCodes.INVALID_OPTION });
  assert.throws(() => select({ a: '' }), { code: ErrorCodes.INVALID_OPTION, message: /columns\.a/ });
  assert.throws(() => select({ a: 7 } as never), { code: ErrorCodes.INVALID_OPTION });
  await assert.rejects(pipeline(fromCsv(csv, { cast: true }), select({ v: 'venue' }), collect()), {
    code: ErrorCodes.SCHEMA_MISMATCH,
    message: /no column "venue"/,
  });
});
