/**
 * isThenable answers as promise resolution does (an object or function with a callable `then`),
 * whatever the shape of the value, spread rows included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isThenable } from '../../../lib/core/thenable.ts';

test('isThenable: promises and any object or function with a callable then; nothing else', () => {
  const row = { id: 1, price: 2.5 };
  const thenFn = Object.assign(() => 1, { then: (resolve: (v: number) => void) => resolve(1) });
  const yes: unknown[] = [
    Promise.resolve(1),
    { then: () => undefined },
    { ...row, then: () => undefined },
    Object.create({ then: () => undefined }),
    thenFn,
  ];
  const no: unknown[] = [
    row,
    { ...row, notional: 5 },
    { then: 1 },
    { ...row, then: 'later' },
    Object.create(null),
    () => 1,
    null,
    undefined,
    0,
    'then',
    Symbol('then'),
  ];
  yes.forEach((value, i) => assert.equal(isThenable(value), true, `thenable ${i}`));
  no.forEach((value, i) => assert.equal(isThenable(value), false, `not thenable ${i}`));
});
