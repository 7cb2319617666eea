/**
 * A `spillway worker` SIGKILLed while it runs a batch of each of two runs (issue 19, "fails
 * safe"). The run aborted then must reject with ERR_SPILLWAY_ABORTED at once (not after the dead
 * worker's lock, BullMQ's stalled-job check or the lease), leave no lasting key in Redis, no child
 * process and no unhandled rejection. The run not aborted completes with every row once when a
 * second worker starts (BullMQ's stalled-job check hands it the batch), and that worker skips the
 * aborted run's batch without running it. One victim serves both runs to spare a worker's start.
 * Real redis-server and worker processes; the module records each row it starts in a marker file,
 * which the test polls.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { parallel } from '../../../../transforms/parallel.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { collect } from '../../../../sinks/collect.ts';
import { QueueError } from '../../../../lib/core/errors.ts';
import { childPids, pollUntil, tempDir } from '../../../helpers.ts';
import { skipReason, startRedis, startWorker, type RedisServer, type WorkerProcess } from './helpers.ts';

const MARKER_MODULE = 'test/fixtures/distributed/marker.ts';
const QUEUE = 'killed-worker';
/** An aborted run that takes this long waits for a lock, a stalled-job check or a lease: a hang. */
const BOUND_MS = 20_000;
/** A recovered run that takes this long (a worker's start and a stalled-job check) hangs. */
const RECOVERY_BOUND_MS = 60_000;
// the rescuer checks for stalled jobs often; the victim's lock is short so the check finds it soon
const FAST = ['--lock-duration', '1000', '--stalled-interval', '500'];

/** Lines of a marker file (none before the module wrote one). */
const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];

/** Rejects if `promise` has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the run did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a worker SIGKILLed mid-batch', { skip: skipReason }, () => {
  let redis: RedisServer;
  let client: Redis;
  const workers: WorkerProcess[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    redis = await startRedis();
    client = new Redis({ host: '127.0.0.1', port: redis.port });
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    for (const w of workers) {
      if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGKILL');
      await w.exited;
    }
    client?.disconnect();
    await redis?.stop();
  });

  /** A run of `batches` batches of 10 rows marked `name` on the queue. */
  const start = (name: string, batches: number, signal?: AbortSignal, noWorkerTimeoutMs?: number) => {
    const rows = Array.from({ length: batches * 10 }, (_, n) => ({ run: name, n }));
    const backend = {
      type: 'bullmq' as const,
      connection: { host: '127.0.0.1', port: redis.port },
      queue: QUEUE,
      ...(noWorkerTimeoutMs === undefined ? {} : { noWorkerTimeoutMs }),
    };
    const run = pipeline(
      fromIterable(rows, { batchSize: 10 }),
      parallel(MARKER_MODULE, { backend }),
      collect(),
      signal === undefined ? { governor: false } : { signal, governor: false },
    );
    run.catch(() => {});
    return { rows, run };
  };

  /** Waits until the marker shows a row of run `name` started; resolves with the run's id (its lease key is the new one). */
  async function taken(marker: string, name: string, known: string[], victim: WorkerProcess): Promise<string> {
    const seen = await pollUntil(
      async () => lines(marker),
      (l) => l.some((line) => line.startsWith(`${name} `)),
      60_000,
    );
    assert.ok(
      seen.some((line) => line.startsWith(`${name} `)),
      `no batch of ${name} was taken: ${victim.stderr()}`,
    );
    const leases = (await client.keys(`bull:${QUEUE}:spillway:*:alive`)).map((key) => key.split(':')[3]!);
    const fresh = leases.filter((id) => !known.includes(id));
    assert.equal(fresh.length, 1, leases.join(', '));
    return fresh[0]!;
  }

  test('aborted: rejects at once and leaves nothing; deserted: fails once no worker is alive; not aborted: a second worker completes it, every row once', async () => {
    const dir = tempDir();
    const victimMarker = join(dir, 'victim.txt');
    const rescuerMarker = join(dir, 'rescuer.txt');
    // two slots, each blocking on the first row it runs; the default lock would do for the abort,
    // a short one lets the rescuer recover the batch soon
    const victim = startWorker(
      ['--redis', redis.url, '--queue', QUEUE, '--module', MARKER_MODULE, '--concurrency', '3', ...FAST],
      { SPILLWAY_TEST_MARKER: victimMarker, SPILLWAY_TEST_HANG: '1' },
    );
    workers.push(victim);
    await victim.ready;
    const childrenBefore = childPids().filter((pid) => pid !== victim.process.pid);

    const controller = new AbortController();
    const aborted = start('aborted', 1, controller.signal);
    const abortedId = await taken(victimMarker, 'aborted', [], victim);
    // a run that waits no longer than 1.5 s with nothing taken or finished (before the 4-batch
    // run, whose later batches would otherwise take the last slot)
    const deserted = start('deserted', 1, undefined, 1500);
    const desertedId = await taken(victimMarker, 'deserted', [abortedId], victim);
    const recovered = start('recovered', 4);
    const recoveredId = await taken(victimMarker, 'recovered', [abortedId, desertedId], victim);
    assert.equal(lines(victimMarker).length, 3, 'one row started in each slot');
    victim.process.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');

    const started = Date.now();
    controller.abort(new Error('user cancelled'));
    await assert.rejects(within(aborted.run, BOUND_MS), { code: 'ERR_SPILLWAY_ABORTED' });
    const ms = Date.now() - started;
    assert.ok(ms < BOUND_MS, `settled after ${ms} ms`);
    assert.deepEqual(await client.keys(`bull:${QUEUE}:spillway:${abortedId}:*`), [], 'its payload and lease are gone');
    assert.equal(await client.sismember(`bull:${QUEUE}:spillway-runs`, abortedId), 0, 'the run is unlisted');
    // the job the dead worker holds cannot be removed while its lock lasts: left to the next worker
    assert.deepEqual((await client.keys(`*${abortedId}*`)).sort(), [
      `bull:${QUEUE}:${abortedId}-0`,
      `bull:${QUEUE}:${abortedId}-0:lock`,
    ]);
    assert.deepEqual(
      childPids().filter((pid) => !childrenBefore.includes(pid)),
      [],
      'no child process left',
    );

    // no worker is left (the victim's place in the presence set lapses with its 1 s lock): the
    // deserted run fails instead of waiting for a worker that may never come
    await assert.rejects(within(deserted.run, BOUND_MS), (error: unknown) => {
      assert.ok(error instanceof QueueError, String(error));
      assert.equal(error.reason, 'no-workers');
      assert.match(error.message, /Every worker serving queue killed-worker .* is gone/);
      return true;
    });
    assert.deepEqual(await client.keys(`bull:${QUEUE}:spillway:${desertedId}:*`), [], 'its payload and lease are gone');

    const rescuer = startWorker(['--redis', redis.url, '--queue', QUEUE, '--module', MARKER_MODULE, ...FAST], {
      SPILLWAY_TEST_MARKER: rescuerMarker,
    });
    workers.push(rescuer);
    const { output, stats } = await within(recovered.run, RECOVERY_BOUND_MS);
    assert.deepEqual(output, recovered.rows);
    const details = (stats.stages.find((s) => s.name === 'parallel')?.details ?? {}) as Record<string, number>;
    assert.ok((details.stalled ?? 0) >= 1, `the batch was not recovered as stalled: ${JSON.stringify(details)}`);
    assert.deepEqual(await client.keys(`*${recoveredId}*`), [], 'no key or job of the completed run');
    // the rescuer took the aborted run's job off too, without running it; the recovered rows ran once
    assert.deepEqual(
      await pollUntil(
        async () => [...(await client.keys(`*${abortedId}*`)), ...(await client.keys(`*${desertedId}*`))],
        (keys) => keys.length === 0,
      ),
      [],
    );
    assert.deepEqual(lines(rescuerMarker).sort(), recovered.rows.map((r) => `recovered ${r.n}`).sort());
    rescuer.process.kill('SIGTERM');
    assert.equal(await rescuer.exited, 0, rescuer.stderr());
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], 'unhandled rejections');
  });
});
