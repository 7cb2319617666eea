/**
 * A pool child blocked in user code does not outlive a SIGKILLed parent (issue 19): it only exits
 * on its channel's close once its event loop turns, so the orphan reaper
 * (lib/workers/pool/orphan-reaper.ts) kills it. Without the reaper the child ran on (40 s and more).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { alive, childPids, nodeScript, pollUntil, tempDir } from '../../../helpers.ts';

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

test('a SIGKILLed parent leaves no pool child behind, even one blocked in user code', {
  skip: process.platform !== 'linux' ? 'reads /proc' : false,
  timeout: 60_000,
}, async () => {
  const marker = join(tempDir('spillway-orphan-'), 'marker');
  const parent = spawn(process.execPath, nodeScript('test/fixtures/pool/orphan-parent.ts'), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SPILLWAY_TEST_MARKER: marker, SPILLWAY_TEST_HANG: '1' },
  });
  let left: number[] = [];
  try {
    // the child has recorded its row: it is now blocked, deaf to its channel
    await pollUntil(async () => existsSync(marker) && readFileSync(marker, 'utf8').includes('orphan 0'), Boolean);
    left = childPids(parent.pid!);
    const child = left.find((pid) => cmdline(pid).includes('worker-entry'));
    assert.ok(child !== undefined, `a pool child among ${left.map(cmdline).join('; ')}`);
    assert.ok(
      left.some((pid) => cmdline(pid).startsWith('/bin/sh')),
      'the reaper runs beside the child',
    );
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    await pollUntil(
      async () => left.filter(alive),
      (pids) => pids.length === 0,
      15_000,
    ).catch(() => undefined);
    assert.deepEqual(
      left.filter(alive).map(cmdline),
      [],
      'every child of the killed parent (pool child, reaper) is gone',
    );
  } finally {
    parent.kill('SIGKILL');
    for (const pid of left.filter(alive)) process.kill(pid, 'SIGKILL');
  }
});
