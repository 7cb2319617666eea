/**
 * A distributed producer SIGKILLed mid-run (issue 19, "fails safe", point 4): its lease in Redis
 * lapses, so a worker started afterwards skips its jobs instead of computing them for nobody, and
 * the next producer to start on the queue removes every job and key it left. A live run outlasting
 * its short lease keeps it by refreshing it, and a clean run leaves no key. Real redis-server, real
 * producer and worker processes; every wait is on a condition in Redis.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { BullmqBackend } from '../../../../lib/workers/distributed/bullmq-backend.ts';
import { presenceKey } from '../../../../lib/workers/distributed/worker-presence.ts';
import { parallel } from '../../../../transforms/parallel.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { collect } from '../../../../sinks/collect.ts';
import { QueueError } from '../../../../lib/core/errors.ts';
import { nodeScript, pollUntil, tempDir } from '../../../helpers.ts';
import { ROOT, skipReason, startRedis, startWorker, type RedisServer, type WorkerProcess } from './helpers.ts';

const MARKER_MODULE = 'test/fixtures/distributed/marker.ts';
const LEASE_MS = 1000;
/**
 * The live run's lease: refreshed every third of it, so a refresh may come up to two thirds late.
 * 1 s (a refresh at most 667 ms late) lost the lease at load average 9 on 2 cores, one run in
 * four; 3 s allows a 2 s stall, and the run below still lasts 2.5 leases.
 */
const LIVE_LEASE_MS = 3000;
/** ms the marker sleeps per row of the live run: 30 rows take 2.5 live leases on one worker. */
const LIVE_ROW_MS = 250;
/** The fixture's `window`: batches it queues before it waits for results. */
const WINDOW = 4;

/** Starts the dead-producer fixture; resolves with its run id once its jobs and payloads are in Redis. */
async function startDoomedRun(
  client: Redis,
  port: number,
  queue: string,
): Promise<{ child: ChildProcess; runId: string; exit: Promise<unknown[]> }> {
  const child = spawn(
    process.execPath,
    [...nodeScript('test/fixtures/distributed/dead-producer.ts'), String(port), queue, String(LEASE_MS)],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exit = once(child, 'exit');
  // killed only once its window is full and every payload has its job: a payload written just
  // before the kill but never queued has no job a worker could skip (TTL and the next run's sweep
  // remove it), and the first test counts on the worker to remove every payload
  const inKeys = await pollUntil(
    async () => {
      const waiting = await client.llen(`bull:${queue}:wait`);
      const keys = child.exitCode === null ? await client.keys(`bull:${queue}:spillway:*:in:*`) : [];
      return waiting === WINDOW && keys.length === waiting ? keys : [];
    },
    (keys) => keys.length > 0 || child.exitCode !== null,
    60_000,
  );
  assert.ok(inKeys.length > 0, `the run queued no job: ${stderr}`);
  const runId = inKeys[0]!.split(':')[3]!;
  return { child, runId, exit };
}

/** SIGKILLs the run, then waits until its lease has lapsed in Redis. */
async function kill(
  client: Redis,
  queue: string,
  run: { child: ChildProcess; runId: string; exit: Promise<unknown[]> },
) {
  run.child.kill('SIGKILL');
  const [, signal] = await run.exit;
  assert.equal(signal, 'SIGKILL');
  const alive = `bull:${queue}:spillway:${run.runId}:alive`;
  assert.equal(
    await pollUntil(
      () => client.exists(alive),
      (n) => n === 0,
      30_000,
    ),
    0,
    'its lease lapses',
  );
}

/** Every key naming the run (its payloads, lease, and BullMQ's job hashes). */
const keysOf = (client: Redis, runId: string): Promise<string[]> => client.keys(`*${runId}*`);
/** spillway's keys on `queue` but the presence set, which lives while a worker does. */
const runKeys = async (client: Redis, queue: string): Promise<string[]> =>
  (await client.keys(`bull:${queue}:spillway*`)).filter((key) => key !== presenceKey('bull', queue));

describe('a producer SIGKILLed mid-run', { skip: skipReason }, () => {
  let redis: RedisServer;
  let client: Redis;
  const workers: WorkerProcess[] = [];
  before(async () => {
    redis = await startRedis();
    client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
    await client.connect();
  });
  after(async () => {
    for (const w of workers) {
      if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGKILL');
      await w.exited;
    }
    client?.disconnect();
    await redis?.stop();
  });

  test('a worker started afterwards skips its jobs; a live run keeps its lease; nothing is left', async () => {
    const queue = 'dead-then-worker';
    const marker = join(tempDir(), 'seen.txt');
    const run = await startDoomedRun(client, redis.port, queue);
    await kill(client, queue, run);
    assert.ok((await client.llen(`bull:${queue}:wait`)) > 0, 'its jobs still wait');

    const worker = startWorker(['--redis', redis.url, '--queue', queue, '--module', MARKER_MODULE], {
      SPILLWAY_TEST_MARKER: marker,
    });
    workers.push(worker);
    await worker.ready;
    const drained = async (): Promise<number> =>
      (await client.llen(`bull:${queue}:wait`)) + (await client.llen(`bull:${queue}:active`));
    assert.equal(await pollUntil(drained, (n) => n === 0, 60_000), 0, 'the worker takes the dead jobs off');
    assert.equal(existsSync(marker), false, 'the worker ran no row of the dead run');
    assert.deepEqual(await client.keys(`bull:${queue}:spillway:${run.runId}:in:*`), [], 'nor kept its payloads');

    // a live run on the same queue, slower than its lease: it refreshes it, so every batch runs
    const rows = Array.from({ length: 30 }, (_, n) => ({ run: 'live', n, ms: LIVE_ROW_MS }));
    const { output } = await pipeline(
      fromIterable(rows, { batchSize: 3 }),
      parallel(MARKER_MODULE, {
        backend: {
          type: 'bullmq',
          connection: { host: '127.0.0.1', port: redis.port },
          queue,
          leaseTtlMs: LIVE_LEASE_MS,
        },
      }),
      collect(),
      { governor: false },
    );
    assert.equal(output.length, 30);
    const seen = readFileSync(marker, 'utf8').trim().split('\n');
    assert.equal(seen.length, 30);
    assert.ok(
      seen.every((line) => line.startsWith('live ')),
      seen.join(','),
    );
    // the live run's start removed what the dead one left; its own end removed its keys
    assert.deepEqual(await keysOf(client, run.runId), []);
    assert.deepEqual(await runKeys(client, queue), []);
  });

  test('the next producer to start on the queue removes every job and key of the dead run', async () => {
    const queue = 'dead-then-producer';
    const run = await startDoomedRun(client, redis.port, queue);
    await kill(client, queue, run);
    const left = await keysOf(client, run.runId);
    assert.ok(
      left.some((k) => k.includes(':in:')),
      `payloads left: ${left.join(', ')}`,
    );
    assert.ok(
      left.some((k) => k === `bull:${queue}:${run.runId}-0`),
      'a job left',
    );

    const next = new BullmqBackend(
      MARKER_MODULE,
      {},
      { type: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue, leaseTtlMs: LEASE_MS },
    );
    try {
      await next.start();
      assert.deepEqual(await keysOf(client, run.runId), []);
      const waiting = await client.lrange(`bull:${queue}:wait`, 0, -1);
      assert.deepEqual(
        waiting.filter((id) => id.startsWith(run.runId)),
        [],
      );
      // the new run holds its own lease while it runs
      assert.equal(await client.exists(`bull:${queue}:spillway:${next.runId}:alive`), 1);
    } finally {
      await next.close();
    }
    assert.deepEqual(await runKeys(client, queue), [], 'a clean end leaves no key');
  });

  test('a run that finds its own lease gone fails with a QueueError (lost) and still removes its keys', async () => {
    const queue = 'lapsed';
    const backend = new BullmqBackend(
      MARKER_MODULE,
      {},
      {
        type: 'bullmq',
        connection: { host: '127.0.0.1', port: redis.port },
        queue,
        leaseTtlMs: LEASE_MS,
        noWorkerTimeoutMs: 0,
      },
    );
    try {
      await backend.start();
      const batch = backend.run(0, [{ run: 'lapsed', n: 0 }]);
      // what a stall longer than the TTL leads to: the lease expired under the running producer
      await client.del(`bull:${queue}:spillway:${backend.runId}:alive`);
      await assert.rejects(batch, (error: unknown) => {
        assert.ok(error instanceof QueueError, String(error));
        assert.equal(error.reason, 'lost');
        assert.match(error.message, /lease.*leaseTtlMs/);
        return true;
      });
    } finally {
      await backend.destroy();
    }
    assert.deepEqual(await runKeys(client, queue), []);
    assert.equal(await client.llen(`bull:${queue}:wait`), 0);
  });
});
