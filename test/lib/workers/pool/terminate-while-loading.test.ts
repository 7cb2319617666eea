/**
 * A thread pool destroyed while its threads still load the user's module leaves no descriptor
 * open on the module files: Node 20 leaves them open when a thread is terminated in the middle of
 * its imports (40 aborted runs of a module importing apache-arrow left 922 descriptors), so a
 * kill lets a loading thread finish first (thread-worker.ts): the user's module before the
 * thread is ready, and the Arrow decoder it imports with its first Arrow batch.
 * test/e2e/abort-random.test.ts saw it as descriptors on apache-arrow's files after a
 * parallel(thread) run was aborted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { fixture } from './helpers.ts';
import { ROOT, fdsUnder } from '../../../helpers.ts';

test('a thread pool destroyed while its threads import the module holds no descriptor on module files', async () => {
  const modules = join(ROOT, 'node_modules');
  let caughtLoading = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const pool = new WorkerPool(fixture('imports-arrow.mjs'), { workers: 2, isolation: 'thread', retries: 0 });
    const running = [pool.run(0, [{ n: 0 }]), pool.run(1, [{ n: 1 }])];
    for (const r of running) r.catch(() => undefined);
    // destroy while a thread has a module file open (it is importing), or once the batches ran
    const ran = Promise.allSettled(running);
    let done = false;
    void ran.then(() => {
      done = true;
    });
    while (!done && fdsUnder(modules).length === 0) await new Promise((resolve) => setImmediate(resolve));
    if (!done) caughtLoading++;
    await pool.destroy();
    await ran;
    assert.deepEqual(
      fdsUnder(modules),
      [],
      `attempt ${attempt}: destroyed ${done ? 'after the batches ran' : 'while importing'}`,
    );
  }
  assert.ok(caughtLoading > 0, 'at least one destroy landed while a thread was importing');
});

test('a thread pool destroyed while a thread imports its Arrow decoder (first Arrow batch) holds no descriptor on module files', async () => {
  const modules = join(ROOT, 'node_modules');
  const batch = new Table(tableFromArrays({ n: Float64Array.from({ length: 100 }, (_, i) => i) })).batches[0]!;
  const input = () => ({
    numRows: batch.numRows,
    encode: () => tableToIPC(new Table(batch), 'stream'),
    rows: () => [],
  });
  let caughtLoading = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const pool = new WorkerPool(fixture('row.ts'), { workers: 1, isolation: 'thread', retries: 0 });
    // the thread is ready (rows need no Arrow); the Arrow batch then makes it import apache-arrow
    await pool.run(0, [{ n: 1 }]);
    const running = pool.run(1, input());
    let done = false;
    const ran = running.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done && fdsUnder(modules).length === 0) await new Promise((resolve) => setImmediate(resolve));
    if (!done) caughtLoading++;
    await pool.destroy();
    await ran;
    assert.deepEqual(fdsUnder(modules), [], `attempt ${attempt}`);
  }
  assert.ok(caughtLoading > 0, 'at least one destroy landed while the thread imported its decoder');
});
