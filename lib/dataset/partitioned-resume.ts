/**
 * Checkpoint/resume of a partitioned write. A commit takes every open file out of use at once
 * (partition-files.ts, `detach`): each is finished as the format finishes a single file, and
 * later rows of its partition go on in the partition's next file. So at each checkpoint every row
 * received so far lies in a complete file, and the state is only the list of complete files
 * (with their sizes), the file counter of each partition, the rows and the run id. Why not
 * continue each open file inside itself: the committed rows of the partitions would then not be
 * a prefix of the rows received (a Parquet file commits whole row groups), which the
 * checkpoint's single resume point cannot express; the cost is a new file per open partition
 * per checkpoint (fewer with a longer `intervalMs`).
 *
 * A checkpointed run writes its temporary tree under a fixed name beside the target
 * (`.<name>.tmp-checkpoint`), so a run that is killed before its first checkpoint leaves a tree
 * the next run removes, and a resumed run finds the tree to continue. On resume, what the killed
 * run wrote after its checkpoint (files not in the list, temporary files of its single-file
 * sinks) is removed; a listed file that is missing or of another size is refused.
 */
import { open, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from '../core/errors.ts';
import type { CheckpointJson, SinkCheckpointHooks } from '../observe/checkpoint.ts';
import type { PartitionFormat } from './partition-options.ts';
import { exists, listTree, startTree, type PartitionedTarget } from './partition-tree.ts';

/** A partitioned write's resume state, as written in checkpoint.json. */
interface TreeState {
  temp: string;
  runId: string;
  /** Files opened per partition key. */
  parts: Array<[string, number]>;
  /** The complete files, relative to `temp`, with their sizes. */
  files: Array<[string, number]>;
  rows: number;
  rotations: number;
}

/** The temporary tree of a checkpointed write to `dir`. */
export function checkpointTemp(dir: string): string {
  return join(dirname(dir), `.${basename(dir)}.tmp-checkpoint`);
}

/** fsyncs a file or a directory. */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Why a partitioned write with `existing: 'append'` cannot be checkpointed: its files move into
 * the target (or upload) after the checkpoint is gone, so a run killed meanwhile would add them
 * all again when rerun, with nothing to tell which went.
 */
export function appendRefusal(sink: string, target: string): string {
  return `${sink} with existing: 'append' cannot be checkpointed: a run killed while its files move into ${target} would append them again when rerun; write a new tree and move it, or run without a checkpoint`;
}

/** The checkpoint hooks of the partitioned sink writing `target`. */
export function partitionedCheckpoint(target: PartitionedTarget, format: PartitionFormat): SinkCheckpointHooks {
  const files = target.files;
  const { partitionBy, fileName, existing } = target.settings;
  /** Sizes of the files already made durable by an earlier commit. */
  const durable = new Map<string, number>();
  const restart = async (): Promise<void> => {
    // what a run killed before its first checkpoint left
    files.temp = checkpointTemp(target.dir);
    await rm(files.temp, { recursive: true, force: true });
  };
  return {
    identity: {
      sink: target.name,
      path: resolve(target.dir),
      partitionBy,
      fileName,
      existing,
      options: format.options ?? null,
    },
    refuse: existing === 'append' ? appendRefusal(target.name, target.dir) : undefined,
    restart,
    async commit() {
      if (target.started === undefined) return { rows: files.rows, state: null };
      // the snapshot, synchronously: writes go on (into new files) while the detached ones finish
      const finishing = files.detach();
      const rels = [...files.files];
      const state = {
        temp: files.temp,
        runId: files.runId,
        parts: [...files.parts],
        rows: files.rows,
        rotations: files.rotations,
      };
      await target.started;
      await finishing;
      const sized = await makeDurable(files.temp, rels, durable);
      return { rows: state.rows, state: { ...state, files: sized } as unknown as CheckpointJson };
    },
    async resume(json) {
      if (json === null) return restart();
      const state = json as unknown as TreeState;
      files.temp = state.temp;
      files.runId = state.runId;
      files.parts = new Map(state.parts);
      files.files = state.files.map(([rel]) => rel);
      files.rows = state.rows;
      files.rotations = state.rotations;
      for (const [rel, size] of state.files) durable.set(rel, size);
      target.started = restoreTree(target, state);
      await target.started;
    },
    keep(on) {
      target.keep = on;
    },
  };
}

/** fsyncs the files not yet durable and the directories holding them; returns every file with its size. */
async function makeDurable(
  temp: string,
  rels: readonly string[],
  durable: Map<string, number>,
): Promise<Array<[string, number]>> {
  const dirs = new Set<string>();
  for (const rel of rels) {
    if (durable.has(rel)) continue;
    const path = join(temp, rel);
    await fsyncPath(path);
    durable.set(rel, (await stat(path)).size);
    for (let d = dirname(rel); d !== '.' && d !== ''; d = dirname(d)) dirs.add(join(temp, d));
  }
  for (const dir of dirs) await fsyncPath(dir);
  await fsyncPath(temp);
  await fsyncPath(dirname(temp));
  return rels.map((rel) => [rel, durable.get(rel)!]);
}

/**
 * Readies the temporary tree a checkpoint names: refuses an existing target under
 * `existing: 'error'` and a tree whose listed files are gone or changed, and removes what the
 * killed run wrote after the checkpoint.
 */
async function restoreTree(target: PartitionedTarget, state: TreeState): Promise<void> {
  const { temp } = state;
  const fail = (why: string): never => {
    throw new CheckpointError(
      `Cannot resume the partitioned write to ${target.dir}: ${why}; remove the checkpoint to start over`,
      { stage: target.name, dir: target.dir },
    );
  };
  if (!(await exists(temp))) return fail(`its temporary tree ${temp} is gone`);
  const listed = new Map(state.files);
  // force: a failed run in this process may still be removing its own temporary files
  for (const rel of await listTree(temp)) if (!listed.has(rel)) await rm(join(temp, rel), { force: true });
  for (const [rel, size] of state.files) {
    const now = await stat(join(temp, rel)).catch(() => undefined);
    if (now?.size !== size) fail(`${rel} ${now === undefined ? 'is gone' : 'changed size'} since the checkpoint`);
  }
  await removeEmptyDirs(temp, true);
  // what a fresh run checks before its first file (the target must still be absent under 'error')
  await startTree(target);
}

/** Removes the empty directories under `dir` (and `dir` itself unless `keepRoot`); true when `dir` ended empty. */
async function removeEmptyDirs(dir: string, keepRoot = false): Promise<boolean> {
  let empty = true;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && (await removeEmptyDirs(join(dir, entry.name)))) continue;
    empty = false;
  }
  if (empty && !keepRoot) await rmdir(dir);
  return empty;
}
