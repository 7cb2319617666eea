/**
 * A consistently edited spill manifest (issue 19, item 7): the last file dropped and the totals
 * fixed, so the manifest alone is valid, must not replay fewer rows silently. Detected: the
 * dropped file still in the directory, and a manifest that no longer matches its seal. Not
 * detectable (documented): an editor who also deletes the file and rewrites the seal.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { toSpill } from '../../../../sinks/toSpill.ts';
import { openSpill } from '../../../../lib/formats/spill/spilled.ts';
import type { SpillManifest } from '../../../../lib/formats/spill/manifest.ts';
import { tempDir } from '../../../helpers.ts';

async function spillDir(): Promise<string> {
  const dir = join(tempDir(), 'spill');
  const rows = Array.from({ length: 10_000 }, (_, n) => ({ n }));
  const { output } = await pipeline(
    fromIterable(rows, { batchSize: 500 }),
    toSpill({ dir, keep: true, budget: 0, fileSize: 20_000, compression: 'none' }),
    { governor: false },
  );
  await output.dispose();
  return dir;
}

/** Drops the last file from the manifest and fixes every total, as a careful editor would. */
function dropLastFile(dir: string): string {
  const path = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as SpillManifest;
  assert.ok(manifest.files.length >= 2);
  const last = manifest.files.pop()!;
  manifest.numRows -= last.rows;
  manifest.numBatches -= last.batches;
  manifest.bytesOnDisk -= last.bytes;
  writeFileSync(path, `${JSON.stringify(manifest, null, 1)}\n`);
  return last.name;
}

test('an untouched spill opens and replays every row', async () => {
  const dir = await spillDir();
  const spilled = await openSpill(dir);
  assert.equal(spilled.numRows, 10_000);
  await spilled.dispose();
});

test('the last file dropped from the manifest, totals fixed, file left in place: SpillCorruptError', async () => {
  const dir = await spillDir();
  dropLastFile(dir);
  await assert.rejects(openSpill(dir), { code: 'ERR_SPILLWAY_SPILL_CORRUPT' });
});

test('the last file dropped from the manifest and deleted: the seal no longer matches', async () => {
  const dir = await spillDir();
  rmSync(join(dir, dropLastFile(dir)));
  await assert.rejects(openSpill(dir), { code: 'ERR_SPILLWAY_SPILL_CORRUPT' });
});
