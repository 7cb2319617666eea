/**
 * A join's right input given as a stage or a chain of stages is a stream, read once: handed to a
 * second join, it gave no rows, and the join's output was silently wrong (a left join all nulls,
 * an inner join empty). It is now refused, as a pipeline refuses a stage a run took before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline, fromIterable, join, collect, select, ErrorCodes } from 'spillway';

const left = () => [{ id: 1 }, { id: 2 }, { id: 3 }];
const rightRows = [
  { id: 1, n: 'n1' },
  { id: 2, n: 'n2' },
  { id: 3, n: 'n3' },
];

test('a right source stage read by one join is refused by the next, with a coded error naming it', async () => {
  const right = fromIterable(rightRows);
  const first = await pipeline(fromIterable(left()), join(right, { on: 'id', how: 'left' }), collect());
  assert.deepEqual(
    first.output.map((r) => (r as { n: string }).n),
    ['n1', 'n2', 'n3'],
  );
  await assert.rejects(
    pipeline(fromIterable(left()), join(right, { on: 'id', how: 'left' }), collect()),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, ErrorCodes.INVALID_OPTION);
      assert.match(error.message, /stage 1 \(fromIterable\) was used in a pipeline before/);
      return true;
    },
  );
});

test('a right chain read by one join is refused by the next', async () => {
  const chain = [fromIterable(rightRows), select(['id', 'n'])];
  const first = await pipeline(fromIterable(left()), join(chain, { on: 'id' }), collect());
  assert.equal(first.output.length, 3);
  await assert.rejects(
    pipeline(fromIterable(left()), join(chain, { on: 'id' }), collect()),
    /join\(right\): stage 1 \(fromIterable\) was used in a pipeline before/,
  );
});

test('a right source that ran in a pipeline of its own is refused too', async () => {
  const right = fromIterable(rightRows);
  await pipeline(right, collect());
  await assert.rejects(
    pipeline(fromIterable(left()), join(right, { on: 'id' }), collect()),
    /was used in a pipeline before/,
  );
});
