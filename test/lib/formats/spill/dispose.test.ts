/**
 * Handles that release what they hold (issue 19, items 3 and 7): a replay of an opened spill
 * closes its files when it ends (no descriptor until dispose(), none for the garbage collector to
 * close), and `await using` disposes spills and worker pools.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { toSpill } from '../../../../sinks/toSpill.ts';
import { openSpill } from '../../../../lib/formats/spill/spilled.ts';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { openFds, runnableUrl, settledFds, tempDir } from '../../../helpers.ts';

const rows = Array.from({ length: 20_000 }, (_, n) => ({ n, text: `row ${n}` }));

async function keptSpill(): Promise<string> {
  const dir = join(tempDir(), 'spill');
  const { output } = await pipeline(
    fromIterable(rows, { batchSize: 500 }),
    toSpill({ dir, keep: true, fileSize: 20_000, budget: 0, compression: 'none' }),
    { governor: false },
  );
  await output.dispose();
  return dir;
}

test('a replay of an opened spill closes its files when it ends, before dispose()', async () => {
  const dir = await keptSpill();
  const before = openFds();
  const spilled = await openSpill(dir);
  assert.ok(spilled.manifest.files.length > 1, 'several files');
  let n = 0;
  for await (const row of spilled.rows()) assert.equal((row as { n: number }).n, n++);
  assert.equal(n, rows.length);
  assert.ok((await settledFds(before)) <= before, 'no descriptor stays open after the replay');
  // a replay stopped early releases too
  for await (const batch of spilled.batches()) if (batch.numRows > 0) break;
  assert.ok((await settledFds(before)) <= before);
  // and reading again after a release works
  assert.deepEqual(await spilled.get(12_345), { n: 12_345, text: 'row 12345' });
  await spilled.dispose();
  assert.ok((await settledFds(before)) <= before);
});

test('await using disposes a spill and a worker pool', async () => {
  const dir = await keptSpill();
  const before = openFds();
  {
    await using spilled = await openSpill(dir);
    assert.equal((await spilled.get(0)) !== undefined, true);
  }
  assert.ok((await settledFds(before)) <= before);
  assert.ok(existsSync(dir), 'an opened spill is kept');
  let pool: WorkerPool | undefined;
  {
    await using p = new WorkerPool(runnableUrl('test/fixtures/pool/row.ts'), { workers: 1 });
    pool = p;
    assert.deepEqual(await p.run(0, [{ n: 3 }]), [{ n: 3, sq: 9 }]);
  }
  await assert.rejects(pool.run(1, [{ n: 1 }]), { code: 'ERR_SPILLWAY_WORKER' });
});
