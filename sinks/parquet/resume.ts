/**
 * Checkpoint hooks of `toParquet`: commit snapshots the writer's last complete row group, resume
 * reopens the temporary file there (or removes a file that had no complete row group yet).
 */
import { unlink } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type { ParquetWriterState } from '../../lib/formats/parquet/writer.ts';
import type { CheckpointJson, SinkCheckpointHooks } from '../../lib/observe/checkpoint.ts';
import { ParquetSinkWriter, fileWriterModule } from './writer.ts';

/** The checkpoint hooks that let `pipeline(..., { checkpoint })` commit and continue `sink`. */
export function parquetCheckpoint(sink: ParquetSinkWriter): SinkCheckpointHooks {
  return {
    identity: {
      sink: ParquetSinkWriter.stage,
      path: resolvePath(sink.path),
      options: JSON.parse(JSON.stringify(sink.options ?? {})) as CheckpointJson,
    },
    async commit() {
      try {
        // the writer snapshots synchronously (writes go on during the fsync)
        const w = sink.current;
        if (w === undefined) return { rows: 0, state: null };
        const state = await w.checkpoint();
        // before the first complete row group nothing is committed; the temporary file is named so a resumed run removes it
        return {
          rows: state?.rows ?? 0,
          state: (state ?? { tempPath: w.tempPath, empty: true }) as unknown as CheckpointJson,
        };
      } catch (error) {
        throw sink.withStage(error);
      }
    },
    async resume(state) {
      const s = state as unknown as ParquetWriterState | { tempPath: string; empty: true } | null;
      if (s === null) return;
      if ('empty' in s) {
        await unlink(s.tempPath).catch(() => undefined);
        return;
      }
      try {
        const { ParquetFileWriter } = await fileWriterModule.load();
        sink.adopt(await ParquetFileWriter.resume(sink.path, sink.options, s));
      } catch (error) {
        throw sink.withStage(error);
      }
    },
    keep(on) {
      sink.keepForResume = on;
    },
  };
}
