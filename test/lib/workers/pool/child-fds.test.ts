/**
 * Aborting a process pool that samples its children's memory leaves no descriptor open on
 * /proc/<child>/stat (issue 19, item 7): pidusage keeps those files open for a minute after the
 * last sample, long after the child is gone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { fixture } from './helpers.ts';
import { procFds } from '../../../helpers.ts';

test('a destroyed process pool that sampled its children holds no /proc/<child> descriptor', async () => {
  const before = procFds();
  const pool = new WorkerPool(fixture('sleep.ts'), {
    workers: 2,
    isolation: 'process',
    workerMemoryLimit: '1GB',
    memoryCheckIntervalMs: 10,
    retries: 0,
  });
  const running = [pool.run(0, [{ n: 0, ms: 30_000 }]), pool.run(1, [{ n: 1, ms: 30_000 }])];
  for (const r of running) r.catch(() => undefined);
  // until both children were sampled (their RSS is in the stats)
  while (pool.stats().workers.some((w) => w.rss === undefined)) await new Promise((resolve) => setTimeout(resolve, 10));
  await pool.destroy();
  await Promise.allSettled(running);
  assert.deepEqual(procFds(), before);
});
