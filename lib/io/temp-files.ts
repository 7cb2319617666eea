/**
 * Temporary-file hygiene: who owns a temporary output or scratch directory, and removing those of
 * processes that died without cleaning up (SIGKILL, power loss, a crash).
 *
 * Every temporary output is named `.NAME.PID-START-RAND.tmp` beside its final path: the owner's
 * pid and its start time (field 22 of /proc/PID/stat; `x` where the platform does not tell it),
 * so a pid reused by another process is not mistaken for the owner. The name is the lock: no
 * extra file appears beside the user's outputs. Scratch directories (`spillway-spill-*`,
 * `spillway-op-*`, `spillway-upload-*`) hold the same `PID START` line in `.owner`. The first time
 * a process touches a directory it sweeps it (as Postgres does at start-up, or Dask with its
 * work-space locks): temporary files and scratch directories whose owner is dead go. Never removed: files of a live owner, files whose owner cannot be told (no pid in
 * the name), and temporary files a checkpoint refers to (marked with a `.keep` file beside them
 * until the resumed run commits them).
 */
import { readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { nodeCrypto } from '../core/crypto.ts';
import { basename, dirname, join, resolve } from 'node:path';
import { logger } from '../core/stage.ts';

const debug = logger('temp');

/** A process as its files record it: pid, and start time when the platform tells it (Linux). */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22); undefined off Linux. */
  start: string | undefined;
}

/** The start time of process `pid` (Linux), or undefined when it cannot be read. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: fields resume after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** This process. */
export const SELF: Readonly<ProcessIdentity> = Object.freeze({
  pid: process.pid,
  start: processStartTime(process.pid),
});

/** The line a lock or `.owner` file holds: `PID START`. */
export function ownerLine(identity: ProcessIdentity = SELF): string {
  return `${identity.pid} ${identity.start ?? '-'}\n`;
}

/** Parses an {@link ownerLine}; undefined when it is not one. */
export function parseOwner(text: string): ProcessIdentity | undefined {
  const match = /^(\d+) (\d+|-)\s*$/.exec(text);
  if (match === null) return undefined;
  return { pid: Number(match[1]), start: match[2] === '-' ? undefined : match[2] };
}

/**
 * True while the process that wrote `owner` runs: its pid exists and, when both start times are
 * known, it started at the recorded time (else the pid was reused by another process).
 */
export function ownerAlive(owner: ProcessIdentity): boolean {
  if (owner.pid === SELF.pid)
    return owner.start === undefined || SELF.start === undefined || owner.start === SELF.start;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists, owned by another user
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.start === undefined) return true;
  const start = processStartTime(owner.pid);
  return start === undefined || start === owner.start;
}

/** `.NAME.PID-START-RAND.tmp` (or `.part`: toArrow's committed parts); also `.NAME.PID-RAND.tmp`, as earlier versions named them (no start time). */
const TEMP_NAME = /^\.(.+)\.(\d+)-(?:(\d+|x)-)?[0-9a-f]+\.(tmp|part)$/;
const KEEP_SUFFIX = '.keep';

/** Directories this process has claimed (lock written, swept once). */
const claimed = new Map<string, Promise<void>>();
/** Directories with an owner of their own (spill directories): no lock, no sweep inside. */
const exempt = new Set<string>();

/**
 * Exempts `dir` from locks and sweeps: a spill directory, whose `.owner` file says who owns all of
 * it, and whose temporary files go with it.
 */
export function exemptDirectory(dir: string): void {
  exempt.add(resolve(dir));
}

/** Temporary files this process is writing now, for the signal path ({@link removeTempFilesSync}). */
const live = new Set<string>();

/** Temporary files this process named and created (not a resumed run's), while they are live. */
const created = new Set<string>();
let exitHooked = false;

/**
 * Tracks `tempPath`, created by this process, and removes it when the process exits before its
 * run cleaned up: a run under Node's own `stream.pipeline`, whose rejection comes before the sink
 * removed its file, then `process.exit()` in the caller's catch, left it. A file a checkpoint
 * names is kept ({@link keepForResume}), and so is a resumed run's file ({@link trackTempFile}):
 * a run refused at its start must leave it for the rerun.
 */
function addCreated(tempPath: string): void {
  live.add(tempPath);
  created.add(tempPath);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const path of created) if (live.has(path)) rmSync(path, { force: true });
  });
}
/** Temporary files marked for a checkpoint's resume. */
const kept = new Set<string>();
/** Outputs whose superseded kept files were swept ({@link newTempPath}). */
const superseded = new Set<string>();

/**
 * Claims `dir` for this process, once: removes what dead processes left there
 * ({@link sweepTempFiles}). Never throws: hygiene must not fail a run (a read-only directory
 * fails later, at the file's own creation, with its own error).
 */
export function claimDirectory(dir: string): Promise<void> {
  const key = resolve(dir);
  if (exempt.has(key)) return Promise.resolve();
  let done = claimed.get(key);
  if (done === undefined) {
    done = (async () => {
      try {
        const removed = await sweepTempFiles(key);
        if (removed.length > 0)
          debug('removed %d stale temporary file(s) in %s: %s', removed.length, key, removed.join(', '));
      } catch (error) {
        debug('cannot sweep %s: %s', key, (error as Error).message);
      }
    })();
    claimed.set(key, done);
  }
  return done;
}

/**
 * Forgets `dir` (before removing it, e.g. a finished checkpoint's): a later temporary file there
 * claims and sweeps it again.
 */
export async function releaseDirectory(dir: string): Promise<void> {
  const key = resolve(dir);
  const done = claimed.get(key);
  claimed.delete(key);
  await done;
}

/**
 * Removes from `dir` the temporary outputs (`.NAME.PID-START-RAND.tmp`) of processes that are no
 * longer running; keeps those marked for a checkpoint's resume. Returns the names removed.
 */
export async function sweepTempFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  const present = new Set(names);
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (match === null || present.has(`${name}${KEEP_SUFFIX}`)) continue;
    const start = match[3];
    if (ownerAlive({ pid: Number(match[2]), start: start === undefined || start === 'x' ? undefined : start }))
      continue;
    await unlink(join(dir, name)).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}

/**
 * A fresh temporary path beside `finalPath` (`.NAME.PID-START-RAND.tmp`), after claiming its directory;
 * tracked until {@link forgetTempFile} so a signal can remove it.
 */
export async function newTempPath(finalPath: string, suffix: 'tmp' | 'part' = 'tmp'): Promise<string> {
  const dir = dirname(finalPath);
  await claimDirectory(dir);
  // once per output and process: a writer of parts (toArrow) asks for a path per part
  const key = resolve(finalPath);
  if (!superseded.has(key)) {
    superseded.add(key);
    await sweepSuperseded(dir, basename(finalPath));
  }
  const tempPath = join(
    dir,
    `.${basename(finalPath)}.${SELF.pid}-${SELF.start ?? 'x'}-${nodeCrypto().randomBytes(4).toString('hex')}.${suffix}`,
  );
  addCreated(tempPath);
  return tempPath;
}

/**
 * Removes the kept temporary files of `name` in `dir` whose owner is dead: a fresh write of the
 * same file supersedes them. A file is marked kept just before the checkpoint naming it commits;
 * a process killed in between left a file no checkpoint refers to, which sweeps, keeping every
 * kept file, never removed (each rerun added another). A checkpoint that did commit and is
 * resumed later no longer finds its file, and says so (an IoError), rather than writing `name`
 * over the fresh write.
 */
async function sweepSuperseded(dir: string, name: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const present = new Set(names);
  for (const entry of names) {
    const match = TEMP_NAME.exec(entry);
    if (match === null || match[1] !== name || !present.has(`${entry}${KEEP_SUFFIX}`)) continue;
    const start = match[3];
    if (ownerAlive({ pid: Number(match[2]), start: start === undefined || start === 'x' ? undefined : start }))
      continue;
    await unlink(join(dir, entry)).catch(() => undefined);
    await unlink(join(dir, `${entry}${KEEP_SUFFIX}`)).catch(() => undefined);
    debug('removed %s, kept for a resume but superseded by a new write of %s', entry, name);
  }
}

/** Stops tracking `tempPath` (committed or removed) and drops its checkpoint mark, if any. */
export async function forgetTempFile(tempPath: string): Promise<void> {
  live.delete(tempPath);
  created.delete(tempPath);
  kept.delete(tempPath);
  await unlink(`${tempPath}${KEEP_SUFFIX}`).catch(() => undefined);
}

/**
 * Marks `tempPath` as referred to by a checkpoint: sweeps keep it (its owner may be dead: the
 * resumed run is another process), and so does the signal path. Idempotent.
 */
export async function keepForResume(tempPath: string): Promise<void> {
  live.delete(tempPath);
  created.delete(tempPath);
  if (kept.has(tempPath)) return;
  await writeFile(`${tempPath}${KEEP_SUFFIX}`, ownerLine(), { flag: 'w' });
  kept.add(tempPath);
}

/** Tracks a temporary file opened by someone else's naming (a resumed run's file). */
export function trackTempFile(tempPath: string): void {
  live.add(tempPath);
}

/**
 * Removes, synchronously, every temporary file this process is writing: for a signal handler
 * about to end the process, after the run had its chance to clean up. Returns how many.
 */
export function removeTempFilesSync(): number {
  let n = 0;
  for (const tempPath of live) {
    try {
      unlinkSync(tempPath);
      n++;
    } catch {
      // gone already
    }
  }
  live.clear();
  return n;
}

/**
 * The names of the scratch directories spillway makes under a base (the OS temp dir, or an
 * operator's `dir`): spill sinks', operators' (sort runs, hash partitions) and uploads' local
 * copies. A sweep of the base looks at these names only, and removes one only when its `.owner`
 * names a dead process.
 */
export const SCRATCH_PREFIXES = ['spillway-spill-', 'spillway-op-', 'spillway-upload-'] as const;

/** One of {@link SCRATCH_PREFIXES}. */
export type ScratchPrefix = (typeof SCRATCH_PREFIXES)[number];

/** Name of the owner file inside a scratch directory. */
export const SCRATCH_OWNER = '.owner';

/** Writes this process's owner line into scratch directory `dir`. */
export function markScratchOwner(dir: string): void {
  writeFileSync(join(dir, SCRATCH_OWNER), ownerLine(), { mode: 0o600 });
}

/** Removes the owner line from `dir` (a kept spill directory outlives its process on purpose). */
export function unmarkScratchOwner(dir: string): void {
  rmSync(join(dir, SCRATCH_OWNER), { force: true });
}

/** True when scratch directory `dir` has an owner file naming a process that is no longer running. */
export async function scratchOwnerDead(dir: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(join(dir, SCRATCH_OWNER), 'utf8');
  } catch {
    return false; // no owner file: a kept directory, or not ours
  }
  const owner = parseOwner(text);
  return owner !== undefined && !ownerAlive(owner);
}

const sweptBases = new Map<string, Promise<void>>();

/**
 * Once per process and base directory: removes the scratch directories ({@link SCRATCH_PREFIXES})
 * of dead owners under `base`. Never throws.
 */
export function sweepScratchBase(base: string): Promise<void> {
  const key = resolve(base);
  let done = sweptBases.get(key);
  if (done === undefined) {
    done = (async () => {
      let names: string[];
      try {
        names = await readdir(key);
      } catch {
        return;
      }
      for (const name of names) {
        if (!SCRATCH_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
        const dir = join(key, name);
        if (await scratchOwnerDead(dir)) {
          await rm(dir, { recursive: true, force: true }).catch(() => undefined);
          debug('removed stale scratch directory %s', dir);
        }
      }
    })();
    sweptBases.set(key, done);
  }
  return done;
}

/**
 * A fresh scratch directory `<parent>/<prefix>XXXXXX` (mode 0700) owned by this process: what
 * dead processes left under `parent` goes first ({@link sweepScratchBase}), and the owner line is
 * written before anything else, so a later sweep can tell when its owner died. Removing it (on
 * dispose, at exit) is the caller's. Throws what mkdtemp or the owner file's write throws.
 */
export async function createScratchDir(parent: string, prefix: ScratchPrefix): Promise<string> {
  await sweepScratchBase(parent);
  const dir = await mkdtemp(join(parent, prefix));
  try {
    markScratchOwner(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}
