/**
 * The sweep of a scratch base (lib/io/temp-files.ts) on real directories: it removes the spill,
 * operator and upload directories whose `.owner` names a dead process, and nothing else: not a
 * live process's, not one without an owner (kept, or not ours), not another name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createScratchDir, ownerLine, SCRATCH_OWNER, sweepScratchBase } from '../../../lib/io/temp-files.ts';
import { tempDir } from '../../helpers.ts';

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.equal(child.status, 0);
  return child.pid;
}

function scratch(base: string, name: string, owner: string | undefined): void {
  mkdirSync(join(base, name, 'run-1'), { recursive: true });
  writeFileSync(join(base, name, 'run-1', 'spill-0.arrow'), 'x');
  if (owner !== undefined) writeFileSync(join(base, name, SCRATCH_OWNER), owner);
}

test('a sweep removes the scratch directories of dead owners, whatever their kind, and nothing else', async () => {
  const base = tempDir('spillway-sweep-test-');
  const dead = ownerLine({ pid: deadPid(), start: undefined });
  // this pid, started at another time: the pid of a dead owner reused by a live process
  const reused = ownerLine({ pid: process.pid, start: '1' });
  scratch(base, 'spillway-spill-dead', dead);
  scratch(base, 'spillway-op-dead', dead);
  scratch(base, 'spillway-upload-dead', reused);
  scratch(base, 'spillway-op-live', ownerLine());
  scratch(base, 'spillway-op-kept', undefined);
  scratch(base, 'my-spill', dead);
  await sweepScratchBase(base);
  assert.deepEqual(readdirSync(base).sort(), ['my-spill', 'spillway-op-kept', 'spillway-op-live']);
});

test('createScratchDir sweeps its parent first and names its owner', async () => {
  const base = tempDir('spillway-sweep-test-');
  scratch(base, 'spillway-upload-stale', ownerLine({ pid: deadPid(), start: undefined }));
  const dir = await createScratchDir(base, 'spillway-op-');
  assert.deepEqual(readdirSync(base), [dir.slice(base.length + 1)]);
  assert.match(dir, /spillway-op-\w{6}$/);
  assert.equal(readFileSync(join(dir, SCRATCH_OWNER), 'utf8'), ownerLine());
  assert.equal(statSync(dir).mode & 0o777, 0o700);
});
