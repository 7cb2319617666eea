/** `spillway convert --distinct` as users run it: the CLI in a child process, CSV in, CSV and Parquet out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, nodeScript, tempDir } from '../helpers.ts';
import { parseConvertArgs } from '../../lib/cli/commands/convert.ts';
import { pipeline, fromParquet, collect } from 'spillway';

function convert(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeScript('lib/cli/main.ts'), 'convert', ...args],
      { cwd: ROOT, encoding: 'utf8' },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

test('parses --distinct with and without keys', () => {
  assert.equal(parseConvertArgs(['a.csv', 'b.csv']).distinct, undefined);
  assert.equal(parseConvertArgs(['a.csv', 'b.csv', '--distinct']).distinct, true);
  assert.deepEqual(parseConvertArgs(['a.csv', 'b.csv', '--distinct', 'x,y']).distinct, ['x', 'y']);
  assert.deepEqual(parseConvertArgs(['--distinct=x', 'a.csv', 'b.csv']).distinct, ['x']);
  assert.equal(parseConvertArgs(['--distinct', 'a.csv', 'b.csv']).distinct, true);
  assert.throws(() => parseConvertArgs(['a.csv', 'b.csv', '--distinct=x,,y']), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
});

test('convert --distinct drops duplicate rows; --distinct a keeps the first row of each a', async () => {
  const dir = tempDir();
  const input = join(dir, 'in.csv');
  const lines = ['sym,venue,qty'];
  for (let i = 0; i < 3000; i++) lines.push(`S${i % 7},V${i % 3},${i % 2}`);
  writeFileSync(input, `${lines.join('\n')}\n`);
  const whole = await convert(input, join(dir, 'out.csv'), '--distinct');
  assert.equal(whole.code, 0, whole.stderr);
  const out = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
  assert.equal(out[0], 'sym,venue,qty');
  assert.equal(out.length - 1, 42); // 7 x 3 x 2 distinct combinations
  assert.equal(new Set(out).size, out.length);
  const byKey = await convert(input, join(dir, 'out.parquet'), '--distinct', 'sym');
  assert.equal(byKey.code, 0, byKey.stderr);
  const rows = (await pipeline(fromParquet(join(dir, 'out.parquet')), collect())).output as {
    sym: string;
    venue: string;
    qty: number;
  }[];
  assert.deepEqual(rows.map((r) => r.sym).sort(), ['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6']);
  // the first row of each sym: rows 0..6 of the input
  for (const r of rows) {
    const i = Number(r.sym.slice(1));
    assert.deepEqual([r.venue, r.qty], [`V${i % 3}`, i % 2]);
  }
});
