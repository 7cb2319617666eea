/**
 * `spillway worker` handles SIGHUP as it does SIGTERM (issue 19): the shared CLI handling
 * (onInterrupt), so a closed terminal or a service manager's SIGHUP stops it gracefully: the
 * batches running finish, its local workers end (no orphan), its Redis connections close, and it
 * exits 0. Needs redis-server (skips saying why without it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { parallel } from '../../../../transforms/parallel.ts';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { collect } from '../../../../sinks/collect.ts';
import { spawn } from 'node:child_process';
import { ROOT, alive, childPids, pollUntil } from '../../../helpers.ts';
import { skipReason, startRedis, startWorker } from './helpers.ts';
import type { RedisServer } from './helpers.ts';

const ECHO = 'test/fixtures/distributed/echo.ts';
const SQUARE = 'test/fixtures/parallel/worker.ts';
// one batch whose row hangs its worker until it is killed
const PRODUCER = `
import { pipeline, fromIterable, parallel, collect } from 'spillway';
const [port, queue] = process.argv.slice(1);
const backend = { type: 'bullmq', connection: { host: '127.0.0.1', port: Number(port) }, queue };
await pipeline(fromIterable([{ n: 1, hang: true }]), parallel('${SQUARE}', { backend }), collect(), { governor: false });
`;

/** The pids of `pid`'s pool workers (forked children running the worker entry; tsx's esbuild is not one). */
function childrenOf(pid: number): number[] {
  return childPids(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('worker-entry');
    } catch {
      return false;
    }
  });
}

describe('spillway worker on a termination signal', { skip: skipReason }, () => {
  let redis: RedisServer;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    client = new Redis({ host: '127.0.0.1', port: redis.port });
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  /** Redis connections of `spillway worker` processes. */
  const workerClients = async (): Promise<number> =>
    String(await client.client('LIST'))
      .split('\n')
      .filter((line) => / name=spillway-worker/.test(line)).length;

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`${signal}: finishes, ends its local workers, closes its connections, exits 0`, async () => {
      const queue = `signal-${signal}`;
      const keysBefore = await client.keys('*');
      const worker = startWorker(['--redis', redis.url, '--queue', queue, '--module', ECHO, '--isolation', 'process']);
      try {
        await worker.ready;
        const rows = Array.from({ length: 20 }, (_, n) => ({ n }));
        const { output } = await pipeline(
          fromIterable(rows, { batchSize: 10 }),
          parallel(ECHO, { backend: { type: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue } }),
          collect(),
          { governor: false },
        );
        assert.deepEqual(output, rows);
        const children = childrenOf(worker.process.pid!);
        assert.ok(children.length > 0, 'the worker runs its batches in child processes');
        assert.ok((await workerClients()) > 0);
        worker.process.kill(signal);
        assert.equal(await worker.exited, 0, worker.stderr());
        assert.match(worker.stderr(), new RegExp(`${signal}`));
        assert.match(worker.stderr(), /stopped after 2 batch\(es\), 20 row\(s\), 0 failure\(s\)/);
        assert.deepEqual(
          await pollUntil(
            async () => children.filter(alive),
            (left) => left.length === 0,
          ),
          [],
        );
        assert.equal(await pollUntil(workerClients, (n) => n === 0), 0, 'a Redis connection outlived the worker');
        // BullMQ's queue keys stay (the queue is the pipeline's); no key of a run or of this worker does
        const left = (await client.keys('*')).filter((k) => !keysBefore.includes(k));
        assert.deepEqual(
          left.filter((k) => k.includes(':spillway:') || /worker/i.test(k)),
          [],
          left.join(', '),
        );
      } finally {
        if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
      }
    });
  }

  test('a second SIGHUP while a batch hangs: exits at once (129) and kills its local worker', async () => {
    const queue = 'signal-twice';
    const worker = startWorker(['--redis', redis.url, '--queue', queue, '--module', SQUARE, '--isolation', 'process']);
    // the producer in a process of its own, killed at the end (an aborted run whose batch was
    // taken by a worker killed meanwhile did not settle here: left for the BullMQ backend's owner)
    const producer = spawn(
      process.execPath,
      [
        '--conditions=spillway-source',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        PRODUCER,
        String(redis.port),
        queue,
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    try {
      await worker.ready;
      // the batch is running once the worker has forked its local worker
      const children = await pollUntil(
        async () => childrenOf(worker.process.pid!),
        (pids) => pids.length > 0,
        120_000,
      );
      assert.ok(children.length > 0, worker.stderr());
      worker.process.kill('SIGHUP');
      await pollUntil(
        async () => worker.stderr(),
        (text) => text.includes('finishing the batches running'),
      );
      assert.ok(children.every(alive), 'the first signal waits for the running batch');
      worker.process.kill('SIGHUP');
      assert.equal(await worker.exited, 129, worker.stderr());
      assert.deepEqual(
        await pollUntil(
          async () => children.filter(alive),
          (left) => left.length === 0,
        ),
        [],
      );
    } finally {
      producer.kill('SIGKILL');
      if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
    }
  });
});
