/** rejectUnknownOptions: unknown keys refused with the closest known key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestKey, rejectUnknownOptions } from '../../lib/strict-options.ts';
import { ErrorCodes, type ValidationError } from '../../index.ts';

test('an unknown key is a ValidationError naming it, where, and the closest known key', () => {
  const known = ['batchSize', 'concurrency', 'rowGroupSize'];
  assert.throws(() => rejectUnknownOptions({ concurency: 4 }, known, 'map options'), (e: ValidationError) => e.code === ErrorCodes.INVALID_OPTION && e.message === 'Unknown option `concurency` in map options; did you mean `concurrency`?');
  assert.throws(() => rejectUnknownOptions({ rowGroupsize: 1 }, known, 'toParquet options'), /did you mean `rowGroupSize`\?/);
  assert.throws(() => rejectUnknownOptions({ batch_size: 1 }, known, 'x'), /did you mean `batchSize`\?/);
  assert.throws(() => rejectUnknownOptions({ colour: 1 }, known, 'x'), (e: Error) => !/did you mean/.test(e.message));
});

test('known keys and keys set to undefined pass', () => {
  assert.doesNotThrow(() => rejectUnknownOptions({ batchSize: 1, other: undefined }, ['batchSize'], 'x'));
  assert.equal(closestKey('zzzzzz', ['batchSize']), undefined);
});
