/**
 * Workers that die while they start (helper-73, 2026-12-07): a replacement child killed before
 * it is ready, after the module loaded in an earlier one, is replaced (it failed the whole run
 * with reason `start`, retries left). (A replacement that passes `workerMemoryLimit` while it
 * loads is replaced too, up to 3 times in a row, then fails with reason `memory` naming the limit.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { collect, fromIterable, parallel, pipeline } from '../../../../index.ts';
import { runnableUrl, tempDir } from '../../../helpers.ts';

const rows = Array.from({ length: 40 }, (_, n) => ({ n }));

test('a recycled child killed while it loads the module is replaced; every row comes back once', async () => {
  const mark = join(tempDir(), 'mark');
  process.env.SPILLWAY_DIES_ONCE = mark;
  try {
    const { output } = await pipeline(
      fromIterable(rows, { batchSize: 4 }),
      parallel(runnableUrl('test/fixtures/pool/dies-once.ts'), {
        workers: 1,
        isolation: 'process',
        maxTasksPerWorker: 1,
      }),
      collect<{ n: number; pid: number }>(),
      { governor: false },
    );
    assert.deepEqual(
      output.map((r) => r.n),
      rows.map((r) => r.n),
    );
    assert.equal(existsSync(mark), false, 'the second load ran (and died)');
    assert.ok(existsSync(`${mark}.done`));
  } finally {
    delete process.env.SPILLWAY_DIES_ONCE;
  }
});
