/**
 * Checkpoint/resume for fromParquet: the checkpoint hooks, and where a resumed run starts. The
 * state is the rows delivered so far: a resumed read skips the row groups before that row
 * without decoding them (the readers take the start; see read/batch-reader.ts).
 */
import { resolve as resolvePath } from 'node:path';
import type { SourceCheckpointHooks } from '../../../observe/checkpoint.ts';
import type { ParquetCounters, ParquetStart } from './batch-reader.ts';
import type { ParquetPlan } from './options.ts';

/** The checkpoint side of a fromParquet source. */
export class ParquetResume {
  /** Where this run starts (the file's start unless resuming). */
  start: ParquetStart = { rows: 0, index: 0 };
  readonly hooks: SourceCheckpointHooks;

  constructor(plan: ParquetPlan, counters: ParquetCounters) {
    const { path, columns, batchSize, int64, output } = plan;
    this.hooks = {
      identity: {
        source: 'fromParquet',
        file: resolvePath(path),
        columns: columns ?? null,
        batchSize: batchSize ?? null,
        int64: int64 ?? null,
        ...(output === 'arrow' ? { output } : {}),
      },
      file: path,
      state: (position, rowsThrough) => ({ rows: rowsThrough, index: position.index + 1 }),
      resume: (state) => {
        const { rows, index } = state as { rows: number; index: number };
        this.start = { rows, index };
        counters.rowsRead = rows;
      },
    };
  }
}
