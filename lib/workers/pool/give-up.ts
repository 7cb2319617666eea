/**
 * A batch that failed for good goes to the dead-letter file, one line per row naming the stage,
 * the failure and the attempts (see lib/io/dead-letter.ts); the pipeline goes on without its rows.
 */
import { logger } from '../../core/log.ts';
import type { DeadLetterFile } from '../../io/dead-letter.ts';
import type { WorkerFailure } from './pool-worker.ts';
import type { Task } from './pool-task.ts';

const debug = logger('pool');

/** Writes `task`'s input rows to `file` and resolves with how many, once they are written. */
export async function deadLetterTask(file: DeadLetterFile, task: Task, failure: WorkerFailure): Promise<number> {
  const rows = Array.isArray(task.input) ? task.input : task.input.rows();
  for (let row = 0; row < rows.length; row++) {
    file.append({
      stage: 'parallel',
      reason: failure.message,
      code: failure.reason,
      batch: task.taskId,
      attempts: task.attempts,
      row,
      data: rows[row],
    });
  }
  await file.ready();
  debug('batch %d: %d row(s) dead-lettered to %s', task.taskId, rows.length, file.path);
  return rows.length;
}
