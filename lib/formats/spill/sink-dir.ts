/**
 * The spill sink's directory: made fresh under the OS temp dir (the directories of dead runs
 * swept first) or taken from the caller (empty, or left by a dead run), owned by this process
 * unless it is to outlive it, and cleared of what an interrupted run wrote after its checkpoint.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SpillError } from '../../core/errors.ts';
import {
  SCRATCH_OWNER,
  markScratchOwner,
  ownerLine,
  scratchOwnerDead,
  sweepScratchBase,
  unmarkScratchOwner,
} from '../../io/temp-files.ts';
import { removeOnExit } from './cleanup.ts';
import { MANIFEST_NAME, SEAL_NAME, writeManifest, type SpillManifest } from './manifest.ts';

/** Names of files a spill writer makes: the manifest, spill files, their temporary files. */
const OWN_FILE =
  /^(manifest\.(json|seal)(\..*\.tmp)?|spill-\d+\.arrow|\.(spill-\d+\.arrow|manifest\.(json|seal))\..*\.tmp|\.owner)$/;

/** A spill directory in use: its path, and whether the sink made it (then it removes it whole). */
export interface SpillDir {
  dir: string;
  createdDir: boolean;
}

function unusable(error: unknown, stage: string, dir: string): SpillError {
  return new SpillError(`Cannot use spill directory: ${(error as Error).message}`, { stage, dir }, { cause: error });
}

/**
 * Makes the spill directory: a fresh one under the OS temp dir when `given` is undefined (the
 * spill directories of dead runs there go first), else `given`, created with mode 0700 or found
 * empty (or holding only what a dead run left, which is removed).
 * @throws SpillError naming the directory when it cannot be made or is in use
 */
export async function createSpillDir(given: string | undefined, stage: string): Promise<SpillDir> {
  if (given === undefined) {
    // the scratch directories (spill, operator, upload) of dead runs under the same base go first
    // (lib/io/temp-files.ts)
    await sweepScratchBase(os.tmpdir());
    try {
      return { dir: await mkdtemp(path.join(os.tmpdir(), 'spillway-spill-')), createdDir: true };
    } catch (error) {
      throw new SpillError(
        `Cannot create a spill directory under ${os.tmpdir()}: ${(error as Error).message}`,
        { stage, dir: os.tmpdir() },
        { cause: error },
      );
    }
  }
  const dir = path.resolve(given);
  try {
    const createdDir = (await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined;
    // what a killed run left in it (its owner file names a dead process) is not in the way
    if (!createdDir && (await scratchOwnerDead(dir))) await removeContents(dir);
    if (!createdDir && (await readdir(dir)).length > 0) throw new Error('it exists and is not empty');
    // claimed at once, exclusively: two runs that both found it empty would both write into it
    try {
      await writeFile(path.join(dir, SCRATCH_OWNER), ownerLine(), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error('another run took it a moment ago');
      // a full disk: the directory this call made goes with it
      if (createdDir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw error;
    }
    return { dir, createdDir };
  } catch (error) {
    throw unusable(error, stage, dir);
  }
}

/**
 * Marks `dir` as this process's (removed at exit, its owner file lets a later run sweep it after
 * a kill). A directory a checkpoint refers to outlives this process on purpose: `owned` false (a
 * kept one is let go when its run has finished).
 */
export function claimSpillDir(dir: string, owned: boolean, stage: string): void {
  if (!owned) {
    unmarkScratchOwner(dir);
    return;
  }
  removeOnExit(dir);
  try {
    markScratchOwner(dir);
  } catch (error) {
    throw unusable(error, stage, dir);
  }
}

/** Empties a directory the caller gave (it existed, empty, before the sink used it). */
export async function removeContents(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.map((n) => rm(path.join(dir, n), { recursive: true, force: true })));
}

/** Removes a run's spill files from `dir` when it holds nothing else (a run killed before its first checkpoint). */
export async function removeOwnFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  if (names.length === 0 || !names.every((n) => OWN_FILE.test(n))) return;
  await Promise.all(names.map((n) => rm(path.join(dir, n), { force: true })));
}

/**
 * Brings a checkpointed spill directory back to its checkpoint: files written after it are
 * removed and the checkpoint's manifest is written again.
 * @throws SpillError naming the directory when it cannot be read
 */
export async function rewindSpillDir(dir: string, manifest: SpillManifest, stage: string): Promise<void> {
  const listed = new Set([MANIFEST_NAME, SEAL_NAME, ...manifest.files.map((f) => f.name)]);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new SpillError(
      `Cannot resume the spill: ${(error as Error).message}; remove the checkpoint to start over`,
      { stage, dir },
      { cause: error },
    );
  }
  // the files the checkpoint counts must be there, whole: resumed over a missing or cut one, the
  // run reported success and left a spill no reader could open (a flipped byte is the reader's:
  // every file carries its CRC)
  for (const file of manifest.files) {
    const size = await stat(path.join(dir, file.name)).then(
      (s) => s.size,
      () => undefined,
    );
    if (size !== file.bytes)
      throw new SpillError(
        `Cannot resume the spill: ${file.name}, which the checkpoint counts, ${size === undefined ? 'is missing' : `has ${size} bytes where the checkpoint says ${file.bytes}`}; remove the checkpoint and the spill directory to start over`,
        { stage, dir, file: file.name },
      );
  }
  // files the interrupted run wrote after its last checkpoint are not part of the output
  await Promise.all(
    names.filter((n) => !listed.has(n)).map((n) => rm(path.join(dir, n), { recursive: true, force: true })),
  );
  await writeManifest(dir, manifest);
}
