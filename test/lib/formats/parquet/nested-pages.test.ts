/**
 * Nested columns are read page by page (issue 18, Must have 3): a list<list<int>> row group of
 * many pages is read with memory bounded by the batch, not the row group (measured as the peak
 * RSS of a child process), with the values DuckDB reads; a page too big to decode within the
 * bound (`maxNestedPageValues`) is refused with a coded error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parquetWriteFile } from 'hyparquet-writer';
import { openParquet } from '../../../../lib/formats/parquet/reader.ts';
import { ROOT, tempDir } from '../../../helpers.ts';
import { duckRows, sqlString } from './duckdb.ts';

const run = promisify(execFile);
const dir = tempDir('spillway-nested-');
const ROWS = 300_000;
const file = join(dir, 'nested.parquet');

/** Row i: i % 7 inner lists [j, i, j + i]; every 11th row null, every 13th an empty list. */
function row(i: number): number[][] | null {
  if (i % 11 === 0) return null;
  if (i % 13 === 0) return [];
  return Array.from({ length: i % 7 }, (_, j) => [j, i, j + i]);
}

test.before(() => {
  parquetWriteFile({
    filename: file,
    rowGroupSize: ROWS,
    pageSize: 256 * 1024,
    schema: [
      { name: 'root', num_children: 2 },
      { name: 'id', repetition_type: 'REQUIRED', type: 'INT32' },
      { name: 'll', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', type: 'INT32' },
    ],
    columnData: [
      { name: 'id', data: Int32Array.from({ length: ROWS }, (_, i) => i) },
      { name: 'll', data: Array.from({ length: ROWS }, (_, i) => row(i)) },
    ],
  });
});

const CHILD = `
import { openParquet } from './lib/formats/parquet/reader.ts';
import { readFileSync } from 'node:fs';
const reader = await openParquet(process.argv[1], { batchSize: 1000 });
let rows = 0, sum = 0, nulls = 0, empty = 0, bad = 0;
for await (const b of reader.batches()) {
  for (const r of b.rows) {
    if (r.ll === null) nulls++; else if (r.ll.length === 0) empty++;
    else for (const inner of r.ll) for (const v of inner) sum += v;
    if (r.ll !== null && r.ll.length !== 0 && r.ll.length !== r.id % 7) bad++;
    rows++;
  }
}
await reader.close();
const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
console.log(JSON.stringify({ rows, sum, nulls, empty, bad, hwm, pages: reader.numRowGroups }));
`;

test("a nested row group of many pages reads with bounded memory and DuckDB's values", async () => {
  const { stdout } = await run(
    process.execPath,
    ['--conditions=spillway-source', '--import', 'tsx', '--input-type=module', '-e', CHILD, file],
    { cwd: ROOT, maxBuffer: 1 << 20 },
  );
  const got = JSON.parse(stdout) as {
    rows: number;
    sum: number;
    nulls: number;
    empty: number;
    bad: number;
    hwm: number;
  };
  const duck = (
    await duckRows(`SELECT count(*)::BIGINT AS rows,
      sum(list_sum(list_transform(ll, x -> list_sum(x))))::BIGINT AS sum,
      count(*) FILTER (ll IS NULL)::BIGINT AS nulls, count(*) FILTER (len(ll) = 0)::BIGINT AS empty
    FROM read_parquet(${sqlString(file)})`)
  ).rows[0]!;
  assert.deepEqual(
    { rows: got.rows, sum: got.sum, nulls: got.nulls, empty: got.empty },
    {
      rows: Number(duck.rows),
      sum: Number(duck.sum),
      nulls: Number(duck.nulls),
      empty: Number(duck.empty),
    },
  );
  assert.equal(got.bad, 0);
  // the whole row group decoded at once took about 900 MB here; page by page, under 350 MB
  assert.ok(got.hwm < 350 * 2 ** 20, `peak RSS ${Math.round(got.hwm / 2 ** 20)} MB`);
});

test('resume inside a nested row group gives the same rows as a full read', async () => {
  const reader = await openParquet(file, { batchSize: 4096 });
  try {
    const from = 123_457;
    for await (const b of reader.batches(from)) {
      assert.equal(b.rowStart, from);
      for (const [k, r] of b.rows.slice(0, 50).entries()) assert.deepEqual(r, { id: from + k, ll: row(from + k) });
      break;
    }
  } finally {
    await reader.close();
  }
});

test('a nested page above maxNestedPageValues is refused with an UnsupportedError', async () => {
  const reader = await openParquet(file, { maxNestedPageValues: 1000 });
  try {
    await assert.rejects(
      async () => {
        for await (const _ of reader.batches()) void _;
      },
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_UNSUPPORTED');
        assert.match(error.message, /nested page of [\d,]+ values.*maxNestedPageValues/);
        assert.ok(error.message.includes(file));
        return true;
      },
    );
  } finally {
    await reader.close();
  }
  assert.throws(() => openParquet(file, { maxNestedPageValues: 0 }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
});

test("DuckDB's one-page list row group reads by default with DuckDB's values; a bound below its page is refused naming file, column and bound", async () => {
  // DuckDB writes a row group of lists as one page: 45,000 rows of up to 199 ints are 4.48M entries in one page
  const duck = join(dir, 'duck-lists.parquet');
  const { duckRun } = await import('./duckdb.ts');
  await duckRun(
    `COPY (SELECT list_transform(range((i % 200)::BIGINT), x -> ((x * 7 + i) % 100)::INT) AS l FROM range(45000) t(i)) TO ${sqlString(duck)}`,
  );
  const refused = await openParquet(duck, { maxNestedPageValues: 4_000_000 });
  try {
    await assert.rejects(
      async () => {
        for await (const _ of refused.batches()) void _;
      },
      (error: Error & { code?: string; context?: { file?: string } }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_UNSUPPORTED');
        assert.equal(error.context?.file, duck);
        assert.match(
          error.message,
          /column `l` has a nested page of 4,477,725 values.*maxNestedPageValues = 4,000,000/,
        );
        return true;
      },
    );
  } finally {
    await refused.close();
  }
  const expected = (
    await duckRows(`SELECT count(*)::DOUBLE AS n, sum(list_sum(l))::DOUBLE AS s FROM read_parquet(${sqlString(duck)})`)
  ).rows[0]!;
  const reader = await openParquet(duck);
  let rows = 0;
  let sum = 0;
  let lengths = 0;
  try {
    for await (const b of reader.batches()) {
      for (const r of b.rows as { l: number[] }[]) {
        // row i holds i % 200 values
        if (r.l.length === rows % 200) lengths++;
        rows++;
        for (const v of r.l) sum += v;
      }
    }
  } finally {
    await reader.close();
  }
  assert.deepEqual({ rows, sum, lengths }, { rows: Number(expected.n), sum: Number(expected.s), lengths: rows });
  // the page's levels and values are held in a few bytes a value, rows only a batch at a time:
  // assembling the page's 4.48M values into nested arrays at once took 290 MB here (150 MB now)
  const { stdout } = await run(
    process.execPath,
    ['--conditions=spillway-source', '--import', 'tsx', '--input-type=module', '-e', ONE_PAGE_CHILD, duck],
    { cwd: ROOT, maxBuffer: 1 << 20 },
  );
  const got = JSON.parse(stdout) as { rows: number; sum: number; hwm: number };
  assert.deepEqual({ rows: got.rows, sum: got.sum }, { rows, sum });
  assert.ok(got.hwm < 220 * 2 ** 20, `peak RSS ${Math.round(got.hwm / 2 ** 20)} MB`);
});

const ONE_PAGE_CHILD = `
import { openParquet } from './lib/formats/parquet/reader.ts';
import { readFileSync } from 'node:fs';
const reader = await openParquet(process.argv[1], { batchSize: 1000 });
let rows = 0, sum = 0;
for await (const b of reader.batches()) for (const r of b.rows) { rows++; for (const v of r.l) sum += v; }
await reader.close();
const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
console.log(JSON.stringify({ rows, sum, hwm }));
`;
