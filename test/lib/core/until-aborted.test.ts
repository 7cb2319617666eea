/** untilAborted: a source read until a signal aborts, without waiting on a next() that never settles. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { untilAborted } from '../../../lib/core/until-aborted.ts';

async function* counting(n: number, log: string[]): AsyncGenerator<number> {
  try {
    for (let i = 0; i < n; i++) yield i;
  } finally {
    log.push('cleaned up');
  }
}

test('yields every item of a source that ends, and its cleanup runs', async () => {
  const log: string[] = [];
  const seen: number[] = [];
  for await (const i of untilAborted(counting(5, log), new AbortController().signal, 'the source')) seen.push(i);
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.deepEqual(log, ['cleaned up']);
});

test('a consumer that stops early waits for the source to clean up', async () => {
  const log: string[] = [];
  for await (const i of untilAborted(counting(5, log), new AbortController().signal, 'the source')) if (i === 1) break;
  assert.deepEqual(log, ['cleaned up']);
});

test('an abort while next() never settles throws an AbortError naming the source at once', async () => {
  const controller = new AbortController();
  const stalled: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => undefined) }),
  };
  setImmediate(() => controller.abort(new Error('stop')));
  await assert.rejects(
    (async () => {
      for await (const _ of untilAborted(stalled, controller.signal, 'the right input'));
    })(),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_SPILLWAY_ABORTED');
      assert.match(error.message, /the right input was aborted/);
      return true;
    },
  );
});

test('a signal aborted before the first item throws before reading', async () => {
  const log: string[] = [];
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(async () => {
    for await (const _ of untilAborted(counting(3, log), controller.signal, 'the source'));
  }, /the source was aborted/);
});
