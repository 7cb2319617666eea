/** Shared test helpers: temporary folders, the shared corpus, fd counting. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const above = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The project root (from the compiled copy under .tmp/test-build/ too). */
export const ROOT = above.endsWith(join('.tmp', 'test-build')) ? resolve(above, '../..') : above;

/**
 * The compiled project `npm test` made (test/build.mjs; SPILLWAY_TEST_BUILD names it), or
 * undefined when a test file runs by hand from the sources.
 */
export const BUILD: string | undefined = process.env.SPILLWAY_TEST_BUILD
  ? resolve(ROOT, process.env.SPILLWAY_TEST_BUILD)
  : undefined;

/**
 * The file that runs for the project's file `file` (absolute, or relative to the project root):
 * for a .ts file, its compiled JavaScript under BUILD when there is one; else the file itself.
 */
export function runnable(file: string): string {
  const source = resolve(ROOT, file);
  if (BUILD === undefined || !source.endsWith('.ts')) return source;
  // a compiled module names its siblings by their .ts names too
  const inBuild = source.startsWith(BUILD + sep) ? source : join(BUILD, relative(ROOT, source));
  const compiled = inBuild.replace(/\.ts$/, '.js');
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: rerun test/build.mjs (npm test does)`);
  return compiled;
}

/** runnable(file) as a file URL: for a module a worker thread or child process loads. */
export function runnableUrl(file: string): URL {
  return pathToFileURL(runnable(file));
}

/**
 * Node's arguments that run the project's TypeScript file `script` in a child process: its
 * compiled JavaScript from BUILD when there is one (a child then loads in about 0.8 s of CPU
 * instead of 2.2 s), else the source through tsx.
 */
export function nodeScript(script: string): string[] {
  if (BUILD !== undefined) return [runnable(script)];
  return ['--conditions=spillway-source', '--import', 'tsx', resolve(ROOT, script)];
}

/** What a `spillway` command run as a process printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `spillway ...args` as a user does, from the project root (the built CLI under SPILLWAY_TEST_BUILD). */
export function runCli(...args: string[]): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...nodeScript('lib/cli/main.ts'), ...args],
      { cwd: ROOT, encoding: 'utf8' },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** ../shared/corpus beside the project (or SPILLWAY_CORPUS, for a git worktree elsewhere), when present. */
export const CORPUS = process.env.SPILLWAY_CORPUS
  ? resolve(process.env.SPILLWAY_CORPUS)
  : resolve(ROOT, '../shared/corpus');

/**
 * A test's reason to skip, passed through; under CI (`CI=true`) a missing requirement is a failure,
 * not a skip, so CI cannot go green by running less.
 */
export function skipUnlessCI(reason: string | false): string | false {
  if (reason !== false && process.env.CI === 'true') throw new Error(`CI=true, so this cannot be skipped: ${reason}`);
  return reason;
}

/** A reason to skip corpus tests, or false when the corpus is there (under CI its absence fails). */
export const corpusSkip: string | false = skipUnlessCI(
  existsSync(join(CORPUS, 'truth.json'))
    ? false
    : `the shared corpus is not at ${CORPUS} (it is beside the project in CI; a user's clone has none)`,
);

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix = 'spillway-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // one exit listener for all (one each passed Node's limit of 10 and printed a leak warning)
  if (tempDirs.size === 0)
    process.once('exit', () => {
      for (const made of tempDirs) rmSync(made, { recursive: true, force: true });
    });
  tempDirs.add(dir);
  return dir;
}

/** The directories {@link tempDir} made, removed when the process exits. */
const tempDirs = new Set<string>();

/** Open file descriptors of this process (Linux). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Where each descriptor of this process points (Linux); one closed meanwhile is left out. */
function fdTargets(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Files under `dir` this process holds open (Linux): what a reader that did not close would leave. */
export function fdsUnder(dir: string): string[] {
  return fdTargets().filter((target) => target.startsWith(`${dir}/`));
}

/**
 * Descriptors of this process open on a /proc/<pid>/ file of another process (Linux): what a
 * memory reader that keeps /proc/<child>/stat open for reuse would leave behind.
 */
export function procFds(): string[] {
  return fdTargets().filter((target) => /^\/proc\/\d+\//.test(target) && !target.startsWith(`/proc/${process.pid}/`));
}

/**
 * Waits (up to 10 s) until this process has no more open descriptors than `before`, and returns
 * the count: descriptors other code in the process opens and closes on its own (the test runner,
 * loaders) may still be settling; a leak stays.
 */
export async function settledFds(before: number): Promise<number> {
  let now = openFds();
  for (let i = 0; i < 1000 && now > before; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    now = openFds();
  }
  return now;
}

/**
 * Polls `probe` until `done` holds for its result, or until `timeoutMs` passes (then returns the
 * last result for the caller's assertion). For work that finishes asynchronously, such as a row
 * group written in the background: on a busy machine that takes an unknown number of event-loop
 * turns, so tests wait on the condition, never on a count of turns.
 */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
    value = await probe();
  }
  return value;
}

/** True while process `pid` exists (signal 0 checks without sending). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Child processes of process `pid` (this one by default), started by any of its threads. */
export function childPids(pid: number | 'self' = 'self'): number[] {
  const pids: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text !== '') pids.push(...text.split(/\s+/).map(Number));
    } catch {
      // the thread ended
    }
  }
  return pids;
}

/** Rows as sorted JSON lines (bigints as `123n`): a multiset to compare where output order is unspecified. */
export function sortedRows(rows: readonly unknown[]): string[] {
  return rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).sort();
}

/**
 * Aborts `controller` at the first turn at which `sink` has passed its commit point
 * (lib/io/commit-point.ts) but not yet finished; returns whether that happened.
 */
export function abortAfterCommitPoint(
  sink: { _final: (callback: (error?: Error | null) => void) => void; committed: boolean; writableFinished: boolean },
  controller: AbortController,
): () => boolean {
  let aborted = false;
  const final = sink._final.bind(sink);
  sink._final = (callback) => {
    final(callback);
    const poll = (): void => {
      if (sink.committed && !sink.writableFinished) {
        aborted = true;
        controller.abort(new Error('too late'));
      } else if (!sink.writableFinished) setImmediate(poll);
    };
    poll();
  };
  return () => aborted;
}
