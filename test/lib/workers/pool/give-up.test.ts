/**
 * Regression (issue 19, item 1): a pool that gives batches up to its dead-letter file must keep
 * serving the queue. With one worker kept after a throw (`replaceOnError: false`, `retries: 0`)
 * the batch queued behind the last failure was never dispatched: the pipeline promise never
 * settled and the process ended with exit code 13, 90 of 100 rows dead-lettered.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { parallel } from '../../../../transforms/parallel.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { collect } from '../../../../sinks/collect.ts';
import { fixture } from './helpers.ts';
import { tempDir } from '../../../helpers.ts';

const failing = (count: number): { n: number; throwOn: number }[] =>
  Array.from({ length: count }, (_, n) => ({ n, throwOn: n }));

for (const isolation of ['thread', 'process'] as const) {
  describe(`giving batches up to the dead-letter file (${isolation})`, () => {
    test('every batch of a module that always throws is dead-lettered and the pipeline settles', async () => {
      const deadLetter = join(tempDir(), 'dead.jsonl');
      const { output, stats } = await pipeline(
        fromIterable(failing(100), { batchSize: 10 }),
        parallel(fixture('throws.ts'), {
          workers: 1,
          isolation,
          retries: 0,
          replaceOnError: false,
          onError: { deadLetter },
        }),
        collect(),
        { governor: false },
      );
      assert.equal(output.length, 0);
      const lines = readFileSync(deadLetter, 'utf8').trim().split('\n');
      assert.equal(lines.length, 100);
      assert.deepEqual(new Set(lines.map((l) => (JSON.parse(l) as { data: { n: number } }).data.n)).size, 100);
      assert.equal(stats.errors.deadLettered, 100);
    });

    test('run() calls queued before the failures all settle, and close() waits for the dead letters', async () => {
      const deadLetter = join(tempDir(), 'dead.jsonl');
      const pool = new WorkerPool(fixture('throws.ts'), {
        workers: 1,
        isolation,
        retries: 0,
        replaceOnError: false,
        onError: { deadLetter },
      });
      // every batch queued at once: nothing but the pool itself can dispatch the later ones
      const runs = Array.from({ length: 10 }, (_, i) => pool.run(i, failing(100).slice(i * 10, i * 10 + 10)));
      const results = await Promise.all(runs);
      assert.deepEqual(
        results,
        Array.from({ length: 10 }, () => []),
      );
      await pool.close();
      assert.equal(readFileSync(deadLetter, 'utf8').trim().split('\n').length, 100);
      assert.equal(pool.stats().totals.deadLetteredRows, 100);
    });
  });
}
