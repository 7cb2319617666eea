/**
 * The parameter-sweep sample run as a user runs it (a child process), on a 600-configuration
 * sample of the grid: serially, in worker threads and in child processes. Every way must pick the
 * same best configurations and report the same failed ones.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers.ts';

const run = promisify(execFile);

interface Summary {
  configs: number;
  succeeded: number;
  failed: number[];
  bestSharpe: { id: number; sharpe: number; calmar: number } | null;
  bestCalmar: { id: number; sharpe: number; calmar: number } | null;
  workers: number;
}

async function sweep(...args: string[]): Promise<Summary> {
  const { stdout } = await run(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', join(ROOT, 'samples/param-sweep.ts'), '--configs', '600', '--json', ...args], { cwd: ROOT, timeout: 60_000 });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Summary;
}

test('param-sweep: serial, thread and process runs agree on the best and the failed configurations', async () => {
  const serial = await sweep('--serial');
  assert.equal(serial.configs, 600);
  assert.ok(serial.failed.length > 0, 'the sample grid should include impossible configurations');
  assert.ok(serial.failed.length < 60, `too many failures: ${serial.failed.length}`);
  assert.equal(serial.succeeded + serial.failed.length, 600);
  assert.notEqual(serial.bestSharpe, null);
  assert.equal(serial.workers, 0);

  for (const isolation of ['thread', 'process']) {
    const parallel = await sweep('--workers', '2', '--isolation', isolation, '--batch-size', '20');
    assert.equal(parallel.workers, 2);
    assert.deepEqual(parallel.bestSharpe, serial.bestSharpe, `${isolation}: best by Sharpe differs`);
    assert.deepEqual(parallel.bestCalmar, serial.bestCalmar, `${isolation}: best by Calmar differs`);
    assert.deepEqual(parallel.failed, serial.failed, `${isolation}: failed configurations differ`);
    assert.equal(parallel.succeeded, serial.succeeded);
  }
});
