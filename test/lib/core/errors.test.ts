import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FormatError,
  IoError,
  SpillwayError,
  ValidationError,
  ErrorCodes,
  withContext,
} from '../../../lib/core/errors.ts';

test('withContext adds missing context, keeps the error (class, code, cause) and renders the message again', () => {
  const cause = new Error('short read');
  const error = new IoError('Cannot read', { file: 'a.arrow' }, { cause });
  const same = withContext(error, { stage: 'fromArrow', file: 'other.arrow', batch: 3 });
  assert.equal(same, error);
  assert.ok(same instanceof IoError);
  assert.equal(same.code, ErrorCodes.IO);
  assert.equal(same.cause, cause);
  assert.deepEqual(
    same.context,
    { file: 'a.arrow', stage: 'fromArrow', batch: 3 },
    'known fields stay, missing ones are added',
  );
  assert.equal(same.message, 'Cannot read (stage fromArrow, file a.arrow, batch 3)');
  assert.equal(same.detail, 'Cannot read');
  assert.match(same.stack ?? '', /^IoError: Cannot read \(stage fromArrow, file a\.arrow, batch 3\)/);
});

test('withContext adds only what is missing, twice over, and leaves other values alone', () => {
  const error = new FormatError('bad page', { stage: 'fromParquet' });
  withContext(error, { stage: 'outer', file: 'x.parquet' });
  withContext(error, { file: 'y.parquet', row: 7 });
  assert.equal(error.message, 'bad page (stage fromParquet, file x.parquet, row 7)');
  const validation = new ValidationError('Expected `batchSize` to be a positive integer');
  assert.equal(withContext(validation, { stage: 's' }).message, 'Expected `batchSize` to be a positive integer');
  const plain = new TypeError('x');
  assert.equal(withContext(plain, { stage: 's' }), plain);
  assert.equal(plain.message, 'x');
  const context = { file: 'shared.csv' };
  const a = new SpillwayError(ErrorCodes.IO, 'a', context);
  withContext(a, { stage: 'one' });
  assert.deepEqual(context, { file: 'shared.csv' }, "the caller's context object is not changed");
});

test('withContext on an error made without context names the stage once in its stack', () => {
  // the stack is formatted when first read: it must be read before the message changes
  const error = new FormatError('bad value', {});
  withContext(error, { stage: 'topK' });
  assert.equal(error.message, 'bad value (stage topK)');
  assert.equal((error.stack ?? '').split('\n')[0], 'FormatError: bad value (stage topK)');
});
