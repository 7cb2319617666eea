import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { mapBatchesInPool } from '../../../../lib/workers/pool/reorder.ts';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import flaky from '../../../fixtures/pool/flaky.ts';
import type { FlakyRow } from '../../../fixtures/pool/flaky.ts';
import { fixture, tempDir } from './helpers.ts';

const BATCHES = 24;
const ROWS = 5;

/** Batches of rows; some rows carry a marker so their first attempt crashes, throws or hangs. */
function makeBatches(dir: string | undefined): { id: number; rows: FlakyRow[] }[] {
  const modes = ['crash', 'throw', 'hang'] as const;
  return Array.from({ length: BATCHES }, (_, b) => ({
    id: b,
    rows: Array.from({ length: ROWS }, (_, r) => {
      const n = b * ROWS + r;
      const row: FlakyRow = { n };
      if (dir !== undefined && r === 2 && b % 4 === 1) {
        row.marker = join(dir, `m${n}`);
        row.mode = modes[(b >> 2) % 3];
      }
      return row;
    }),
  }));
}

for (const isolation of ['thread', 'process'] as const) {
  for (const ordered of [true, false]) {
    test(`${isolation}, ordered ${ordered}: output equals a serial run with crashes, throws and hangs injected`, async () => {
      const serial = makeBatches(undefined).flatMap((b) => b.rows.map((r) => flaky(r)));
      const { dir, cleanup } = await tempDir();
      const pool = new WorkerPool(fixture('flaky.ts'), { workers: 2, isolation, timeoutMs: 2_000, retries: 1 });
      try {
        const out: unknown[][] = [];
        for await (const r of mapBatchesInPool(pool, makeBatches(dir), { ordered, window: 4 })) out.push(r.rows);
        const flat = out.flat() as { n: number }[];
        if (ordered) assert.deepEqual(flat, serial);
        else
          assert.deepEqual(
            [...flat].sort((a, b) => a.n - b.n),
            serial,
          );
        const { totals, workers } = pool.stats();
        const injected = makeBatches(dir).filter((b) => b.rows.some((r) => r.marker !== undefined)).length;
        assert.equal(totals.failures, injected);
        assert.equal(totals.retries, injected);
        const reasons = workers.flatMap((w) => w.exits.map((e) => e.reason)).sort();
        assert.deepEqual(new Set(reasons), new Set(['crash', 'error', 'timeout']));
      } finally {
        await pool.destroy();
        await cleanup();
      }
    });
  }
}
