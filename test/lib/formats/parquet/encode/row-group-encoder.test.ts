import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, nodeScript } from '../../../../helpers.ts';

test('a writer closed while its encoder thread replies still ends: the process does not exit with close() pending', async () => {
  // A reply crossing terminate() used to unref the thread that close() had ref'd; the process then
  // ended with the abort pending, in most of 50 cycles even on an idle machine.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...nodeScript(join(ROOT, 'test/fixtures/parquet/abort-loop.ts')), '60'],
    { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } },
  );
  assert.equal(stdout.trim(), 'ok');
});
