/**
 * Spaces and tabs around CSV header names and values. Names lose their surrounding spaces as
 * DuckDB names columns; numbers with blanks around them are numbers under `cast: true` and under
 * declared number types, as DuckDB's casts read them, on the fast path (rows and Arrow) and on
 * csv-parse alike. (The sniffer's `cast: 'auto'` against DuckDB: fromCsv-duckdb.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { pipeline, fromCsv, collect, ErrorCodes, type FromCsvOptions } from '../../index.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir('spillway-csv-blanks-');

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The rows of `path` on each parser and output form; they must all agree. */
async function everyPath(path: string, options: FromCsvOptions): Promise<unknown[]> {
  const forms: FromCsvOptions[] = [
    { parser: 'fast', output: 'rows' },
    { parser: 'fast', output: 'arrow' },
    { parser: 'csv-parse' },
  ];
  let first: unknown[] | undefined;
  for (const form of forms) {
    const { output } = await pipeline(fromCsv(path, { ...options, ...form }), collect(), { governor: false });
    if (first === undefined) first = output;
    else assert.deepEqual(output, first, `${JSON.stringify(form)} agrees with the fast rows`);
  }
  return first!;
}

test('cast: true reads numbers with spaces or tabs around them; other cells keep their blanks', async () => {
  const path = write('cast-true.csv', 'a,b,c\n 42,3.5 ,\t7\t\n -1e3 , 9007199254740993 ,  \n true,x y, 007\n');
  const rows = await everyPath(path, { cast: true });
  assert.deepEqual(rows, [
    { a: 42, b: 3.5, c: 7 },
    { a: -1000, b: 9007199254740993n, c: '  ' },
    // DuckDB refuses ` true` as a boolean: it stays text
    { a: ' true', b: 'x y', c: 7 },
  ]);
});

test('declared number types read values with blanks around them, as DuckDB casts them; a boolean does not', async () => {
  const path = write('declared.csv', 'n,i,b,d,x\n 1.5, 2 ,\t3\t,4.5 , 5\n');
  const rows = await everyPath(path, {
    cast: { n: 'number', i: 'integer', b: 'bigint', d: 'double', x: 'int64' },
  });
  assert.deepEqual(rows, [{ n: 1.5, i: 2, b: 3n, d: 4.5, x: 5 }]);
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  const duck = await c.runAndReadAll(
    `SELECT n, i, b, d, x FROM read_csv('${path}', header=true, columns={'n':'DOUBLE','i':'BIGINT','b':'BIGINT','d':'DOUBLE','x':'BIGINT'})`,
  );
  assert.deepEqual(duck.getRowsJson(), [[1.5, '2', '3', 4.5, '5']]);
  const flags = write('flags.csv', 'f\n true\n');
  await assert.rejects(
    pipeline(fromCsv(flags, { cast: { f: 'boolean' } }), collect(), { governor: false }),
    (error: Error & { code?: string; context?: { line?: number } }) =>
      error.code === ErrorCodes.CSV_PARSE && error.context?.line === 2 && /boolean/.test(error.message),
  );
});

test('header names lose their surrounding spaces (quoted or not), renamings in stats, duplicates after trimming made unique', async () => {
  const path = write('header.csv', 'id, name ,"  price",name\n1,a,2.5,b\n');
  for (const parser of ['fast', 'csv-parse'] as const) {
    const { output, stats } = await pipeline(fromCsv(path, { parser }), collect(), { governor: false });
    assert.deepEqual(output, [{ id: '1', name: 'a', price: '2.5', name_1: 'b' }]);
    const details = stats.stages[0]!.details;
    assert.equal(details.columns, 'id,name,price,name_1');
    assert.equal(details.renamed, '" name " -> name, "  price" -> price, "name" -> name_1');
  }
  // without the sniffer (a stream-like read of a file): the same names
  const { output } = await pipeline(fromCsv(path, { sniff: false }), collect(), { governor: false });
  assert.deepEqual(output, [{ id: '1', name: 'a', price: '2.5', name_1: 'b' }]);
});

test('expectColumns matches the header as written or with its names trimmed; another header is still refused', async () => {
  const path = write('expect.csv', 'id , name\n1,a\n');
  for (const expectColumns of [
    ['id', 'name'],
    ['id ', ' name'],
  ]) {
    const { output } = await pipeline(fromCsv(path, { columns: true, expectColumns }), collect(), {
      governor: false,
    });
    assert.deepEqual(output, [{ id: '1', name: 'a' }]);
  }
  await assert.rejects(
    pipeline(fromCsv(path, { columns: true, expectColumns: ['id', 'nam'] }), collect(), { governor: false }),
    (error: Error & { code?: string }) => error.code === ErrorCodes.CSV_PARSE && /differs/.test(error.message),
  );
});
