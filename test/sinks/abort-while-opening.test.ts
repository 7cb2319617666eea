/**
 * A text sink destroyed while its first write is still opening the file (issue 19; found by
 * test/e2e/abort-random.test.ts, seed 19 case 21, once pipeline() destroyed every stream on an
 * abort): the abort must wait for the open and remove the temporary file it created.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Batch } from '../../lib/core/batch.ts';
import type { BatchSink } from '../../lib/core/sink.ts';
import { toCsv } from '../../sinks/toCsv.ts';
import { toJsonl } from '../../sinks/toJsonl.ts';
import { tempDir } from '../helpers.ts';

async function destroyWhileOpening(make: (path: string) => BatchSink<unknown>): Promise<string[]> {
  const dir = tempDir();
  const sink = make(join(dir, 'out'));
  sink.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
  const rows = [{ a: 1 }, { a: 2 }];
  const written = new Promise<void>((resolve) =>
    sink.write(new Batch(rows, { source: 't', index: 0, rowStart: 0 }), () => resolve()),
  );
  // the first write has begun opening the temporary file: the abort lands now
  sink.destroy(new Error('aborted while opening'));
  await Promise.all([closed, written]);
  return readdirSync(dir);
}

test('toCsv destroyed while its file opens leaves no temporary file', async () => {
  assert.deepEqual(await destroyWhileOpening((path) => toCsv(`${path}.csv`)), []);
});

test('toJsonl destroyed while its file opens leaves no temporary file', async () => {
  assert.deepEqual(await destroyWhileOpening((path) => toJsonl(`${path}.jsonl`)), []);
});
