/**
 * The fuzz suite's driver: builds seeded cases (a target and a mutation), writes each mutated
 * file to a scratch folder, and runs every reader of the target on it in child processes, many
 * cases per child (start-up is the expensive part), with a time limit per read, a V8 heap limit
 * and an RSS watchdog. A child that hangs, crashes or passes the memory limit is killed and its
 * remaining cases go to a fresh child. Each read must end in a coded SpillwayError naming the
 * file, or in rows: the original's rows, or other rows where the format cannot tell (no
 * checksum; counted as "undetectable"); a checksummed format (a spill) must never give other rows.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildCase, ChildMessage, ChildOutcome, ReaderName } from './child.ts';
import { Rng, mutate, type Mutation, type Structure } from './mutate.ts';
import { arrowStructure, compressedStructure, csvStructure, parquetStructure } from './structure.ts';
import type { Target } from './targets.ts';
import { nodeScript } from '../helpers.ts';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  readonly targets: readonly Target[];
  readonly seed: number;
  /** Mutated files (each read by every reader of its target). */
  readonly cases: number;
  /** Scratch folder for the mutated files. */
  readonly scratch: string;
  /** Child processes at once (default 2). */
  readonly jobs?: number;
  /** Cases per child process (default 40). */
  readonly perChild?: number;
  /** Time limit of one read, in ms (default 15000). */
  readonly timeoutMs?: number;
  /** RSS limit of a child, in MB (default 512). */
  readonly rssLimitMb?: number;
  /** V8 heap limit of a child, in MB (default 256). */
  readonly heapMb?: number;
  /** Only these case ids (replaying a failure). */
  readonly only?: readonly number[];
  /** Keep the mutated files (replaying a failure by hand). */
  readonly keep?: boolean;
  /** Called with a line per failure and per finished child (progress). */
  readonly log?: (line: string) => void;
}

/** One read of one mutated file, judged. */
export interface FuzzRun {
  readonly caseId: number;
  readonly target: string;
  readonly reader: ReaderName;
  readonly mutation: Mutation;
  readonly verdict:
    | 'same'
    | 'undetectable'
    | 'error'
    | 'hang'
    | 'memory'
    | 'crash'
    | 'foreign-error'
    | 'unnamed-error'
    | 'wrong-data';
  readonly detail: string;
  readonly ms: number;
}

/** What a fuzz run found. */
export interface FuzzReport {
  readonly runs: FuzzRun[];
  readonly failures: FuzzRun[];
  readonly counts: Record<FuzzRun['verdict'], number>;
}

interface Job {
  readonly id: number;
  readonly caseId: number;
  readonly target: Target;
  readonly reader: ReaderName;
  readonly path: string;
  readonly mutation: Mutation;
  /** The unmutated read of the same target and reader. */
  readonly baseline: boolean;
}

const FAILURES = new Set<FuzzRun['verdict']>([
  'hang',
  'memory',
  'crash',
  'foreign-error',
  'unnamed-error',
  'wrong-data',
]);

function structureOf(target: Target, bytes: Uint8Array): Structure {
  switch (target.format) {
    case 'parquet':
      return parquetStructure(bytes);
    case 'arrow-file':
      return arrowStructure(bytes, 'file');
    case 'arrow-stream':
      return arrowStructure(bytes, 'stream');
    case 'gzip':
    case 'zstd':
      return compressedStructure(bytes, target.format);
    default:
      // CSV and JSON Lines: line ends and quotes
      return csvStructure(bytes);
  }
}

/** Writes the mutated copy of case `caseId` under `scratch`; returns its path (a file, or a spill directory). */
function writeCase(
  target: Target,
  caseId: number,
  rng: Rng,
  scratch: string,
  cache: Map<string, { bytes: Uint8Array; structure: Structure }>,
): { path: string; mutation: Mutation } {
  const load = (path: string, kind: Target): { bytes: Uint8Array; structure: Structure } => {
    let entry = cache.get(path);
    if (!entry) {
      const bytes = new Uint8Array(readFileSync(path));
      entry = { bytes, structure: structureOf(kind, bytes) };
      cache.set(path, entry);
    }
    return entry;
  };
  if (target.format === 'spill') {
    const dir = join(scratch, `c${caseId}-spill`);
    cpSync(target.path, dir, { recursive: true });
    const files = readdirSync(target.path)
      .filter((f) => f.endsWith('.arrow'))
      .sort();
    const useManifest = files.length === 0 || rng.int(5) === 0;
    const name = useManifest ? readdirSync(target.path).find((f) => f.endsWith('.json'))! : rng.pick(files);
    const entry = load(
      join(target.path, name),
      useManifest ? { ...target, format: 'csv' } : { ...target, format: 'arrow-file' },
    );
    const { bytes, mutation } = mutate(entry.bytes, entry.structure, rng);
    writeFileSync(join(dir, name), bytes);
    return { path: dir, mutation: { kind: mutation.kind, detail: `${name}: ${mutation.detail}` } };
  }
  const entry = load(target.path, target);
  const { bytes, mutation } = mutate(entry.bytes, entry.structure, rng);
  const path = join(scratch, `c${caseId}-${basename(target.path)}`);
  writeFileSync(path, bytes);
  return { path, mutation };
}

function judge(
  job: Job,
  outcome: ChildOutcome,
  baseline: ChildOutcome | undefined,
): Pick<FuzzRun, 'verdict' | 'detail'> {
  if (outcome.kind === 'error') {
    const what = `${outcome.name} ${outcome.code ?? '(no code)'}: ${outcome.message.slice(0, 300)}`;
    if (!outcome.spillway) return { verdict: 'foreign-error', detail: what };
    const named =
      (outcome.file !== undefined && (outcome.file.includes(job.path) || job.path.includes(outcome.file))) ||
      outcome.message.includes(job.path);
    if (!named) return { verdict: 'unnamed-error', detail: what };
    return { verdict: 'error', detail: what };
  }
  if (baseline?.kind === 'rows' && baseline.digest === outcome.digest && baseline.rows === outcome.rows)
    return { verdict: 'same', detail: `${outcome.rows} rows` };
  const detail = `${outcome.rows} rows, not the original's ${baseline?.kind === 'rows' ? `${baseline.rows} rows` : 'error'}`;
  return { verdict: job.target.checksummed ? 'wrong-data' : 'undetectable', detail };
}

/** Runs the cases; resolves with every run judged (failures listed apart). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { targets, seed, scratch } = options;
  const jobsAtOnce = options.jobs ?? 2;
  const perChild = options.perChild ?? 40;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const rssLimit = (options.rssLimitMb ?? 512) * 1024 * 1024;
  const heapMb = options.heapMb ?? 256;
  const log = options.log ?? (() => {});
  if (targets.length === 0) throw new Error('no fuzz targets');
  mkdirSync(scratch, { recursive: true });

  // baselines first (one per target and reader), then the mutated cases
  const queue: Job[] = [];
  let nextId = 0;
  for (const target of targets) {
    for (const reader of target.readers)
      queue.push({
        id: nextId++,
        caseId: -1,
        target,
        reader,
        path: target.path,
        mutation: { kind: 'none', detail: 'original' },
        baseline: true,
      });
  }
  const baselineCount = queue.length;
  const cache = new Map<string, { bytes: Uint8Array; structure: Structure }>();
  const only = options.only ? new Set(options.only) : undefined;
  const pendingCases: { caseId: number; target: Target; rng: Rng }[] = [];
  for (let caseId = 0; caseId < options.cases; caseId++) {
    if (only && !only.has(caseId)) continue;
    // each case has its own stream of random numbers: replaying one case gives the same mutation
    const rng = new Rng((seed * 1_000_003 + caseId * 7919) >>> 0);
    pendingCases.push({ caseId, target: targets[rng.int(targets.length)]!, rng });
  }

  const baselines = new Map<string, ChildOutcome>();
  const runs: FuzzRun[] = [];
  const key = (job: Job): string => `${job.target.name}\u0000${job.reader}`;
  const record = (
    job: Job,
    result: { outcome?: ChildOutcome; verdict?: FuzzRun['verdict']; detail?: string; ms: number },
  ): void => {
    if (job.baseline) {
      if (result.outcome) baselines.set(key(job), result.outcome);
      else {
        // an original that hangs or crashes is a failure in its own right
        runs.push({
          caseId: job.caseId,
          target: job.target.name,
          reader: job.reader,
          mutation: job.mutation,
          verdict: result.verdict!,
          detail: result.detail ?? '',
          ms: result.ms,
        });
        log(`FAIL original ${job.target.name} ${job.reader}: ${result.verdict} ${result.detail ?? ''}`);
      }
      if (result.outcome?.kind === 'error' && !result.outcome.spillway) {
        const judged = judge(job, result.outcome, undefined);
        runs.push({
          caseId: job.caseId,
          target: job.target.name,
          reader: job.reader,
          mutation: job.mutation,
          ...judged,
          ms: result.ms,
        });
        log(`FAIL original ${job.target.name} ${job.reader}: ${judged.verdict} ${judged.detail}`);
      }
      return;
    }
    const judged = result.outcome
      ? judge(job, result.outcome, baselines.get(key(job)))
      : { verdict: result.verdict!, detail: result.detail ?? '' };
    const run: FuzzRun = {
      caseId: job.caseId,
      target: job.target.name,
      reader: job.reader,
      mutation: job.mutation,
      ...judged,
      ms: result.ms,
    };
    runs.push(run);
    if (FAILURES.has(run.verdict))
      log(
        `FAIL case ${run.caseId} ${run.target} [${run.mutation.kind}: ${run.mutation.detail}] ${run.reader}: ${run.verdict} ${run.detail}`,
      );
  };

  /** Runs `jobs` in one child (and in fresh children for what is left after a kill). */
  const runChild = (jobs: Job[]): Promise<void> =>
    new Promise<void>((resolve) => {
      const byId = new Map(jobs.map((j) => [j.id, j]));
      const done = new Set<number>();
      let current: { job: Job; started: number } | undefined;
      let killedFor: { verdict: FuzzRun['verdict']; detail: string } | undefined;
      const args = nodeScript(CHILD);
      const child: ChildProcess = fork(args.at(-1)!, [], {
        execArgv: [...args.slice(0, -1), `--max-old-space-size=${heapMb}`],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000);
      });
      let timer: NodeJS.Timeout | undefined;
      const kill = (verdict: FuzzRun['verdict'], detail: string): void => {
        if (killedFor) return;
        killedFor = { verdict, detail };
        child.kill('SIGKILL');
      };
      const watchdog = setInterval(() => {
        try {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
          if (rss > rssLimit)
            kill('memory', `RSS ${Math.round(rss / 1048576)} MB passed the ${Math.round(rssLimit / 1048576)} MB limit`);
        } catch {
          // the child is gone
        }
      }, 100);
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready')
          child.send({ cases: jobs.map((j): ChildCase => ({ id: j.id, reader: j.reader, path: j.path })) });
        else if (message.type === 'start') {
          current = { job: byId.get(message.id)!, started: performance.now() };
          clearTimeout(timer);
          timer = setTimeout(() => kill('hang', `no result after ${timeoutMs} ms`), timeoutMs);
        } else if (message.type === 'done') {
          clearTimeout(timer);
          const job = byId.get(message.id)!;
          done.add(job.id);
          current = undefined;
          const outcome = message.outcome;
          if (message.peakBuffers > rssLimit) {
            record(job, {
              verdict: 'memory',
              detail: `ArrayBuffers peaked at ${Math.round(message.peakBuffers / 1048576)} MB`,
              ms: message.ms,
            });
            return;
          }
          record(job, { outcome, ms: message.ms });
        } else if (message.type === 'crash') {
          kill('crash', message.message);
        }
      });
      child.on('exit', (code, signal) => {
        clearInterval(watchdog);
        clearTimeout(timer);
        const rest = jobs.filter((j) => !done.has(j.id));
        if (rest.length === 0) return resolve();
        // the case that was running is judged; the others go to a fresh child
        const failed = current?.job ?? rest[0]!;
        const why = killedFor ?? {
          verdict: 'crash' as const,
          detail: `child exited (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
        };
        record(failed, {
          verdict: why.verdict,
          detail: why.detail,
          ms: current ? performance.now() - current.started : 0,
        });
        const left = rest.filter((j) => j !== failed);
        if (left.length === 0) return resolve();
        void runChild(left).then(resolve);
      });
    });

  /** Runs a list of jobs with at most `jobsAtOnce` children, `perChild` jobs each. */
  const runAll = async (all: Job[]): Promise<void> => {
    const chunks: Job[][] = [];
    for (let i = 0; i < all.length; i += perChild) chunks.push(all.slice(i, i + perChild));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        await runChild(chunk);
        log(`done ${Math.min(all.length, next * perChild)}/${all.length} reads`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobsAtOnce, chunks.length) }, worker));
  };

  await runAll(queue.slice(0, baselineCount));
  // mutated cases: every file written before the reads (they are small), the folder removed after
  const mutated: Job[] = [];
  for (const c of pendingCases) {
    const { path, mutation } = writeCase(c.target, c.caseId, c.rng, scratch, cache);
    for (const reader of c.target.readers)
      mutated.push({ id: nextId++, caseId: c.caseId, target: c.target, reader, path, mutation, baseline: false });
  }
  await runAll(mutated);
  if (!options.keep) rmSync(scratch, { recursive: true, force: true });

  const counts = {
    same: 0,
    undetectable: 0,
    error: 0,
    hang: 0,
    memory: 0,
    crash: 0,
    'foreign-error': 0,
    'unnamed-error': 0,
    'wrong-data': 0,
  };
  for (const r of runs) counts[r.verdict]++;
  return { runs, failures: runs.filter((r) => FAILURES.has(r.verdict)), counts };
}
