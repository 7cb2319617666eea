/**
 * collectGarbage() returns only once the ArrayBuffers it freed have left the process's counts:
 * V8 releases them on a background sweep after a collection returns, so a governor sampling right
 * after its collection saw freed memory as held (a sort's merge at a 16 MB limit was declared
 * critical so in CI). Without the second collection in collectGarbage, most of these rounds fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from '../../../lib/memory/gc-pacer.ts';

test('after collectGarbage, freed ArrayBuffers no longer count in process.memoryUsage().arrayBuffers', async () => {
  for (const deep of [true, false]) {
    assert.ok(collectGarbage(deep), 'a collection can run');
    const base = process.memoryUsage().arrayBuffers;
    for (let round = 0; round < 12; round++) {
      let garbage: Uint8Array[] | undefined = [];
      for (let i = 0; i < 200; i++) garbage.push(new Uint8Array(64 * 1024 + (i % 7)));
      const held = process.memoryUsage().arrayBuffers - base;
      assert.ok(held > 12e6, `round ${round}: ${held} bytes allocated`);
      garbage = undefined;
      collectGarbage(deep);
      const left = process.memoryUsage().arrayBuffers - base;
      assert.ok(left < 3e6, `deep ${deep}, round ${round}: ${(left / 1e6).toFixed(1)} MB of 13 MB freed still counted`);
      // a macrotask between rounds, as between a governor's samples
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
});

test('a deep collection frees ArrayBuffers that lived long enough to reach the old generation', () => {
  // an operator's table is old when it is spilled: on Node 20 (V8 11) `gc({ type: 'major' })` left
  // these held, and a distinct over 5M rows sat paused 2 s after each spill waiting for a paced collection
  for (const deep of [true, false]) {
    const base = process.memoryUsage().arrayBuffers;
    let table: Float64Array[] | undefined = [];
    for (let i = 0; i < 48; i++) table.push(new Float64Array(1 << 17).fill(i));
    // survive two collections: promoted, as a table that filled over many batches is
    collectGarbage(false);
    collectGarbage(false);
    const held = process.memoryUsage().arrayBuffers - base;
    assert.ok(held > 48e6, `${(held / 1e6).toFixed(1)} MB allocated`);
    table = undefined;
    collectGarbage(deep);
    const left = process.memoryUsage().arrayBuffers - base;
    assert.ok(left < 5e6, `deep ${deep}: ${(left / 1e6).toFixed(1)} MB of 50 MB freed still counted`);
  }
});
