/**
 * `spillway worker --module FILE` fails at start with a coded error (issue 19, item 7), before it
 * connects anywhere, instead of serving the queue with a module it cannot use: a missing file, a
 * module that throws on import, one whose import never finishes, one that exports no function. No
 * Redis is needed: the check comes first (the address given is closed, so a worker that got past it
 * would fail with a QueueError).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { ROOT, nodeScript, pollUntil, tempDir } from '../../../helpers.ts';

/** `spillway worker` against a closed Redis port with `module`. */
const workerArgs = (module: string, ...more: string[]): string[] => [
  ...nodeScript('lib/cli/main.ts'),
  'worker',
  '--redis',
  'redis://127.0.0.1:1',
  '--queue',
  'q',
  '--module',
  module,
  ...more,
];

/** Runs `spillway worker` against a closed Redis port with `module`; resolves with its exit code and stderr. */
function startWorker(module: string): Promise<{ code: number; stderr: string }> {
  return new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      workerArgs(module),
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr }),
    );
  });
}

test('spillway worker with a missing module exits at once with ERR_SPILLWAY_WORKER', async () => {
  const { code, stderr } = await startWorker('/missing-spillway-module.mjs');
  assert.notEqual(code, 0);
  assert.match(stderr, /missing-spillway-module\.mjs/);
  assert.match(stderr, /\[ERR_SPILLWAY_WORKER\]/);
});

test('a module that throws on import, or exports no function: refused at start, naming it and why', async (t) => {
  const dir = tempDir('spillway-worker-module-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const throws = join(dir, 'throws.mjs');
  writeFileSync(throws, 'throw new Error("no DATABASE_URL");\nexport default (row) => row;\n');
  const none = join(dir, 'none.mjs');
  writeFileSync(none, 'export const rate = 3;\nexport default { rate };\n');
  const [a, b] = await Promise.all([startWorker(throws), startWorker(none)]);
  assert.equal(a.code, 1, a.stderr);
  assert.match(
    a.stderr,
    /^spillway worker: Cannot load module .*throws\.mjs: importing it failed: Error: no DATABASE_URL .*\[ERR_SPILLWAY_WORKER\]\n$/,
  );
  assert.equal(b.code, 1, b.stderr);
  assert.match(
    b.stderr,
    /^spillway worker: Cannot load module .*none\.mjs: it exports no function .*\[ERR_SPILLWAY_WORKER\]\n$/,
  );
  // neither got as far as Redis (a closed port: that would be ERR_SPILLWAY_QUEUE), so neither took a job
  for (const run of [a, b]) assert.doesNotMatch(run.stderr, /ERR_SPILLWAY_QUEUE|taking batches/);
});

/** Processes in process group `group` (a detached child's group: its own children are in it too). */
function groupMembers(group: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // after "(command)": state, ppid, pgrp
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp === group) pids.push(Number(entry));
    } catch {
      // the process ended between the listing and the read
    }
  }
  return pids;
}

test('a module whose import never finishes: refused after --module-timeout, the thread ended, no process left', async (t) => {
  const dir = tempDir('spillway-worker-module-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hangs = join(dir, 'hangs.mjs');
  // a timer keeps the thread's loop alive: without one the thread would end on its own (exit code 13)
  writeFileSync(hangs, 'await new Promise(() => setInterval(() => {}, 1000));\nexport default (row) => row;\n');
  const child = spawn(process.execPath, workerArgs(hangs, '--module-timeout', '1000'), {
    cwd: ROOT,
    // its own process group: whatever it starts (tsx's esbuild service) can be found after it exits
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 1, stderr);
  assert.match(
    stderr,
    /^spillway worker: Cannot load module .*hangs\.mjs: importing it did not finish within 1 s .*\[ERR_SPILLWAY_WORKER\]\n$/,
  );
  assert.doesNotMatch(stderr, /ERR_SPILLWAY_QUEUE|taking batches/);
  const left = await pollUntil(
    async () => groupMembers(child.pid!),
    (pids) => pids.length === 0,
    10_000,
  );
  assert.deepEqual(left, [], 'processes of the worker left running');
});
