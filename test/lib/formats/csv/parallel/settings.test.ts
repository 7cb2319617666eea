/** Parser threads by default: the cores left after the main thread and an encoder thread, at most 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultThreads } from '../../../../../lib/formats/csv/parallel/settings.ts';

test('no parser thread on 1 or 2 cores (the main thread parses, the second core encodes); one on 3; two from 4', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 8].map((cores) => defaultThreads(cores)),
    [0, 0, 1, 2, 2],
  );
});
