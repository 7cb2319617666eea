import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE, ownModule } from '../../../lib/core/own-module.ts';

test('ownModule finds each entry spillway starts by path, with the extension of the code running', () => {
  for (const path of [
    'lib/formats/parquet/encode/encoder-thread',
    'lib/formats/csv/parallel/worker',
    'lib/workers/pool/worker-entry',
    'lib/workers/distributed/probe-entry',
    'lib/cli/main',
  ]) {
    const file = fileURLToPath(ownModule(path));
    assert.ok(existsSync(file), file);
    assert.ok(file.endsWith(`${path}${FROM_SOURCE ? '.ts' : '.js'}`), file);
  }
});

test('ownModule names the missing file and what to do', () => {
  assert.throws(
    () => ownModule('lib/no/such-entry'),
    /own module lib\/no\/such-entry\.(ts|js) is missing above .*: reinstall spillway/,
  );
});
