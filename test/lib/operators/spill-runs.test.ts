/**
 * One scratch directory per operator (operator-scratch.ts): a sort's runs (spill-runs.ts) and a
 * hash operator's partition sets live side by side in it, private (0700 directories, 0600 files),
 * counted in its stats, and removed by dispose; a run read to its end holds no descriptor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { rowsToRecordBatch } from '../../../lib/formats/arrow/convert.ts';
import { OperatorScratch } from '../../../lib/operators/operator-scratch.ts';
import { openRun } from '../../../lib/operators/spill-runs.ts';
import { openPartitions } from '../../../lib/operators/hash-partitions.ts';
import { spilledSource } from '../../../lib/operators/run-merge.ts';
import { openFds, settledFds, tempDir } from '../../helpers.ts';

test('runs and partitions share one private scratch directory, removed by dispose', { timeout: 60_000 }, async () => {
  const parent = tempDir();
  const scratch = new OperatorScratch('sort', parent);
  const fds = openFds();
  const writer = await openRun(scratch);
  for (let b = 0; b < 3; b++)
    await writer.write(rowsToRecordBatch(Array.from({ length: 100 }, (_, i) => ({ b, i, s: `row ${i}` }))));
  const run = await writer.finish();
  assert.equal(run.numRows, 300);
  assert.equal(scratch.runsSpilled, 1);
  assert.equal(scratch.bytesSpilled, run.bytes);
  const parts = await openPartitions(scratch, 4, 1 << 20);
  for (let i = 0; i < 50; i++) await parts.add(i % 4, { i }, 16);
  await parts.finish();
  const [root] = readdirSync(parent);
  assert.equal(statSync(join(parent, root!)).mode & 0o777, 0o700);
  // the owner file lets a later run remove the directory if this process is killed
  assert.deepEqual(readdirSync(join(parent, root!)).sort(), ['.owner', 'run-1', 'set-2']);
  for (const file of readdirSync(run.dir)) assert.equal(statSync(join(run.dir, file)).mode & 0o777, 0o600, file);
  // read to the end: the run's file is closed again
  const next = spilledSource(run);
  let rows = 0;
  for (let batch = await next(); batch; batch = await next()) rows += batch.numRows;
  assert.equal(rows, 300);
  // settled: descriptors other code in the process opens and closes on its own may still be closing
  assert.ok((await settledFds(fds)) <= fds, 'no descriptor held after the run is exhausted');
  await scratch.dispose();
  assert.equal(existsSync(join(parent, root!)), false);
  assert.deepEqual(readdirSync(parent), []);
  await assert.rejects(openRun(scratch), { code: 'ERR_SPILLWAY_SPILL' });
});
