/**
 * `spillway worker --module /missing.mjs` fails at start with a coded error (issue 19, item 7),
 * before it connects anywhere, instead of serving the queue with a module it cannot load. No
 * Redis is needed: the check comes first (the address given is closed).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../../../helpers.ts';

test('spillway worker with a missing module exits at once with ERR_SPILLWAY_WORKER', async () => {
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [
        '--conditions=spillway-source',
        '--import',
        'tsx',
        'lib/cli/main.ts',
        'worker',
        '--redis',
        'redis://127.0.0.1:1',
        '--queue',
        'q',
        '--module',
        '/missing-spillway-module.mjs',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr }),
    );
  });
  assert.notEqual(code, 0);
  assert.match(stderr, /missing-spillway-module\.mjs/);
  assert.match(stderr, /\[ERR_SPILLWAY_WORKER\]/);
});
