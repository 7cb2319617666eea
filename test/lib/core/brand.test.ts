/**
 * Two copies of spillway in one process (a global CLI running a script that imports a local
 * install) must work together: governors, batches and stages are recognised by brand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD, ROOT, tempDir } from '../../helpers.ts';
import * as main from '../../../index.ts';
import * as extend from '../../../lib/entry/extend.ts';

// stages and governors from the main entry, batches from spillway/extend
const here = { ...main, ...extend };
type Spillway = typeof here;

async function secondCopy(): Promise<Spillway> {
  const dir = tempDir('spillway-copy-');
  // a copy of what this process runs: the sources, or the build `npm test` made
  const from = BUILD ?? ROOT;
  const ext = BUILD === undefined ? '.ts' : '.js';
  for (const part of [`index${ext}`, 'package.json', 'lib', 'sources', 'transforms', 'sinks'])
    cpSync(join(from, part), join(dir, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const [copyMain, copyExtend] = await Promise.all([
    import(pathToFileURL(join(dir, `index${ext}`)).href),
    import(pathToFileURL(join(dir, `lib/entry/extend${ext}`)).href),
  ]);
  return { ...copyMain, ...copyExtend } as Spillway;
}

test('a governor, stages and batches from another copy of spillway work in this copy', async () => {
  const other = await secondCopy();
  assert.notEqual(other.MemoryGovernor, here.MemoryGovernor, 'the copy is a separate module instance');
  const governor = new other.MemoryGovernor({ limit: '8GB' });
  assert.ok(governor instanceof here.MemoryGovernor);
  const rows = Array.from({ length: 1000 }, (_, i) => ({ i }));
  // this copy's pipeline, the other copy's governor, source, transform and sink
  const { output, stats } = await here.pipeline(
    other.fromIterable(rows, { batchSize: 100 }),
    other.map((r: { i: number }) => ({ i: r.i * 2 })),
    other.collect(),
    { governor },
  );
  assert.equal((output as unknown[]).length, 1000);
  assert.deepEqual((output as { i: number }[])[999], { i: 1998 });
  assert.equal(stats.rowsOut, 1000);
  assert.ok(new other.Batch([{ a: 1 }], { source: 'x', index: 0, rowStart: 0 }) instanceof here.Batch);
  assert.ok(here.isBatch(new other.Batch([{ a: 1 }], { source: 'x', index: 0, rowStart: 0 })));
});

test('subclasses keep the ordinary instanceof check', () => {
  class Mine extends here.MemoryGovernor {}
  assert.ok(new Mine({ limit: '8GB' }) instanceof here.MemoryGovernor);
  assert.ok(!(new here.MemoryGovernor({ limit: '8GB' }) instanceof Mine));
});
