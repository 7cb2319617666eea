/**
 * The temporary tree of a partitioned write and its commit: the target checked and the temporary
 * directory made before the first file, then on success renamed over the target (or, with
 * `existing: 'append'`, its files moved in), so a reader sees the previous tree or the new one,
 * never half of one.
 */
import { mkdir, rename, rm, stat, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IoError } from '../core/errors.ts';
import type { CommitPoint } from '../io/commit-point.ts';
import type { PartitionFiles } from './partition-files.ts';
import type { PartitionSettings, PartitionedResult } from './partition-options.ts';
import { comparePaths } from './path-order.ts';

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** What the sink and its checkpoint hooks share: the target and whether a failed run keeps the temporary tree. */
export interface PartitionedTarget {
  readonly dir: string;
  readonly name: string;
  readonly settings: PartitionSettings;
  readonly files: PartitionFiles;
  /** A checkpoint refers to the temporary tree: a failed run leaves it for a resumed run. */
  keep: boolean;
  /** The target checked and the temporary directory made (once, before the first file). */
  started: Promise<void> | undefined;
}

/** Refuses an existing target under `existing: 'error'`, and makes the temporary directory. */
export async function startTree(target: PartitionedTarget): Promise<void> {
  const { dir, name, settings, files } = target;
  if (settings.existing === 'error' && (await exists(dir)))
    throw new IoError("The target directory exists (options.existing is 'error')", { stage: name, dir });
  await mkdir(files.temp, { recursive: true });
}

/** Puts the temporary tree in place: renamed over the target, or its files moved in (append). */
async function commitTree(target: PartitionedTarget, point: CommitPoint | undefined): Promise<void> {
  const { dir, name, settings, files } = target;
  const temp = files.temp;
  point?.enter(dir);
  if (settings.existing === 'append' && (await exists(dir))) {
    for (const rel of files.files) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await rename(join(temp, rel), join(dir, rel));
    }
    await rm(temp, { recursive: true, force: true });
    return;
  }
  if (await exists(dir)) {
    if (settings.existing === 'error')
      throw new IoError("The target directory appeared while writing (options.existing is 'error')", {
        stage: name,
        dir,
      });
    const old = join(dirname(dir), `.${basename(dir)}.old-${files.runId}`);
    await rename(dir, old);
    await rename(temp, dir);
    await rm(old, { recursive: true, force: true });
    return;
  }
  await rename(temp, dir);
}

/** Closes the open files, commits the tree and describes it. */
export async function finishTree(target: PartitionedTarget, point?: CommitPoint): Promise<PartitionedResult> {
  const { dir, name, files } = target;
  await files.closeAll();
  try {
    await commitTree(target, point);
  } catch (error) {
    await rm(files.temp, { recursive: true, force: true });
    throw error instanceof IoError
      ? error
      : new IoError(
          `Cannot commit the partitioned tree: ${(error as Error).message}`,
          { stage: name, dir },
          { cause: error },
        );
  }
  const written = [...files.files].sort(comparePaths);
  let bytes = 0;
  for (const rel of written) bytes += (await stat(join(dir, rel))).size;
  const partitions = new Set(written.map((f) => dirname(f))).size;
  return { path: dir, rows: files.rows, bytes, files: written, partitions, rotations: files.rotations };
}

/** Lists the files of a written tree (sorted, relative), for tests and `inspect`. */
export async function listTree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
    const child = rel === '' ? entry.name : join(rel, entry.name);
    if (entry.isDirectory()) out.push(...(await listTree(dir, child)));
    else out.push(child);
  }
  return out.sort(comparePaths);
}
