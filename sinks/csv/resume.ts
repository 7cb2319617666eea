/**
 * Checkpoint hooks of `toCsv`: commit syncs the temporary file and records its length with the
 * rows and columns written; resume truncates it there and goes on. Streams and gzip refuse.
 */
import { resolve as resolvePath } from 'node:path';
import type { CheckpointJson, SinkCheckpointHooks } from '../../lib/observe/checkpoint.ts';
import { CsvSinkWriter, type CsvProgress } from './writer.ts';

/** The checkpoint hooks that let `pipeline(..., { checkpoint })` commit and continue `sink`. */
export function csvCheckpoint(sink: CsvSinkWriter): SinkCheckpointHooks {
  const { path, gzip, opts } = sink.settings;
  return {
    identity: {
      sink: CsvSinkWriter.stage,
      path: path === undefined ? null : resolvePath(path),
      options: JSON.parse(JSON.stringify(opts)) as CheckpointJson,
    },
    refuse:
      path === undefined
        ? 'toCsv writes to a stream, which cannot be continued after a crash'
        : gzip
          ? 'toCsv cannot continue a gzip stream after a crash; write plain CSV (and compress it afterwards)'
          : undefined,
    async commit() {
      // nothing written yet: nothing to commit
      const state = await sink.sync();
      if (state === null) return { rows: 0, state: null };
      return { rows: state.rows, state: state as unknown as CheckpointJson };
    },
    async resume(state) {
      if (state === null) return;
      const s = state as unknown as CsvProgress & { tempPath: string; length: number };
      await sink.restore({ tempPath: s.tempPath, length: s.length }, s);
    },
    keep(on) {
      sink.keepForResume = on;
    },
  };
}
