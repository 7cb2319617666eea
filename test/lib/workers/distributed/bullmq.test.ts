/**
 * The parallel stage on the BullMQ backend against a real redis-server (started here on a free
 * loopback port) and real `spillway worker` processes: results equal a serial run, a worker
 * SIGKILLed mid-run loses nothing and duplicates nothing, failures/timeouts/dead-letter keep the
 * local pool's contract, Redis unreachable fails fast, Redis lost mid-run fails clearly, the
 * producer's window bounds what is queued, keys are removed at the end and on abort, and the
 * password appears in no error or stats.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { QueueEvents } from 'bullmq';
import { parallel } from '../../../../transforms/parallel.ts';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { BatchTransform } from '../../../../lib/core/transform.ts';
import { rowsToRecordBatch } from '../../../../lib/formats/arrow/convert.ts';
import { QueueError, WorkerError } from '../../../../lib/core/errors.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { collect } from '../../../../sinks/collect.ts';
import { tempDir } from '../../../helpers.ts';
import square from '../../../fixtures/parallel/worker.ts';
import type { TestRow } from '../../../fixtures/parallel/worker.ts';
import { skipReason, startRedis, startWorker } from './helpers.ts';
import type { RedisServer, WorkerProcess } from './helpers.ts';

const MODULE = 'test/fixtures/parallel/worker.ts';
const ECHO = 'test/fixtures/distributed/echo.ts';
const PASSWORD = 'pa55-w0rd-never-shown';
// small lock and stalled-check times so a killed worker's batch comes back quickly
const FAST = ['--lock-duration', '1000', '--stalled-interval', '500'];

interface Out {
  n: number;
  sq: number;
  pid: number;
}

const grid = (count: number, extra: (n: number) => Partial<TestRow> = () => ({})): TestRow[] =>
  Array.from({ length: count }, (_, n) => ({ n, ...extra(n) }));

function backend(
  redis: RedisServer,
  queue: string,
  extra: Record<string, unknown> = {},
): { type: 'bullmq'; connection: { host: string; port: number; password?: string }; queue: string } {
  return { type: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue, ...extra };
}

async function stopWorkers(workers: WorkerProcess[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.process.exitCode === null && w.process.signalCode === null) {
        w.process.kill('SIGKILL');
        await w.exited;
      }
    }),
  );
}

/** Keys of spillway runs on `queue` still in Redis. */
async function runKeys(redis: RedisServer, queue: string, password?: string): Promise<string[]> {
  const client = new Redis({ host: '127.0.0.1', port: redis.port, ...(password === undefined ? {} : { password }) });
  try {
    return await client.keys(`bull:${queue}:spillway:*`);
  } finally {
    client.disconnect();
  }
}

describe('parallel on BullMQ', { skip: skipReason }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  test('two workers, one SIGKILLed mid-run: every row once, equal to the serial run, stats per worker', async () => {
    const queue = 'kill';
    const workers = [
      startWorker([
        '--redis',
        redis.url,
        '--queue',
        queue,
        '--module',
        MODULE,
        '--concurrency',
        '2',
        '--id',
        'first',
        ...FAST,
      ]),
      startWorker([
        '--redis',
        redis.url,
        '--queue',
        queue,
        '--module',
        MODULE,
        '--concurrency',
        '2',
        '--id',
        'second',
        ...FAST,
      ]),
    ];
    try {
      await Promise.all(workers.map((w) => w.ready));
      const victim = workers[0]!;
      // 20 ms a row (a sleep, no CPU), 10 rows a batch: about 3 s of work for the four slots, so the
      // victim still holds batches when its first output reaches the killer (with 5 ms, at load
      // average 13, the queue had drained by then and no batch was left to recover)
      const rows = grid(600, () => ({ ms: 20 }));
      let killed = false;
      const killer = new BatchTransform({
        name: 'killer',
        transform(batch, push) {
          if (!killed && (batch.rows as unknown as Out[]).some((r) => r.pid === victim.process.pid)) {
            killed = true;
            victim.process.kill('SIGKILL');
          }
          push(batch);
        },
      });
      const { output, stats } = await pipeline(
        fromIterable(rows, { batchSize: 10 }),
        parallel(MODULE, { backend: backend(redis, queue), retries: 1 }),
        killer,
        collect<Out>(),
        { governor: false },
      );
      assert.equal(killed, true, 'the first worker never produced a batch');
      assert.equal(await victim.exited, 'SIGKILL');
      assert.deepEqual(
        output.map((r) => ({ n: r.n, sq: r.sq })),
        rows.map((r) => ({ n: r.n, sq: square(r).sq })),
      );
      const details = (stats.stages.find((s) => s.name === 'parallel')?.details ?? {}) as Record<string, number>;
      assert.ok((details.stalled ?? 0) >= 1, `no batch of the killed worker was recovered: ${JSON.stringify(details)}`);
      const byId = new Map((stats.workers ?? []).map((w) => [w.id, w as typeof w & { host: string }]));
      assert.deepEqual([...byId.keys()].sort(), ['first', 'second']);
      assert.equal(
        [...byId.values()].reduce((n, w) => n + w.batches, 0),
        60,
        'a batch was counted twice',
      );
      assert.equal(
        [...byId.values()].reduce((n, w) => n + w.rows, 0),
        600,
      );
      for (const w of byId.values()) assert.equal(typeof w.host, 'string');
      assert.deepEqual(await runKeys(redis, queue), []);
    } finally {
      await stopWorkers(workers);
    }
  });

  describe('with one worker', () => {
    const queue = 'one';
    let worker: WorkerProcess;
    before(async () => {
      worker = startWorker(['--redis', redis.url, '--queue', queue, '--module', MODULE, '--concurrency', '2', ...FAST]);
      await worker.ready;
    });
    after(async () => {
      worker.process.kill('SIGTERM');
      assert.equal(await worker.exited, 0, `graceful stop failed: ${worker.stderr()}`);
    });

    test('a batch that keeps failing: WorkerError naming the batch after the retries, counted on the worker', async () => {
      const rows = grid(60, (n) => (n === 33 ? { throw: true } : {}));
      await assert.rejects(
        pipeline(
          fromIterable(rows, { batchSize: 10 }),
          parallel(MODULE, { backend: backend(redis, queue), retries: 1 }),
          collect(),
          { governor: false },
        ),
        (error: unknown) => {
          assert.ok(error instanceof WorkerError, String(error));
          assert.equal(error.context.batch, 3);
          assert.equal(error.context.stage, 'parallel');
          assert.equal(error.reason, 'error');
          assert.equal(error.attempts, 2);
          assert.match((error.cause as Error).message, /cannot handle 33/);
          return true;
        },
      );
      assert.deepEqual(await runKeys(redis, queue), []);
    });

    test('batches still running when the run gives up leave no BullMQ job behind once they fail', async () => {
      // batch 0 fails at once; batches 1 and 2 are in the worker's hands then, and fail 0.4 s
      // later: their jobs went to BullMQ's failed set for good (removeOnFail: false)
      const rows = grid(30, (n) => (n === 0 ? { throw: true } : n % 10 === 0 ? { ms: 400 } : { throw: true }));
      const client = new Redis({ host: '127.0.0.1', port: redis.port });
      try {
        const failedBefore = await client.zcard(`bull:${queue}:failed`);
        await assert.rejects(
          pipeline(
            fromIterable(rows, { batchSize: 10 }),
            parallel(MODULE, { backend: backend(redis, queue), retries: 0 }),
            collect(),
            { governor: false },
          ),
          WorkerError,
        );
        // the attempts under way end (0.4 s, more on a busy machine) and are completed as skipped
        const jobs = async (): Promise<string[]> =>
          (await client.keys(`bull:${queue}:*`)).filter((k) => /:[0-9a-f]+-\d+$/.test(k));
        for (let waited = 0; waited < 20_000 && (await jobs()).length > 0; waited += 100)
          await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(await jobs(), []);
        // the batch that failed while the run waited was read and removed by the run
        assert.equal(await client.zcard(`bull:${queue}:failed`), failedBefore);
        assert.deepEqual(await runKeys(redis, queue), []);
      } finally {
        client.disconnect();
      }
    });

    test('onError deadLetter: the batch goes to the file and the run goes on', async () => {
      const dir = tempDir('spillway-distributed-');
      const deadLetter = join(dir, 'dead.jsonl');
      const rows = grid(40, (n) => (n === 15 ? { throw: true } : {}));
      const { output, stats } = await pipeline(
        fromIterable(rows, { batchSize: 10 }),
        parallel(MODULE, { backend: backend(redis, queue), retries: 1, onError: { deadLetter } }),
        collect<Out>(),
        { governor: false },
      );
      assert.deepEqual(
        output.map((r) => r.n),
        grid(40)
          .filter((r) => r.n < 10 || r.n >= 20)
          .map((r) => r.n),
      );
      const lines = readFileSync(deadLetter, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { batch: number; attempts: number; code: string });
      assert.equal(lines.length, 10);
      assert.ok(lines.every((l) => l.batch === 1 && l.attempts === 2 && l.code === 'error'));
      assert.equal(stats.errors.deadLettered, 10);
      assert.equal(
        (stats.workers ?? []).reduce((n, w) => n + w.failures, 0),
        2,
      );
    });

    test('timeoutMs is enforced in the worker: a hung batch fails with reason timeout', async () => {
      // one batch, and it hangs: no other batch exists that a starved worker on a loaded machine could
      // push past the limit, so the only possible timeout is the one under test
      const rows = grid(10, (n) => (n === 2 ? { hang: true } : {}));
      await assert.rejects(
        pipeline(
          fromIterable(rows, { batchSize: 10 }),
          parallel(MODULE, { backend: backend(redis, queue), retries: 0, timeoutMs: 2000 }),
          collect(),
          { governor: false },
        ),
        (error: unknown) => {
          assert.ok(error instanceof WorkerError, String(error));
          assert.equal(error.reason, 'timeout');
          assert.equal(error.context.batch, 0);
          return true;
        },
      );
    });

    test('Arrow batches and a batch function; ordered: false still emits every row once', async () => {
      const recordBatches = [0, 1, 2].map((b) =>
        rowsToRecordBatch(grid(40).map((r) => ({ n: r.n + b * 40, label: `row ${r.n + b * 40}` }))),
      );
      const { output, stats } = await pipeline(
        Readable.from(recordBatches),
        parallel(MODULE, { backend: backend(redis, queue) }),
        collect<Out>(),
        { governor: false },
      );
      assert.deepEqual(
        output.map((r) => r.sq),
        grid(120).map((r) => r.n * r.n),
      );
      assert.equal(stats.stages.find((s) => s.name === 'parallel')?.details.batchesAsArrow, 3);
      const summaries = await pipeline(
        fromIterable(grid(95), { batchSize: 10 }),
        parallel(MODULE, { backend: backend(redis, queue), kind: 'batch', export: 'summary', ordered: false }),
        collect<{ first: number }>(),
        { governor: false },
      );
      assert.deepEqual(
        summaries.output.map((s) => s.first).sort((a, b) => a - b),
        Array.from({ length: 10 }, (_, i) => i * 10),
      );
    });

    test('abort: the pipeline rejects and the run leaves no payload in Redis', async () => {
      const controller = new AbortController();
      const rows = grid(400, () => ({ ms: 5 }));
      let seen = 0;
      const watcher = new BatchTransform({
        name: 'watcher',
        transform(batch, push) {
          if (++seen === 2) controller.abort(new Error('user cancelled'));
          push(batch);
        },
      });
      await assert.rejects(
        pipeline(
          fromIterable(rows, { batchSize: 10 }),
          parallel(MODULE, { backend: backend(redis, queue) }),
          watcher,
          collect(),
          { signal: controller.signal, governor: false },
        ),
        { code: 'ERR_SPILLWAY_ABORTED' },
      );
      // inputs are only written by the producer: none may remain (a result written in the race is TTL-bound)
      assert.deepEqual(
        (await runKeys(redis, queue)).filter((k) => k.includes(':in:')),
        [],
      );
    });
  });

  test('rows Arrow cannot carry exactly come back as a serial run gives them', async () => {
    const queue = 'exact';
    const worker = startWorker(['--redis', redis.url, '--queue', queue, '--module', ECHO]);
    try {
      await worker.ready;
      const rows: unknown[] = [
        { a: 1n, b: undefined },
        { a: 2n },
        { a: 3n, c: new Date(0), d: { at: new Date(5) } },
        [1, 'x'],
        'text',
      ];
      const { output, stats } = await pipeline(
        fromIterable(rows as never[], { batchSize: 2 }),
        parallel(ECHO, { backend: backend(redis, queue) }),
        collect(),
        { governor: false },
      );
      assert.deepEqual(output, rows);
      assert.ok(Number(stats.stages.find((s) => s.name === 'parallel')?.details.batchesAsV8) >= 1);
    } finally {
      await stopWorkers([worker]);
    }
  });

  test('the window bounds the batches queued ahead of results', async () => {
    const queue = 'window';
    const events = new QueueEvents(queue, { connection: { host: '127.0.0.1', port: redis.port } });
    await events.waitUntilReady();
    const controller = new AbortController();
    let pulled = 0;
    function* source(): Generator<TestRow> {
      for (let n = 0; n < 5000; n++) {
        pulled++;
        yield { n };
      }
    }
    let waiting = 0;
    const three = new Promise<void>((resolve) =>
      events.on('waiting', () => {
        if (++waiting === 3) resolve();
      }),
    );
    // no worker: nothing completes, so the producer must stop at the window
    const run = pipeline(
      fromIterable(source(), { batchSize: 10 }),
      parallel(MODULE, { backend: backend(redis, queue), window: 3 }),
      collect(),
      { signal: controller.signal, governor: false },
    );
    run.catch(() => {});
    try {
      await three;
      // proving that nothing more is queued needs a little time to pass
      await new Promise((resolve) => setTimeout(resolve, 300));
      const client = new Redis({ host: '127.0.0.1', port: redis.port });
      try {
        assert.equal(await client.llen(`bull:${queue}:wait`), 3);
      } finally {
        client.disconnect();
      }
      assert.equal(waiting, 3);
      assert.ok(pulled < 200, `the source was read ${pulled} rows ahead`);
    } finally {
      controller.abort();
      await assert.rejects(run, { code: 'ERR_SPILLWAY_ABORTED' });
      await events.close();
    }
    assert.deepEqual(await runKeys(redis, queue), []);
  });

  test('Redis unreachable at start fails fast with a clear error and no password', async () => {
    const port = redis.port === 1 ? 2 : 1;
    await assert.rejects(
      pipeline(
        fromIterable(grid(10)),
        parallel(MODULE, {
          backend: { type: 'bullmq', connection: { host: '127.0.0.1', port, password: PASSWORD }, queue: 'nowhere' },
        }),
        collect(),
        { governor: false },
      ),
      (error: unknown) => {
        assert.ok(error instanceof QueueError, String(error));
        assert.equal(error.code, 'ERR_SPILLWAY_QUEUE');
        assert.equal(error.reason, 'unreachable');
        assert.match(error.message, new RegExp(`Cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`));
        assert.ok(
          !JSON.stringify({ message: error.message, stack: error.stack, cause: String(error.cause) }).includes(
            PASSWORD,
          ),
        );
        return true;
      },
    );
  });

  test('spillway worker with an unreachable Redis exits at once with the reason', async () => {
    const worker = startWorker(['--redis', `redis://user:${PASSWORD}@127.0.0.1:1`, '--queue', 'x', '--module', MODULE]);
    assert.equal(await worker.exited, 1);
    assert.match(worker.stderr(), /Cannot reach Redis at redis:\/\/127\.0\.0\.1:1.*ERR_SPILLWAY_QUEUE/);
    assert.ok(!worker.stderr().includes(PASSWORD));
  });
});

describe('parallel on BullMQ with its own Redis', { skip: skipReason }, () => {
  test('a password-protected Redis: runs, and neither errors nor stats show the password', async () => {
    const redis = await startRedis({ password: PASSWORD });
    const queue = 'secret';
    const worker = startWorker(['--redis', `redis://127.0.0.1:${redis.port}`, '--queue', queue, '--module', MODULE], {
      SPILLWAY_REDIS_PASSWORD: PASSWORD,
      DEBUG: 'spillway:*',
    });
    try {
      await worker.ready;
      const connection = { host: '127.0.0.1', port: redis.port, password: PASSWORD };
      const { output, stats } = await pipeline(
        fromIterable(grid(50), { batchSize: 10 }),
        parallel(MODULE, { backend: { type: 'bullmq', connection, queue } }),
        collect<Out>(),
        { governor: false },
      );
      assert.equal(output.length, 50);
      assert.ok(!JSON.stringify(stats).includes(PASSWORD), 'the password is in the stats');
      // a failing batch: the error and its cause chain do not carry the password
      await assert.rejects(
        pipeline(
          fromIterable(grid(20, (n) => (n === 3 ? { throw: true } : {}))),
          parallel(MODULE, { backend: { type: 'bullmq', connection, queue }, retries: 0 }),
          collect(),
          { governor: false },
        ),
        (error: unknown) => {
          assert.ok(error instanceof WorkerError);
          assert.ok(!`${error.message} ${error.stack} ${String(error.cause)}`.includes(PASSWORD));
          return true;
        },
      );
      // a wrong password fails fast and does not echo either password
      await assert.rejects(
        pipeline(
          fromIterable(grid(5)),
          parallel(MODULE, {
            backend: { type: 'bullmq', connection: { ...connection, password: 'wrong-one-too' }, queue },
          }),
          collect(),
          { governor: false },
        ),
        (error: unknown) => {
          assert.ok(error instanceof QueueError, String(error));
          assert.equal(error.reason, 'unreachable');
          assert.ok(
            !`${error.message} ${error.stack} ${String((error.cause as Error).stack)}`.includes('wrong-one-too'),
          );
          return true;
        },
      );
      assert.ok(!worker.stderr().includes(PASSWORD), 'the worker logged the password');
    } finally {
      await stopWorkers([worker]);
      await redis.stop();
    }
  });

  test('Redis killed mid-run fails the pipeline with a clear error, not a hang', async () => {
    const redis = await startRedis();
    const queue = 'lost';
    const worker = startWorker(['--redis', redis.url, '--queue', queue, '--module', MODULE, ...FAST]);
    try {
      await worker.ready;
      let seen = 0;
      const killer = new BatchTransform({
        name: 'killer',
        async transform(batch, push) {
          if (++seen === 2) {
            const exited = once(redis.process, 'exit');
            redis.process.kill('SIGKILL');
            await exited;
          }
          push(batch);
        },
      });
      const rows = grid(400, () => ({ ms: 2 }));
      await assert.rejects(
        pipeline(
          fromIterable(rows, { batchSize: 10 }),
          parallel(MODULE, { backend: { ...backend(redis, queue), reconnectTimeoutMs: 500 } }),
          killer,
          collect(),
          { governor: false },
        ),
        (error: unknown) => {
          assert.ok(error instanceof QueueError, String(error));
          assert.equal(error.reason, 'lost');
          assert.match(
            error.message,
            new RegExp(`Lost the connection to Redis at redis://127\\.0\\.0\\.1:${redis.port}`),
          );
          return true;
        },
      );
    } finally {
      await stopWorkers([worker]);
      await redis.stop();
    }
  });
});

describe('BullMQ backend options', () => {
  const connection = { host: '127.0.0.1', port: 6379 };
  test('are validated synchronously, naming the option, never echoing the password', () => {
    assert.throws(() => parallel(MODULE, { backend: { type: 'bullmq', connection, queue: 'a:b' } }), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
      message: /options\.backend\.queue/,
    });
    assert.throws(
      () =>
        parallel(MODULE, {
          backend: { type: 'bullmq', connection: { ...connection, hots: 'x' } as never, queue: 'q' },
        }),
      { message: /options\.backend\.connection\.hots/ },
    );
    assert.throws(
      () => parallel(MODULE, { backend: { type: 'bullmq', connection: { ...connection, port: 0 }, queue: 'q' } }),
      { message: /options\.backend\.connection\.port/ },
    );
    for (const leaseTtlMs of [999, 1.5, '30000'])
      assert.throws(
        () =>
          parallel(MODULE, { backend: { type: 'bullmq', connection, queue: 'q', leaseTtlMs: leaseTtlMs as number } }),
        { code: 'ERR_SPILLWAY_INVALID_OPTION', message: /options\.backend\.leaseTtlMs/ },
      );
    assert.throws(() => parallel(MODULE, { backend: { type: 'bullmq', connection, queue: 'q' }, workers: 2 }), {
      message: /options\.workers.*spillway worker/,
    });
    assert.throws(() => parallel(MODULE, { backend: { type: 'redis' } as never }), { message: /options\.backend/ });
    assert.throws(
      () =>
        parallel(MODULE, {
          backend: { type: 'bullmq', connection: { password: 42 as unknown as string }, queue: 'q' },
        }),
      (error: Error) => !error.message.includes('42'),
    );
    assert.doesNotThrow(() => parallel(MODULE, { backend: { type: 'local' }, workers: 1 }).destroy());
  });

  test('spillway worker arguments: URL, password from the environment, flags', async () => {
    const { parseWorkerArgs } = await import('../../../../lib/cli/commands/worker.ts');
    const o = parseWorkerArgs(
      [
        '--redis',
        'rediss://u@redis.internal:6380/2',
        '--queue',
        'q',
        '--module',
        'm.ts',
        '--concurrency',
        '4',
        '--lock-duration=1000',
      ],
      { SPILLWAY_REDIS_PASSWORD: PASSWORD },
    );
    assert.deepEqual(
      { ...o.connection, tls: o.connection.tls !== undefined },
      {
        host: 'redis.internal',
        port: 6380,
        username: 'u',
        password: PASSWORD,
        db: 2,
        tls: true,
        family: undefined,
        connectTimeoutMs: 5000,
      },
    );
    assert.equal(o.concurrency, 4);
    assert.equal(o.lockDurationMs, 1000);
    assert.throws(
      () => parseWorkerArgs(['--redis', `redis://:${PASSWORD}@h:x`, '--queue', 'q', '--module', 'm.ts']),
      (error: Error) => !error.message.includes(PASSWORD),
    );
    assert.throws(() => parseWorkerArgs(['--queue', 'q', '--module', 'm.ts']), { message: /--redis is required/ });
  });
});
