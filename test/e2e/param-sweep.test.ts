/**
 * The parameter-sweep sample run as a user runs it (a child process), on a 600-configuration
 * sample of the grid: serially, in worker threads and in child processes. Every way must pick the
 * same best configurations and report the same failed ones. And the README's own command (all
 * 12,000 configurations, default workers): its second pass dead-letters one-row batches on a
 * worker kept after a throw, which once left the last batch undispatched (exit 13, no output).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, nodeScript } from '../helpers.ts';

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
  const configs = args.includes('--configs') ? [] : ['--configs', '600'];
  const { stdout } = await run(
    process.execPath,
    [...nodeScript('samples/param-sweep.ts'), ...configs, '--json', ...args],
    { cwd: ROOT, timeout: 240_000 },
  );
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

test('param-sweep: the README configuration (12,000 configurations, worker threads) completes and accounts for every one', async () => {
  const full = await sweep('--configs', '12000');
  assert.equal(full.configs, 12_000);
  assert.ok(full.workers >= 1);
  assert.ok(full.failed.length > 0 && full.failed.length < 1200, `failed: ${full.failed.length}`);
  assert.equal(full.succeeded + full.failed.length, 12_000);
  assert.notEqual(full.bestSharpe, null);
});
