/**
 * Why a worker ended (issue 19, item 7): a thread over its memory limit is a memory failure even
 * when its timeout fired first (the out-of-memory error arrives after the timeout's kill), and a
 * real thread over `workerMemoryLimit` with a generous timeout is reported as `memory`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoolWorker, WorkerFailure } from '../../../../lib/workers/pool/pool-worker.ts';
import type { InitMessage, ToWorker } from '../../../../lib/workers/pool/protocol.ts';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { ThreadWorker } from '../../../../lib/workers/pool/thread-worker.ts';
import { WorkerError } from '../../../../lib/core/errors.ts';
import { fixture } from './helpers.ts';

/** A worker whose termination is interrupted by V8 reporting it out of memory (the race, made certain). */
class OomOnTerminate extends PoolWorker {
  override get pid(): number | undefined {
    return undefined;
  }
  override get threadId(): number | undefined {
    return 1;
  }
  protected override spawn(_init: InitMessage): void {
    queueMicrotask(() => this.handleMessage({ type: 'ready' }));
  }
  protected override post(_message: ToWorker): void {
    // busy forever: only a kill ends the batch
  }
  protected override terminate(): void {
    const error = Object.assign(new Error('Worker terminated due to reaching memory limit: JS heap out of memory'), {
      code: 'ERR_WORKER_OUT_OF_MEMORY',
    });
    queueMicrotask(() => {
      this.handleError(error, 'memory');
      this.handleExit('exited with code 1');
    });
  }
  override setRef(): void {}
}

test('an out-of-memory error after a timeout kill makes the failure a memory failure', async () => {
  const worker = new OomOnTerminate('w0.1');
  await worker.start({ moduleUrl: 'file:///x.ts', exportName: 'default', kind: 'row' });
  const running = worker.run(0, { rows: [{}] }, []);
  await worker.kill('timeout');
  await assert.rejects(running, (error: unknown) => error instanceof WorkerFailure && error.reason === 'memory');
  assert.equal(worker.exitReason, 'memory');
});

test('a thread filling its heap past workerMemoryLimit under a timeout fails as memory', async () => {
  const pool = new WorkerPool(fixture('heap-hog.ts'), {
    workers: 1,
    workerMemoryLimit: '32MiB',
    timeoutMs: 120_000,
    retries: 0,
  });
  try {
    await assert.rejects(
      pool.run(0, [{}]),
      (error: unknown) => error instanceof WorkerError && error.reason === 'memory',
    );
  } finally {
    await pool.destroy();
  }
});

test('a thread holding its heap at workerMemoryLimit fails as memory, naming the limit, when its timeout fires first', async () => {
  // the heap is full before the batch starts (the module fills it while loading) and the batch
  // spins without allocating, so the timeout always fires first, however busy the machine
  const pool = new WorkerPool(fixture('heap-held.mjs'), {
    workers: 1,
    workerMemoryLimit: '48MiB',
    timeoutMs: 1,
    retries: 0,
  });
  try {
    await assert.rejects(pool.run(0, [{}]), (error: unknown) => {
      assert.ok(error instanceof WorkerError);
      assert.equal(error.code, 'ERR_SPILLWAY_WORKER');
      assert.equal(error.reason, 'memory');
      assert.match(error.message, /options\.workerMemoryLimit 50\.3 MB/); // 48 MiB
      return true;
    });
  } finally {
    await pool.destroy();
  }
});

test('a thread far below workerMemoryLimit that passes its timeout still fails as timeout', async () => {
  const pool = new WorkerPool(fixture('hang.ts'), {
    workers: 1,
    workerMemoryLimit: '256MiB',
    timeoutMs: 1,
    retries: 0,
  });
  try {
    await assert.rejects(
      pool.run(0, [{}]),
      (error: unknown) => error instanceof WorkerError && error.reason === 'timeout',
    );
  } finally {
    await pool.destroy();
  }
});

test('a thread climbing to workerMemoryLimit row by row in one batch is seen at its limit while that batch spins', async () => {
  // the flag rises once the heap is full and the batch then loops synchronously: the parent must
  // already see the thread at its limit (the heap reporter's timer cannot run in that loop)
  const flag = new SharedArrayBuffer(4);
  const worker = new ThreadWorker('w0.1', { memoryLimit: 48 * 1024 * 1024 });
  try {
    await worker.start({ moduleUrl: fixture('heap-climb.mjs').href, exportName: 'default', kind: 'row' });
    assert.equal(worker.atMemoryLimit(), false, 'below its limit once loaded');
    const rows = Array.from({ length: 4000 }, (_, i) => ({ i, flag }));
    const running = worker.run(0, { rows }, []);
    running.catch(() => {});
    // Atomics.waitAsync: in Node 20, not yet in the compiler's lib
    const { waitAsync } = Atomics as unknown as {
      waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string };
    };
    const raised = waitAsync(new Int32Array(flag), 0, 0);
    if (raised.async) await raised.value;
    assert.equal(worker.atMemoryLimit(), true, `seen at ${worker.heapUsed} bytes of 48 MiB`);
    await worker.kill(worker.atMemoryLimit() ? 'memory' : 'timeout');
    await assert.rejects(running, (error: unknown) => error instanceof WorkerFailure && error.reason === 'memory');
  } finally {
    await worker.kill('closed');
  }
});
