import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { childRss } from '../../../../lib/memory/child-rss.ts';
import { WorkerError } from '../../../../lib/core/errors.ts';
import { WorkerPool } from '../../../../lib/workers/pool/worker-pool.ts';
import { alive, fixture } from './helpers.ts';
import { ROOT } from '../../../helpers.ts';

const MB = 1024 * 1024;
const projectRoot = ROOT;

describe('process isolation', () => {
  test('a child over workerMemoryLimit is killed, counted as memory, and its batch fails after retries', async () => {
    const pool = new WorkerPool(fixture('hog.ts'), {
      workers: 1,
      isolation: 'process',
      workerMemoryLimit: '200MB',
      retries: 1,
      memoryCheckIntervalMs: 50,
    });
    try {
      await assert.rejects(pool.run(5, [{}]), (error: unknown) => {
        assert.ok(error instanceof WorkerError);
        assert.equal(error.reason, 'memory');
        assert.equal(error.context.batch, 5);
        return true;
      });
      assert.deepEqual(
        pool.stats().workers[0]?.exits.map((e) => e.reason),
        ['memory', 'memory'],
      );
    } finally {
      await pool.destroy();
    }
  });

  test('recycling keeps a leaking function bounded in each child, while in a thread it grows', async () => {
    const leakBytes = 8 * MB;
    const batches = 30;
    const child = new WorkerPool(fixture('leak.ts'), {
      workers: 1,
      isolation: 'process',
      kind: 'batch',
      maxTasksPerWorker: 5,
    });
    const parentBefore = process.memoryUsage.rss();
    let maxChildRss = 0;
    let firstChildRss = 0;
    try {
      for (let i = 0; i < batches; i++) {
        await child.run(i, [{ leakBytes }]);
        const pid = child.stats().workers[0]?.pid;
        if (pid !== undefined) {
          const memory = await childRss(pid);
          if (i === 0) firstChildRss = memory;
          maxChildRss = Math.max(maxChildRss, memory);
        }
      }
      assert.equal(child.stats().workers[0]?.recycles, batches / 5);
    } finally {
      await child.close();
    }
    // a child holds at most 5 leaks before it is recycled (30 would be 240 MB)
    assert.ok(
      maxChildRss < firstChildRss + 5 * leakBytes + 40 * MB,
      `child rss ${maxChildRss} vs first ${firstChildRss}`,
    );
    assert.ok(process.memoryUsage.rss() - parentBefore < 60 * MB, 'parent rss grew');

    const thread = new WorkerPool(fixture('leak.ts'), { workers: 1, isolation: 'thread', kind: 'batch' });
    try {
      await thread.run(0, [{ leakBytes }]);
      const before = process.memoryUsage.rss();
      for (let i = 1; i < batches; i++) await thread.run(i, [{ leakBytes }]);
      const grown = process.memoryUsage.rss() - before;
      assert.ok(grown > 20 * leakBytes, `thread leak grew rss by only ${grown}`);
    } finally {
      await thread.destroy();
    }
  });

  test('idle workers do not keep the process alive, and children die with their parent', async () => {
    for (const isolation of ['thread', 'process']) {
      // the script starts a pool, runs a batch, prints child pids and never closes the pool
      const script = `
        import { WorkerPool } from './lib/workers/pool/worker-pool.ts';
        const pool = new WorkerPool('./test/fixtures/pool/row.ts', { workers: 2, isolation: '${isolation}' });
        const out = await pool.run(0, [{ n: 2 }]);
        console.log(JSON.stringify({ out, pids: pool.pids() }));
      `;
      const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: projectRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const [code] = (await once(proc, 'exit')) as [number | null];
      assert.equal(code, 0);
      const { out, pids } = JSON.parse(stdout) as { out: unknown[]; pids: number[] };
      assert.deepEqual(out, [{ n: 2, sq: 4 }]);
      assert.equal(pids.length, isolation === 'process' ? 2 : 0);
      // children see their IPC channel close and exit; wait for that event through their exit
      for (const pid of pids) {
        for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 25));
        assert.equal(alive(pid), false, `child ${pid} outlived its parent`);
      }
    }
  });
});

describe('thread isolation', () => {
  test("input buffers are copied, never transferred: they are the caller's (until 2026-12-07 moved when retries was 0)", async () => {
    const once = new WorkerPool(fixture('row.ts'), { workers: 1, export: 'bytes', retries: 0 });
    try {
      const kept = new Uint8Array(1024).fill(2);
      const [out] = (await once.run(0, [{ data: kept }])) as { data: Uint8Array; sum: number }[];
      assert.equal(out?.sum, 2048);
      assert.equal(out?.data.byteLength, 1024);
      assert.equal(kept.byteLength, 1024, 'the caller keeps its input');
    } finally {
      await once.close();
    }
  });

  test('a thread over its heap limit fails with reason memory', async () => {
    const pool = new WorkerPool(fixture('heap-hog.ts'), { workers: 1, workerMemoryLimit: '32MiB', retries: 0 });
    try {
      await assert.rejects(pool.run(0, [{}]), (error: unknown) => {
        assert.ok(error instanceof WorkerError);
        assert.equal(error.reason, 'memory');
        return true;
      });
    } finally {
      await pool.destroy();
    }
  });
});
