/**
 * A distributed run with no `spillway worker` (issue 19, items 3 and 7): it fails within
 * `noWorkerTimeoutMs` with a QueueError (`no-workers`) instead of waiting forever, and a run
 * stopped by SIGTERM removes its jobs and payload keys from Redis. Needs redis-server (skips
 * saying why without it).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { parallel } from '../../../../transforms/parallel.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { collect } from '../../../../sinks/collect.ts';
import { QueueError } from '../../../../lib/core/errors.ts';
import { ROOT, skipReason, startRedis, type RedisServer } from './helpers.ts';
import { nodeScript, runnableUrl } from '../../../helpers.ts';

const MODULE = runnableUrl('test/fixtures/distributed/echo.ts');

describe('no worker on the queue', { skip: skipReason }, () => {
  let redis: RedisServer;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
    await client.connect();
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  test('the run fails with a QueueError (no-workers) after noWorkerTimeoutMs, and leaves no key', async () => {
    const queue = 'nobody-home';
    const started = performance.now();
    await assert.rejects(
      pipeline(
        fromIterable(
          Array.from({ length: 50 }, (_, n) => ({ n })),
          { batchSize: 10 },
        ),
        parallel(MODULE, {
          backend: {
            type: 'bullmq',
            connection: { host: '127.0.0.1', port: redis.port },
            queue,
            noWorkerTimeoutMs: 1500,
          },
        }),
        collect(),
        { governor: false },
      ),
      (error: unknown) => {
        assert.ok(error instanceof QueueError, String(error));
        assert.equal(error.code, 'ERR_SPILLWAY_QUEUE');
        assert.equal(error.reason, 'no-workers');
        assert.match(error.message, /spillway worker --queue nobody-home/);
        return true;
      },
    );
    assert.ok(performance.now() - started >= 1400, 'not before the timeout');
    assert.deepEqual(await client.keys(`bull:${queue}:spillway*`), []);
    assert.equal(await client.llen(`bull:${queue}:wait`), 0);
  });

  test('a run stopped by SIGTERM removes its jobs and payloads from Redis', { timeout: 120_000 }, async () => {
    const queue = 'stopped-run';
    const child = spawn(
      process.execPath,
      [...nodeScript('test/fixtures/safety/distributed.ts'), String(redis.port), queue],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exit = once(child, 'exit');
    // until its first payloads are in Redis and their jobs are queued (the payload is written first)
    while (
      (await client.keys(`bull:${queue}:spillway:*`)).length === 0 ||
      (await client.llen(`bull:${queue}:wait`)) === 0
    ) {
      assert.equal(child.exitCode, null, `the run ended early: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok((await client.llen(`bull:${queue}:wait`)) > 0, 'its jobs wait in the queue');
    child.kill('SIGTERM');
    const [, signal] = (await exit) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGTERM', stderr);
    assert.deepEqual(await client.keys(`bull:${queue}:spillway*`), []);
    assert.equal(await client.llen(`bull:${queue}:wait`), 0);
  });
});
