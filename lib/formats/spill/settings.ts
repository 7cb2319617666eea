/**
 * What a spill sink is configured with, and the identity a checkpoint records for it: apart from
 * the sink's state so that `toSpill` can answer both before the spill code (and apache-arrow)
 * loads with the first batch.
 */
import path from 'node:path';
import type { CheckpointJson } from '../../observe/checkpoint.ts';

/** What a spill sink was configured with (validated options and the shares derived from them). */
export interface SpillSettings {
  /** Bytes the sink may hold, all shares included. */
  budget: number;
  compression: 'lz4' | 'zstd' | 'none';
  fileSize: number;
  /** The directory the caller gave, if any. */
  dir: string | undefined;
  keep: boolean;
  /** Bytes on their way to disk (the writer's window). */
  inFlight: number;
  cacheBytes: number;
  /** What memory-resident batches may take: the budget less what is on its way to disk. */
  residentBudget: number;
  window: number | undefined;
}

/** What a checkpoint records to recognise a spill sink with `settings`. */
export function spillIdentity(settings: SpillSettings): CheckpointJson {
  const { dir, compression, fileSize, keep } = settings;
  return { sink: 'toSpill', dir: dir === undefined ? null : path.resolve(dir), compression, fileSize, keep };
}
