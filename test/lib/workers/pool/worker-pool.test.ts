import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { WorkerError } from '../../../../lib/core/errors.ts';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { Table, tableToIPC } from 'apache-arrow';
import { rowsToRecordBatch } from '../../../../lib/formats/arrow/convert.ts';
import { alive, fixture, tempDir } from './helpers.ts';

const rows = (from: number, count: number): { n: number }[] =>
  Array.from({ length: count }, (_, i) => ({ n: from + i }));

for (const isolation of ['thread', 'process'] as const) {
  describe(`WorkerPool (${isolation})`, () => {
    test('runs a TypeScript row function that imports TypeScript', async () => {
      const pool = new WorkerPool(fixture('row.ts'), { workers: 2, isolation });
      try {
        const results = await Promise.all([0, 1, 2, 3].map((i) => pool.run(i, rows(i * 10, 3))));
        assert.deepEqual(results[2], [
          { n: 20, sq: 400 },
          { n: 21, sq: 441 },
          { n: 22, sq: 484 },
        ]);
        const { workers, totals } = pool.stats();
        assert.equal(totals.batches, 4);
        assert.equal(totals.rows, 12);
        assert.equal(workers.length, 2);
        if (isolation === 'process') {
          assert.equal(pool.pids().length, 2);
          for (const pid of pool.pids()) assert.ok(alive(pid));
          assert.ok(workers.every((w) => typeof w.pid === 'number'));
        } else {
          assert.deepEqual(pool.pids(), []);
          assert.ok(workers.every((w) => typeof w.threadId === 'number'));
        }
      } finally {
        await pool.close();
      }
    });

    test('async row functions, batch functions, named exports and dropped rows', async () => {
      const asyncPool = new WorkerPool(fixture('async-row.ts'), { workers: 1, isolation });
      const batchPool = new WorkerPool(fixture('batch.ts'), { workers: 1, isolation, kind: 'batch' });
      const evens = new WorkerPool(fixture('row.ts'), { workers: 1, isolation, export: 'evensOnly' });
      try {
        assert.deepEqual(await asyncPool.run(0, rows(1, 2)), [
          { n: 1, twice: 2 },
          { n: 2, twice: 4 },
        ]);
        assert.deepEqual(await batchPool.run(7, rows(1, 4)), [{ batch: 7, sum: 10, count: 4 }]);
        assert.deepEqual(await evens.run(0, rows(1, 5)), [{ n: 2 }, { n: 4 }]);
      } finally {
        await Promise.all([asyncPool.close(), batchPool.close(), evens.close()]);
      }
    });

    test('a module that cannot load fails start() with a WorkerError and leaves no worker', async () => {
      for (const [file, exportName] of [
        ['broken.ts', 'default'],
        ['row.ts', 'notAFunction'],
        ['row.ts', 'missing'],
      ] as const) {
        const pool = new WorkerPool(fixture(file), { workers: 2, isolation, export: exportName });
        await assert.rejects(pool.start(), (error: unknown) => {
          assert.ok(error instanceof WorkerError);
          assert.equal(error.code, 'ERR_SPILLWAY_WORKER');
          assert.equal(error.reason, 'start');
          return true;
        });
        assert.deepEqual(pool.pids(), []);
        await assert.rejects(pool.run(0, rows(0, 1)), { code: 'ERR_SPILLWAY_WORKER' });
      }
    });

    test('a throwing batch is retried on fresh workers, then fails naming the batch and cause', async () => {
      const pool = new WorkerPool(fixture('throws.ts'), { workers: 2, isolation, retries: 2 });
      try {
        assert.deepEqual(await pool.run(1, [{ n: 1, throwOn: 5 }]), [10]);
        await assert.rejects(pool.run(41, [{ n: 5, throwOn: 5 }]), (error: unknown) => {
          assert.ok(error instanceof WorkerError);
          assert.equal(error.code, 'ERR_SPILLWAY_WORKER');
          assert.equal(error.context.batch, 41);
          assert.equal(error.reason, 'error');
          assert.equal(error.attempts, 3);
          assert.match(String((error.cause as Error).message), /bad row 5/);
          return true;
        });
        const { totals, workers } = pool.stats();
        assert.equal(totals.failures, 3);
        assert.equal(totals.restarts, 3);
        assert.equal(totals.retries, 2);
        assert.ok(workers.flatMap((w) => w.exits).every((e) => e.reason === 'error'));
        // the pool still works after replacing workers
        assert.deepEqual(await pool.run(2, [{ n: 2 }]), [20]);
      } finally {
        await pool.close();
      }
    });

    test('replaceOnError: false keeps a worker whose function threw, and still retries the batch', async () => {
      const pool = new WorkerPool(fixture('throws.ts'), { workers: 1, isolation, retries: 1, replaceOnError: false });
      try {
        await pool.start();
        const before = pool.stats().workers[0];
        await assert.rejects(pool.run(4, [{ n: 5, throwOn: 5 }]), {
          code: 'ERR_SPILLWAY_WORKER',
          reason: 'error',
          attempts: 2,
        });
        assert.deepEqual(await pool.run(5, [{ n: 6 }]), [60]);
        const after = pool.stats().workers[0];
        assert.equal(after?.failures, 2);
        assert.equal(after?.restarts, 0);
        assert.deepEqual(after?.exits, []);
        assert.equal(after?.threadId, before?.threadId);
        assert.equal(after?.pid, before?.pid);
      } finally {
        await pool.close();
      }
    });

    test('a worker that exits mid-batch is counted as a crash and the batch fails after retries', async () => {
      const pool = new WorkerPool(fixture('crash.ts'), { workers: 1, isolation, retries: 1 });
      try {
        await assert.rejects(pool.run(3, [{}]), (error: unknown) => {
          assert.ok(error instanceof WorkerError);
          assert.equal(error.reason, 'crash');
          assert.equal(error.attempts, 2);
          assert.equal(error.context.batch, 3);
          return true;
        });
        const [w] = pool.stats().workers;
        assert.equal(w?.restarts, 2);
        assert.deepEqual(
          w?.exits.map((e) => e.reason),
          ['crash', 'crash'],
        );
      } finally {
        await pool.close();
      }
    });

    test('onError deadLetter writes the failed batch rows and the run goes on', async () => {
      const { dir, cleanup } = await tempDir();
      const deadLetter = join(dir, 'dead.jsonl');
      const pool = new WorkerPool(fixture('throws.ts'), { workers: 2, isolation, retries: 1, onError: { deadLetter } });
      try {
        const results = await Promise.all([
          pool.run(0, [{ n: 1 }, { n: 2 }]),
          pool.run(1, [
            { n: 3, throwOn: 3 },
            { n: 4, throwOn: 3 },
          ]),
          pool.run(2, [{ n: 5 }]),
        ]);
        assert.deepEqual(results, [[10, 20], [], [50]]);
        await pool.close();
        const lines = (await readFile(deadLetter, 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.equal(lines.length, 2);
        assert.deepEqual(
          lines.map((l) => [l.batch, l.row, l.code, l.attempts]),
          [
            [1, 0, 'error', 2],
            [1, 1, 'error', 2],
          ],
        );
        assert.deepEqual(lines[1]?.data, { n: 4, throwOn: 3 });
        assert.equal(pool.stats().totals.deadLetteredRows, 2);
      } finally {
        await pool.destroy();
        await cleanup();
      }
    });

    test('timeoutMs kills a hung worker and retries its batch', async () => {
      const pool = new WorkerPool(fixture('hang.ts'), { workers: 1, isolation, timeoutMs: 300, retries: 1 });
      try {
        await assert.rejects(pool.run(9, [{}]), (error: unknown) => {
          assert.ok(error instanceof WorkerError);
          assert.equal(error.reason, 'timeout');
          assert.equal(error.attempts, 2);
          return true;
        });
        assert.deepEqual(
          pool.stats().workers[0]?.exits.map((e) => e.reason),
          ['timeout', 'timeout'],
        );
      } finally {
        await pool.close();
      }
    });

    test('an ArrowInput travels as IPC bytes (moved to a thread), is decoded in the worker and retried from a fresh encoding', async () => {
      const pool = new WorkerPool(fixture('row.ts'), { workers: 1, isolation });
      const encoded: Uint8Array[] = [];
      const input = {
        numRows: 3,
        encode: () => {
          const bytes = tableToIPC(new Table(rowsToRecordBatch(rows(5, 3))), 'stream');
          encoded.push(bytes);
          return bytes;
        },
        rows: () => assert.fail('the rows must be made in the worker'),
      };
      try {
        assert.deepEqual(await pool.run(0, input), [
          { n: 5, sq: 25 },
          { n: 6, sq: 36 },
          { n: 7, sq: 49 },
        ]);
        assert.equal(encoded.length, 1);
        // moved, not copied, to a thread; a child process gets a copy through its channel
        if (isolation === 'thread') assert.equal(encoded[0]?.byteLength, 0);
        assert.equal(pool.stats().totals.rows, 3);
      } finally {
        await pool.close();
      }
    });

    test('timeoutMs counts from when a batch starts running, not from when it was queued', async () => {
      // one worker, four batches queued at once, each running 50% of the timeout: the last one
      // starts 1.5 timeouts after it was queued, so a clock started at queueing would kill it
      const timeoutMs = 800;
      const pool = new WorkerPool(fixture('sleep.ts'), { workers: 1, isolation, timeoutMs, retries: 0 });
      try {
        await pool.start();
        const results = await Promise.all([0, 1, 2, 3].map((i) => pool.run(i, [{ n: i, ms: timeoutMs / 2 }])));
        assert.deepEqual(results, [[{ n: 0 }], [{ n: 1 }], [{ n: 2 }], [{ n: 3 }]]);
        const [w] = pool.stats().workers;
        assert.equal(w?.failures, 0);
        assert.deepEqual(w?.exits, []);
        assert.ok((w?.busyMs ?? 0) >= 4 * (timeoutMs / 2) - 50, `busy ${w?.busyMs} ms`);
      } finally {
        await pool.close();
      }
    });

    test('workers are recycled after maxTasksPerWorker batches', async () => {
      const pool = new WorkerPool(fixture('whoami.ts'), { workers: 1, isolation, maxTasksPerWorker: 2 });
      try {
        const where: string[] = [];
        for (let i = 0; i < 5; i++) {
          const [out] = (await pool.run(i, [{ n: i }])) as { pid: number; threadId: number }[];
          where.push(isolation === 'process' ? String(out?.pid) : String(out?.threadId));
        }
        assert.equal(where[0], where[1]);
        assert.notEqual(where[1], where[2]);
        assert.equal(where[2], where[3]);
        assert.notEqual(where[3], where[4]);
        const [w] = pool.stats().workers;
        assert.equal(w?.recycles, 2);
        assert.equal(w?.restarts, 0);
        assert.deepEqual(
          w?.exits.map((e) => e.reason),
          ['recycle', 'recycle'],
        );
      } finally {
        await pool.close();
      }
    });

    test('destroy() ends every worker at once and rejects pending batches', async () => {
      const pool = new WorkerPool(fixture('hang.ts'), { workers: 2, isolation });
      await pool.start();
      const pids = pool.pids();
      const pending = [0, 1, 2].map((i) => pool.run(i, [{}]));
      const settled = Promise.allSettled(pending);
      await pool.destroy();
      for (const r of await settled) {
        assert.equal(r.status, 'rejected');
        assert.equal((r.reason as WorkerError).code, 'ERR_SPILLWAY_WORKER');
      }
      assert.deepEqual(pool.pids(), []);
      for (const pid of pids) assert.equal(alive(pid), false, `child ${pid} survived destroy()`);
      await pool.destroy(); // idempotent
    });

    test('close() drains queued batches, then refuses new ones', async () => {
      const pool = new WorkerPool(fixture('row.ts'), { workers: 2, isolation, export: 'negate' });
      await pool.start();
      const pids = pool.pids();
      const results = Promise.all([0, 1, 2, 3, 4, 5].map((i) => pool.run(i, [{ n: i }])));
      await pool.close();
      assert.deepEqual(await results, [[-0], [-1], [-2], [-3], [-4], [-5]]);
      await assert.rejects(pool.run(6, [{ n: 6 }]), { code: 'ERR_SPILLWAY_WORKER' });
      for (const pid of pids) assert.equal(alive(pid), false);
    });
  });
}
