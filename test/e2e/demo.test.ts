/**
 * The README's main command, `npm run demo`, on a small generated file: it runs the ETL job end to
 * end, dead-letters the deliberately bad lines, and writes every good row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, nodeScript } from '../helpers.ts';
import { pipeline, fromCsv, drain } from '../../index.ts';

const run = promisify(execFile);

test('npm run demo: the ETL job runs on generated data, bad lines dead-lettered, good rows written', async () => {
  const { stdout } = await run(process.execPath, [...nodeScript('samples/demo.ts'), '20000'], { cwd: ROOT });
  const dir = /Files are in (\S+) \(remove it when done\)/.exec(stdout)?.[1];
  assert.ok(dir, stdout);
  try {
    const bad = Number(/(\d+) deliberately bad lines/.exec(stdout)?.[1]);
    const deadLettered = Number(/bad rows\s+(\d+) dead-lettered/.exec(stdout)?.[1]);
    assert.ok(bad > 0, stdout);
    // a broken quote costs only its own record, and each bad line is one record
    assert.equal(deadLettered, bad, stdout);
    const dead = readFileSync(join(dir, 'bad-rows.jsonl'), 'utf8').trim().split('\n');
    assert.equal(dead.length, bad);
    const read = Number(/read\s+([\d,]+) rows/.exec(stdout)?.[1]?.replaceAll(',', ''));
    assert.equal(read, 20_000 - bad, 'every good line was read');
    const written = Number(/wrote\s+([\d,]+) rows/.exec(stdout)?.[1]?.replaceAll(',', ''));
    const back = await pipeline(fromCsv(join(dir, 'trades-clean.csv')), drain());
    assert.equal(back.stats.rowsOut, written, 'the output holds the rows the demo reports');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
