/**
 * Aborting a governed pipeline whose `parallel` stage runs child processes leaves no descriptor
 * open on /proc/<child>/... and no child alive (issue 19, item 7): the governor's probe read its
 * children through pidusage, which keeps each /proc/<pid>/stat open for reuse, and two were still
 * open seconds after the rejection. The pool-level version is test/lib/workers/pool/child-fds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parallel } from '../../transforms/parallel.ts';
import { pipeline } from '../../lib/core/pipeline.ts';
import { MemoryGovernor } from '../../lib/memory/governor.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { collect } from '../../sinks/collect.ts';
import { pollUntil, procFds, runnableUrl } from '../helpers.ts';
import { alive } from '../lib/workers/pool/helpers.ts';

const MODULE = runnableUrl('test/fixtures/parallel/worker.ts');

test('an aborted governed pipeline with process workers holds no /proc/<child> descriptor and no child', async () => {
  const before = procFds();
  const governor = new MemoryGovernor({ limit: 64e9, intervalMs: 10, gc: false, leak: false });
  const controller = new AbortController();
  // 50 ms a row: far more work than the test waits for, so the children are busy when aborted
  const rows = Array.from({ length: 400 }, (_, n) => ({ n, ms: 50 }));
  const run = pipeline(
    fromIterable(rows, { batchSize: 10 }),
    parallel(MODULE, { workers: 2, isolation: 'process' }),
    collect(),
    { signal: controller.signal, governor },
  );
  run.catch(() => undefined);
  try {
    const children = await pollUntil(
      async () => [...governor.children],
      (pids) => pids.length === 2,
    );
    assert.equal(children.length, 2, 'both children were tracked');
    // a sample taken after both were tracked has read both (a new pid set is read at once)
    const trackedAt = Date.now();
    const sample = await pollUntil(
      async () => governor.lastSample,
      (s) => s !== undefined && s.time > trackedAt && s.childrenRss > 0,
    );
    assert.ok((sample?.childrenRss ?? 0) > 0, 'the governor measured the children');
    controller.abort(new Error('user cancelled'));
    await assert.rejects(run, { code: 'ERR_SPILLWAY_ABORTED' });
    // right after the rejection: nothing may wait for a cache to expire
    assert.deepEqual(procFds(), before);
    for (const pid of children) assert.equal(alive(pid), false, `child ${pid} outlived the aborted pipeline`);
  } finally {
    governor.close();
  }
});
