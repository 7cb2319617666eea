import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mapBatchesInPool } from '../../../../lib/workers/pool/reorder.ts';
import type { BatchRunner } from '../../../../lib/workers/pool/backend.ts';

/** A runner whose batches finish only when the test says so. */
function manualRunner(): BatchRunner & {
  running: Map<number, { resolve: (rows: unknown[]) => void; reject: (e: unknown) => void }>;
  maxRunning: number;
  auto: boolean;
  started: Promise<void>[];
  waitFor: (n: number) => Promise<void>;
} {
  const running = new Map<number, { resolve: (rows: unknown[]) => void; reject: (e: unknown) => void }>();
  let waiters: { n: number; resolve: () => void }[] = [];
  let total = 0;
  const runner = {
    running,
    maxRunning: 0,
    auto: false,
    started: [] as Promise<void>[],
    waitFor(n: number): Promise<void> {
      if (total >= n) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
    run(taskId: number, rows: unknown[]): Promise<unknown[]> {
      total++;
      if (runner.auto) return Promise.resolve(['x']);
      const p = new Promise<unknown[]>((resolve, reject) =>
        running.set(taskId, {
          resolve: (r) => {
            running.delete(taskId);
            resolve(r);
          },
          reject,
        }),
      );
      runner.maxRunning = Math.max(runner.maxRunning, running.size);
      const ready = waiters.filter((w) => total >= w.n);
      waiters = waiters.filter((w) => total < w.n);
      for (const w of ready) w.resolve();
      void rows;
      return p;
    },
  };
  return runner;
}

async function* batches(count: number, onPull?: (i: number) => void): AsyncGenerator<{ id: number; rows: unknown[] }> {
  for (let i = 0; i < count; i++) {
    onPull?.(i);
    yield { id: i, rows: [i] };
  }
}

describe('mapBatchesInPool', () => {
  test('ordered: a slow first batch holds the window and stops the source (backpressure)', async () => {
    const runner = manualRunner();
    let pulled = 0;
    const out = mapBatchesInPool(
      runner,
      batches(10, () => pulled++),
      { ordered: true, window: 3 },
    );
    const first = out.next();
    await runner.waitFor(3);
    // finish 1 and 2 but not 0: nothing may be emitted and nothing more pulled
    runner.running.get(1)?.resolve(['r1']);
    runner.running.get(2)?.resolve(['r2']);
    await new Promise((r) => setImmediate(r));
    assert.equal(pulled, 3);
    assert.equal(runner.running.size, 1);
    runner.running.get(0)?.resolve(['r0']);
    const emitted = [(await first).value?.rows];
    runner.auto = true;
    for (let r = await out.next(); !r.done; r = await out.next()) emitted.push(r.value.rows);
    assert.deepEqual(emitted, [['r0'], ['r1'], ['r2'], ...Array.from({ length: 7 }, () => ['x'])]);
    assert.ok(runner.maxRunning <= 3);
  });

  test('ordered output equals input order whatever the completion order', async () => {
    const runner: BatchRunner = {
      run: (id, rows) =>
        new Promise((resolve) => setTimeout(() => resolve(rows.map((r) => (r as number) * 2)), (id * 7) % 5)),
    };
    const ids: number[] = [];
    for await (const r of mapBatchesInPool(runner, batches(30), { window: 6 })) ids.push(r.id);
    assert.deepEqual(
      ids,
      Array.from({ length: 30 }, (_, i) => i),
    );
  });

  test('unordered emits as batches complete', async () => {
    const runner = manualRunner();
    const out = mapBatchesInPool(runner, batches(3), { ordered: false, window: 3 });
    const first = out.next();
    await runner.waitFor(3);
    runner.running.get(2)?.resolve(['two']);
    assert.equal((await first).value?.id, 2);
    runner.running.get(0)?.resolve(['zero']);
    runner.running.get(1)?.resolve(['one']);
    const rest = [(await out.next()).value?.id, (await out.next()).value?.id];
    assert.deepEqual(rest, [0, 1]);
    assert.equal((await out.next()).done, true);
  });

  test('the first failure ends the iteration and closes the source', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<{ id: number; rows: unknown[] }> {
      try {
        for (let i = 0; ; i++) yield { id: i, rows: [i] };
      } finally {
        closed = true;
      }
    }
    const runner: BatchRunner = {
      run: async (id, rows) => {
        if (id === 3) throw Object.assign(new Error('boom'), { code: 'X' });
        return rows;
      },
    };
    await assert.rejects(
      async () => {
        for await (const _ of mapBatchesInPool(runner, source(), { window: 2 })) void _;
      },
      { message: 'boom' },
    );
    assert.equal(closed, true);
  });

  test('abort rejects with an AbortError whose cause is the reason', async () => {
    const runner = manualRunner();
    const controller = new AbortController();
    const out = mapBatchesInPool(runner, batches(5), { signal: controller.signal, window: 2 });
    const first = out.next();
    await runner.waitFor(2);
    controller.abort(new Error('stop'));
    await assert.rejects(first, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_SPILLWAY_ABORTED');
      assert.equal((error.cause as Error).message, 'stop');
      return true;
    });
  });

  test('validates its options', async () => {
    const runner: BatchRunner = { run: async (_id, rows) => rows };
    await assert.rejects(mapBatchesInPool(runner, batches(1), { window: 0 }).next(), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
    });
  });
});
