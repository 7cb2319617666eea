/**
 * `spillway convert --sort` as users run it (the CLI in a child process), checked against DuckDB
 * running the same ORDER BY on the same CSV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ROOT, nodeScript, tempDir } from '../helpers.ts';
import { writeTradesCsv } from '../../samples/trades-data.ts';

function convert(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeScript('lib/cli/main.ts'), 'convert', ...args, '--no-progress'],
      { cwd: ROOT, encoding: 'utf8' },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

test('convert --sort price,ts and --sort price:desc write the order DuckDB gives', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  try {
    const csv = join(dir, 'trades.csv');
    await writeTradesCsv(csv, { rows: 20000 });
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c = await db.connect();
    const ids = async (sql: string): Promise<number[]> =>
      (await c.runAndReadAll(sql)).getRows().map((r) => Number(r[0]));
    for (const [flag, orderBy] of [
      ['price,ts', 'price, ts, id'],
      ['price:desc', 'price DESC, id'],
    ] as const) {
      const out = join(dir, `sorted-${flag.replace(/[^a-z]/g, '')}.parquet`);
      const run = await convert(csv, out, '--sort', flag);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /20,000 rows/);
      const got = await ids(`SELECT id FROM read_parquet('${out}')`);
      const expected = await ids(`SELECT id FROM read_csv('${csv}') ORDER BY ${orderBy}`);
      assert.equal(got.length, 20000);
      assert.deepEqual(got, expected, `--sort ${flag}`);
    }
    c.closeSync();
    db.closeSync();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('convert --sort refuses a malformed key list with a one-line error', async () => {
  const run = await convert('a.csv', 'b.parquet', '--sort', 'price:up');
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /^spillway convert: .*--sort.*up/);
});

test('convert CSV to CSV --sort keeps every cell as written: numbers sort as numbers, then text, empty cells last', {
  timeout: 120_000,
}, async () => {
  const dir = tempDir();
  try {
    const csv = join(dir, 'in.csv');
    // zip codes with leading zeros, formats a typed read rewrites, a digit a double loses, and a
    // key column mixing numbers, text and empty cells (a typed read refused it)
    writeFileSync(
      csv,
      'id,zip,price,ref,key\n' +
        '1,00501,10.50,9007199254740993.0,ABC\n' +
        '2,02134,1e3,0.10,10\n' +
        '3,90210,-0.0,1,\n' +
        '4,00001,7,2,9\n' +
        '5,11111,"1,5",3,007\n' +
        '6,22222,x,4,B\n',
    );
    const lines = async (...flags: string[]): Promise<string[]> => {
      const out = join(dir, 'out.csv');
      const run = await convert(csv, out, ...flags);
      assert.equal(run.code, 0, run.stderr);
      return readFileSync(out, 'utf8').trim().split('\n');
    };
    const input = readFileSync(csv, 'utf8').trim().split('\n');
    const byId = (id: number) => input[id]!;
    assert.deepEqual(await lines('--sort', 'key'), [input[0], byId(5), byId(4), byId(2), byId(1), byId(6), byId(3)]);
    assert.deepEqual(await lines('--sort', 'key:desc:nulls-first'), [
      input[0],
      byId(3),
      byId(6),
      byId(1),
      byId(2),
      byId(4),
      byId(5),
    ]);
    // a numeric column: numbers by value (1e3 is 1000), text after them
    assert.deepEqual(await lines('--sort', 'price'), [input[0], byId(3), byId(4), byId(1), byId(2), byId(5), byId(6)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
