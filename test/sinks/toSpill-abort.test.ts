/**
 * An abort that arrives while toSpill is finishing (issue 19, item 3): the sink is destroyed
 * right after its finish began (spilling what is held, writing the manifest); its directory's
 * contents must be gone when it closes, not at process exit.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { Batch } from '../../lib/core/batch.ts';
import { toSpill } from '../../sinks/toSpill.ts';
import { tempDir } from '../helpers.ts';

test('destroyed while finishing: the spill directory is emptied at once', async () => {
  const dir = join(tempDir(), 'spill');
  const sink = toSpill({ budget: '1MB', fileSize: 10_000, dir });
  sink.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
  const final = sink._final.bind(sink);
  sink._final = (callback) => {
    final(callback);
    // the abort lands while finish() is under way
    sink.destroy(new Error('aborted while finishing'));
  };
  for (let i = 0; i < 20; i++) {
    const rows = Array.from({ length: 200 }, (_, n) => ({ n: i * 200 + n, s: `row ${n}` }));
    if (!sink.write(new Batch(rows, { source: 'test', index: i, rowStart: i * 200 }))) await once(sink, 'drain');
  }
  sink.end();
  await closed;
  // let a finish still under way run to its end: it must not bring files back
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
});

test('finished, then the run failed: discardOutput() (what pipeline() calls) removes the spill directory', async () => {
  const dir = join(tempDir(), 'spill');
  const sink = toSpill({ budget: 0, fileSize: 10_000, dir });
  for (let i = 0; i < 20; i++) {
    const rows = Array.from({ length: 200 }, (_, n) => ({ n: i * 200 + n, s: `row ${n}` }));
    if (!sink.write(new Batch(rows, { source: 'test', index: i, rowStart: i * 200 }))) await once(sink, 'drain');
  }
  sink.end();
  await once(sink, 'finish');
  assert.ok(readdirSync(dir).length > 0, 'the finished spill is on disk');
  await sink.discardOutput();
  assert.equal(existsSync(dir), false);
  await sink.discardOutput();
});
