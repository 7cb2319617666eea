import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { fixture } from './helpers.ts';

test('options are validated synchronously, naming the option', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ workers: 0 }, /options\.workers/],
    [{ workers: 'many' }, /options\.workers/],
    [{ isolation: 'fiber' }, /options\.isolation/],
    [{ timeoutMs: -1 }, /options\.timeoutMs/],
    [{ retries: 1.5 }, /options\.retries/],
    [{ maxTasksPerWorker: 0 }, /options\.maxTasksPerWorker/],
    [{ workerMemoryLimit: 'lots' }, /options\.workerMemoryLimit/],
    [{ workerMemoryLimit: '1MB' }, /options\.workerMemoryLimit/],
    [{ kind: 'rows' }, /options\.kind/],
    [{ export: '' }, /options\.export/],
    [{ window: 0 }, /options\.window/],
    [{ onError: 'skip' }, /options\.onError/],
    [{ onError: { deadLetter: 3 } }, /options\.onError\.deadLetter/],
  ];
  for (const [options, message] of bad) {
    assert.throws(
      () => new WorkerPool(fixture('row.ts'), options as never),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_INVALID_OPTION');
        assert.match(error.message, message);
        return true;
      },
    );
  }
  assert.throws(() => new WorkerPool('' as string), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
});

test('defaults', () => {
  const pool = new WorkerPool(fixture('row.ts'));
  assert.ok(pool.options.workers >= 1);
  assert.equal(pool.options.isolation, 'thread');
  assert.equal(pool.options.ordered, true);
  assert.equal(pool.options.retries, 2);
  assert.equal(pool.options.window, pool.options.workers * 2);
  assert.equal(pool.options.maxTasksPerWorker, Infinity);
  assert.equal(new WorkerPool('test/fixtures/pool/row.ts').options.moduleUrl.protocol, 'file:');
});
