/**
 * One run per checkpoint directory. Two runs resuming one checkpoint at once both skip to the
 * same row and both append after it, so the output holds rows twice while one run reports
 * success. A run holds `lock` (its `PID START` owner line, created exclusively) from its start to
 * its end; a lock whose owner is dead (a run killed, whose checkpoint is there to resume) is taken
 * over by moving it aside first: a rename is atomic, so of two runs taking over one lock, one
 * gets it and the other finds the winner's lock.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError } from '../core/errors.ts';
import { ownerAlive, ownerLine, parseOwner } from '../io/temp-files.ts';

/** Name of the lock file in a checkpoint directory. */
export const CHECKPOINT_LOCK = 'lock';

/** Takes the lock of checkpoint directory `dir`; throws CheckpointError while a live run holds it. */
export async function lockCheckpoint(dir: string): Promise<void> {
  const file = path.join(dir, CHECKPOINT_LOCK);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(file, ownerLine(), { flag: 'wx', mode: 0o600 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotLock(dir, error);
    }
    const owner = await readOwner(file);
    if (owner === 'gone') continue;
    if (owner !== undefined && ownerAlive(owner)) throw inUse(dir, owner.pid);
    // a dead run's lock (or one cut short as it was written): moved aside, then checked again
    const aside = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(file, aside);
    } catch {
      continue;
    }
    const moved = await readOwner(aside);
    if (moved !== 'gone' && moved !== undefined && ownerAlive(moved)) {
      // the lock of a run that took it over a moment ago: given back
      await link(aside, file).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
      throw inUse(dir, moved.pid);
    }
    await unlink(aside).catch(() => undefined);
  }
  throw cannotLock(dir, new Error('other runs kept taking it'));
}

/** Gives the lock of `dir` up (the run ended); never throws. */
export async function unlockCheckpoint(dir: string): Promise<void> {
  const file = path.join(dir, CHECKPOINT_LOCK);
  const owner = await readOwner(file);
  if (owner !== 'gone' && owner?.pid === process.pid) await unlink(file).catch(() => undefined);
}

async function readOwner(file: string): Promise<ReturnType<typeof parseOwner> | 'gone'> {
  try {
    return parseOwner((await readFile(file, 'utf8')).trim());
  } catch {
    return 'gone';
  }
}

function inUse(dir: string, pid: number): CheckpointError {
  return new CheckpointError(
    `The checkpoint in ${dir} is in use by the run of process ${pid}: two runs of one checkpoint would write the same rows twice. Wait for it to end, or stop it`,
    { dir },
  );
}

function cannotLock(dir: string, error: unknown): CheckpointError {
  return new CheckpointError(
    `Cannot lock the checkpoint directory: ${(error as Error).message}`,
    { dir },
    { cause: error },
  );
}
