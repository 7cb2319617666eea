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
import { fromIterable, pipeline, toCsv } from '../../../index.ts';

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

test('a fresh write of a file removes the temporary files kept for its resume by dead processes, and only those', async () => {
  const dir = tempDir('spillway-superseded-');
  const dead = deadPid();
  // killed after marking its file kept, before the checkpoint naming it committed: no checkpoint
  // refers to it, and sweeps keep every kept file
  const orphan = join(dir, `.out.csv.${dead}-x-0badc0de.tmp`);
  writeFileSync(orphan, 'id\n1\n');
  writeFileSync(`${orphan}.keep`, ownerLine({ pid: dead, start: undefined }));
  // another file's kept temporary file, and a live process's (this one's) of the same file
  const other = join(dir, `.other.csv.${dead}-x-0badc0de.tmp`);
  writeFileSync(other, 'x');
  writeFileSync(`${other}.keep`, ownerLine({ pid: dead, start: undefined }));
  const live = join(dir, `.out.csv.${process.pid}-x-0badc0de.tmp`);
  writeFileSync(live, 'x');
  writeFileSync(`${live}.keep`, ownerLine());
  await pipeline(fromIterable([{ id: 1 }]), toCsv(join(dir, 'out.csv')));
  assert.deepEqual(readdirSync(dir).sort(), [
    `.other.csv.${dead}-x-0badc0de.tmp`,
    `.other.csv.${dead}-x-0badc0de.tmp.keep`,
    `.out.csv.${process.pid}-x-0badc0de.tmp`,
    `.out.csv.${process.pid}-x-0badc0de.tmp.keep`,
    'out.csv',
  ]);
});
