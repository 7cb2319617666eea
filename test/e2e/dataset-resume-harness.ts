/**
 * What the dataset resume tests share: the rows of the test files, the child process
 * (dataset-resume-child.ts) run and SIGKILLed after a chosen number of batches once its checkpoint
 * says it is resumable (synchronised on the checkpoint file, no sleeps), and reruns until one
 * completes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, nodeScript } from '../helpers.ts';
import { random as mulberry32 } from '../../samples/trades-data.ts';

const SCRIPT = join(ROOT, 'test/e2e/dataset-resume-child.ts');
/** Partitions (`part=0` ... `part=3`) of the test datasets. */
export const PARTS = 4;
export const FILES_PER_PART = 3;
export const ROWS_PER_FILE = 900;

/** A row of the test files. */
export interface TestRow {
  id: number;
  x: number;
  note: string;
}

/** Rows of file `f` of partition `p`: ids unique across the dataset, notes with quotes, newlines and multi-byte text. */
export function rowsOf(p: number, f: number): TestRow[] {
  return Array.from({ length: ROWS_PER_FILE }, (_, i) => {
    const id = (p * FILES_PER_PART + f) * ROWS_PER_FILE + i;
    return { id, x: id / 4, note: id % 97 === 0 ? `multi\nline, "q" ${id}` : id % 5 === 0 ? `é€😀 ${id}` : `n${id}` };
  });
}

/** The ids a complete run over a dataset writes: every file except partition 2 (pruned by `where`). */
export function expectedIds(): number[] {
  const ids: number[] = [];
  for (let p = 0; p < PARTS; p++)
    if (p !== 2) for (let f = 0; f < FILES_PER_PART; f++) ids.push(...rowsOf(p, f).map((r) => r.id));
  return ids;
}

/** Ids each row of a CSV output holds, in order (the first column). */
export function idsOf(file: string): number[] {
  const ids: number[] = [];
  // a record starts at a line whose first field is a number followed by a comma
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    const m = /^(\d+),/.exec(line);
    if (m) ids.push(Number(m[1]));
  }
  return ids;
}

/** The checkpoint in `dir`, or undefined when there is none (it is replaced atomically, so a read sees a whole one). */
export function readCheckpointIn(
  dir: string,
): { commits: number; committed: number; source: Record<string, unknown> } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as {
      commits: number;
      committed: number;
      source: Record<string, unknown>;
    };
  } catch {
    return undefined;
  }
}

/** The file index of a dataset checkpoint in `dir`, or -1 when there is none. */
export function checkpointFile(dir: string): number {
  const file = readCheckpointIn(dir)?.source.file;
  return typeof file === 'number' ? file : -1;
}

/** A run of the child. */
export interface Run {
  done: boolean;
  batches: number;
  code: number | null;
  stderr: string;
}

/** How to run the child: when to kill it, and the environment. */
export interface RunOptions {
  /** Kill after this many batches once `resumable` holds (default: never). */
  killAfter?: number;
  /** When a kill may happen, from the checkpoint directory (default: a dataset checkpoint past the first file). */
  resumable?: (checkpointDir: string) => boolean;
  env?: Record<string, string>;
}

/** Runs the child with `args` (see dataset-resume-child.ts); kills it with SIGKILL as `options` say. */
export function run(args: string[], options: RunOptions = {}): Promise<Run> {
  const { killAfter = Infinity, resumable = (d: string) => checkpointFile(d) >= 1, env = {} } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeScript(SCRIPT), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let stderr = '';
    let batches = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      for (const c of chunk) if (c === '.') batches++;
      if (batches >= killAfter && !child.killed && resumable(args[3]!)) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ done: out.includes('done'), batches, code, stderr }));
  });
}

/**
 * Kills runs after a random number of batches until one completes; returns the kills and the
 * kills that left a resumable checkpoint. `afterKill` checks what a killed run left.
 */
export async function runWithCrashes(
  args: string[],
  seed: number,
  total: number,
  options: Omit<RunOptions, 'killAfter'> & { afterKill?: () => void } = {},
): Promise<{ kills: number; resumable: number }> {
  const random = mulberry32(seed);
  const resumable = options.resumable ?? ((d: string) => checkpointFile(d) >= 1);
  let kills = 0;
  let resumed = 0;
  for (let attempt = 0; attempt < 12; attempt++) {
    const killAfter = attempt < 3 ? 3 + Math.floor(random() * Math.max(1, total / 2 - 3)) : Infinity;
    const result = await run([...args.slice(0, 4), '1', ...args.slice(4)], { ...options, killAfter });
    if (result.done) {
      assert.equal(result.code, 0, result.stderr);
      return { kills, resumable: resumed };
    }
    assert.notEqual(result.code, 0, 'a killed run does not exit cleanly');
    assert.equal(result.stderr.includes('Error'), false, result.stderr);
    kills++;
    options.afterKill?.();
    if (resumable(args[3]!)) resumed++;
  }
  throw new Error('the pipeline never completed');
}
