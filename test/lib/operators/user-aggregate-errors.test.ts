/**
 * A user-defined aggregate that throws fails the run with a coded StageError naming its output
 * column and function, as a throwing `map` does (it was the bare Error, no code, no aggregate),
 * and a state a spill file cannot hold (a function inside) is a coded UnsupportedError (it was
 * V8's bare DataCloneError).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline, fromIterable, groupBy, collect, ErrorCodes, type Aggregate } from 'spillway';

const rows = Array.from({ length: 5000 }, (_, i) => ({ k: i % 500, v: i % 37 }));

test("a user aggregate's add or finish that throws is a StageError naming the aggregate and the function", async () => {
  const cases: [string, Aggregate<number, number>][] = [
    [
      'add',
      {
        init: () => 0,
        add: (s, r) => {
          if ((r as { v: number }).v === 36) throw new Error('add boom');
          return s + 1;
        },
        merge: (a, b) => a + b,
        finish: (s) => s,
      },
    ],
    [
      'finish',
      {
        init: () => 0,
        add: (s) => s + 1,
        merge: (a, b) => a + b,
        finish: () => {
          throw new Error('finish boom');
        },
      },
    ],
  ];
  for (const [step, aggregate] of cases)
    await assert.rejects(
      pipeline(fromIterable(rows), groupBy('k', { c: aggregate }), collect()),
      (error: Error & { code?: string; cause?: unknown }) => {
        assert.equal(error.code, ErrorCodes.STAGE, step);
        assert.match(error.message, new RegExp(`aggregate \`c\` threw in ${step}\\(\\): ${step} boom`));
        assert.match(error.message, /stage groupBy/);
        assert.equal((error.cause as Error).message, `${step} boom`);
        return true;
      },
    );
});

test('a state a spill file cannot hold is a coded UnsupportedError, not a bare DataCloneError', async () => {
  const withFunction: Aggregate<{ f: () => number; n: number }, number> = {
    init: () => ({ f: () => 1, n: 0 }),
    add: (a) => {
      a.n++;
      return a;
    },
    merge: (a, b) => {
      a.n += b.n;
      return a;
    },
    finish: (a) => a.n,
  };
  await assert.rejects(
    pipeline(fromIterable(rows), groupBy('k', { c: withFunction }, { budget: '2kB' }), collect()),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, ErrorCodes.UNSUPPORTED);
      assert.match(error.message, /cannot be written to a spill file/);
      return true;
    },
  );
});
