/**
 * isThenable answers as promise resolution does (an object or function with a callable `then`),
 * whatever the shape of the value, spread rows included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isThenable } from '../../../lib/core/thenable.ts';

/** `target` with an own `then` of `value` (built so, not as a literal: a `then` key is a lint error). */
function withThen<T extends object>(target: T, value: unknown): T {
  return Object.defineProperty(target, 'then', { value, enumerable: true });
}

test('isThenable: promises and any object or function with a callable then; nothing else', () => {
  const row = { id: 1, price: 2.5 };
  const callable = () => undefined;
  const yes: unknown[] = [
    Promise.resolve(1),
    withThen({}, callable),
    withThen({ ...row }, callable),
    Object.create(withThen({}, callable)),
    withThen(() => 1, callable),
  ];
  const no: unknown[] = [
    row,
    { ...row, notional: 5 },
    withThen({}, 1),
    withThen({ ...row }, 'later'),
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
