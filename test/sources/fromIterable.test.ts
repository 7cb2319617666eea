/**
 * fromIterable: what a user's generator throws is a coded StageError naming the source and the
 * row it was making, with the thrown value as its cause; a spillway error and an abort's reason
 * pass through as they are. (Until 2026-12-07 a throwing generator gave the bare, uncoded error.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline, fromIterable, map, collect, ErrorCodes } from '../../index.ts';
import { FormatError } from '../../lib/core/errors.ts';
import type { SpillwayError } from '../../index.ts';

async function failure(run: Promise<unknown>): Promise<SpillwayError> {
  try {
    await run;
  } catch (error) {
    return error as SpillwayError;
  }
  assert.fail('the pipeline succeeded');
}

test('a throwing sync or async generator, or one throwing a non-Error, is a StageError naming the row', async () => {
  const boom = new RangeError('boom');
  function* sync() {
    for (let i = 0; i < 2500; i++) yield { i };
    throw boom;
  }
  async function* later() {
    yield { i: 0 };
    throw boom;
  }
  function* text(): Generator<{ i: number }> {
    yield* [];
    throw 'not an Error';
  }
  for (const [what, rows, row] of [
    ['sync', sync(), 2500],
    ['async', later(), 1],
  ] as const) {
    const error = await failure(
      pipeline(
        fromIterable(rows, { batchSize: 1000 }),
        map((r) => r),
        collect(),
      ),
    );
    assert.equal(error.code, ErrorCodes.STAGE, what);
    assert.equal(error.cause, boom, what);
    assert.deepEqual(error.context, { stage: 'fromIterable', row }, what);
    assert.match(error.message, /^fromIterable: the iterable threw: boom/, what);
  }
  const error = await failure(pipeline(fromIterable(text(), { name: 'grid' }), collect()));
  assert.equal(error.code, ErrorCodes.STAGE);
  assert.match(error.message, /^grid: the iterable threw: not an Error/);
});

test("a spillway error from the iterable and an abort's reason pass through unwrapped", async () => {
  const own = new FormatError('bad spill', { file: 'x.arrow' });
  function* spilled() {
    yield { i: 0 };
    throw own;
  }
  assert.equal(await failure(pipeline(fromIterable(spilled()), collect())), own);

  const controller = new AbortController();
  async function* slow() {
    yield { i: 0 };
    await new Promise((resolve) => setTimeout(resolve, 60_000).unref());
  }
  setTimeout(() => controller.abort(), 50);
  const aborted = await failure(pipeline(fromIterable(slow()), collect(), { signal: controller.signal }));
  assert.equal(aborted.code, ErrorCodes.ABORTED);
});
