/**
 * A CSV parser thread's entry: parses the ranges the main thread posts, one at a time, in the
 * order they come, and posts each range's batches back with their buffers transferred. Says
 * `{ ready: true }` once loaded.
 */
import { parentPort } from 'node:worker_threads';
import { runRangeTask, type RangeTask } from './task.ts';

const port = parentPort!;
port.on('message', (task: RangeTask) => {
  const { reply, transfer } = runRangeTask(task);
  port.postMessage(reply, transfer);
});
// loaded: the main thread gives this thread ranges from now on (it parses them itself until then)
port.postMessage({ ready: true });
