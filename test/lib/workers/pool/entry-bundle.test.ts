/**
 * Workers of a JavaScript module load no TypeScript loader (issue 17, item 3): from source the
 * pool's entry is bundled to JavaScript once per process, so tsx (about a second per thread on
 * Node 20) is loaded only for a TypeScript module.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { bundledEntry } from '../../../../lib/workers/pool/entry-bundle.ts';
import { entryUrl } from '../../../../lib/workers/pool/pool-worker.ts';
import { fixture } from './helpers.ts';
import { ROOT } from '../../../helpers.ts';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

test('the entry bundles to a data: URL from source (nothing to bundle once built)', async () => {
  const bundle = await bundledEntry(entryUrl());
  if (entryUrl().pathname.endsWith('.ts')) assert.match(bundle ?? '', /^data:text\/javascript;base64,/);
  else assert.equal(bundle, undefined);
});

test('a JavaScript module runs in threads without tsx; a TypeScript module gets it', async () => {
  const js = new WorkerPool(fixture('loader-probe.mjs'), { workers: 1 });
  try {
    assert.deepEqual(await js.run(0, [{ a: 1 }]), [{ a: 1, canImportTs: false }]);
  } finally {
    await js.close();
  }
  const ts = new WorkerPool(pathToFileURL(join(ROOT, 'test/fixtures/pool/row.ts')), { workers: 1 });
  try {
    // row.ts itself is TypeScript: that it runs at all shows the loader is there
    assert.equal((await ts.run(0, [{ n: 2 }])).length, 1);
  } finally {
    await ts.close();
  }
});
