/**
 * Operator scratch directories (`spillway-op-*`) on real child processes (issue 19, item 3;
 * test/fixtures/safety/sorter.ts: a sort under a 1 MB budget, with its own TMPDIR):
 * - a sort SIGKILLed once it has spilled runs leaves its scratch directory, marked with its
 *   owner; the next process that sorts and spills removes it, and its own at its end;
 * - SIGTERM to a process sorting without a handler of its own removes the directory and ends the
 *   process by SIGTERM (SIGINT and SIGHUP take the same path, lib/io/signals.ts, checked for every
 *   kind of temporary output in test/lib/io/safety.test.ts; one signal here keeps the CPU low).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, nodeScript, pollUntil, tempDir } from '../../helpers.ts';

const SORTER = join(ROOT, 'test/fixtures/safety/sorter.ts');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function sorter(tmp: string, quick = false): { exit: Promise<Exit>; kill(signal: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [...nodeScript(SORTER), ...(quick ? ['--quick'] : [])], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }));
  return { exit, kill: (signal) => child.kill(signal) };
}

/** The operator scratch directories under `tmp`. */
function scratchDirs(tmp: string): string[] {
  return readdirSync(tmp).filter((n) => n.startsWith('spillway-op-'));
}

/** The names in `dir`; none once it is gone (a merged run is removed). */
function filesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Runs with a file written to the end (renamed to its final name) in every scratch directory under `tmp`. */
function finishedRuns(tmp: string): number {
  let n = 0;
  for (const scratch of scratchDirs(tmp)) {
    const dir = join(tmp, scratch);
    for (const run of readdirSync(dir).filter((name) => name.startsWith('run-')))
      if (filesOf(join(dir, run)).some((name) => /^spill-\d+\.arrow$/.test(name))) n++;
  }
  return n;
}

/** A fresh TMPDIR for the children, so test files running beside this one do not interfere. */
function childTmp(): string {
  const tmp = join(tempDir('spillway-scratch-test-'), 'tmp');
  mkdirSync(tmp);
  return tmp;
}

/** Starts a sort that never ends and resolves once it has spilled a run. */
async function spilling(tmp: string): Promise<ReturnType<typeof sorter>> {
  const child = sorter(tmp);
  let ended = false;
  void child.exit.then(() => (ended = true));
  const runs = await pollUntil(
    async () => finishedRuns(tmp),
    (n) => n >= 1 || ended,
    120_000,
  );
  if (runs < 1) {
    child.kill('SIGKILL');
    const { stdout, stderr } = await child.exit;
    assert.fail(`the sort spilled no run: ${stdout} ${stderr}`);
  }
  return child;
}

describe('operator scratch directories', () => {
  test('a SIGKILLed sort leaves its scratch directory; the next sort that spills removes it and its own', {
    timeout: 300_000,
  }, async () => {
    const tmp = childTmp();
    const killed = await spilling(tmp);
    killed.kill('SIGKILL');
    assert.equal((await killed.exit).signal, 'SIGKILL');
    const stale = scratchDirs(tmp);
    assert.equal(stale.length, 1, `scratch directories left: ${stale.join(', ')}`);
    const owner = readFileSync(join(tmp, stale[0]!, '.owner'), 'utf8');
    assert.match(owner, /^\d+ (\d+|-)\n$/, 'the directory names its owner');

    const next = sorter(tmp, true);
    const result = await next.exit;
    assert.equal(result.code, 0, result.stderr);
    const [, rows, runs] = /done (\d+) (\d+)/.exec(result.stdout) ?? [];
    assert.equal(rows, '60000', result.stdout);
    assert.ok(Number(runs) >= 2, `the next sort spilled too: ${result.stdout}`);
    assert.deepEqual(scratchDirs(tmp), [], "the dead sort's directory and the next sort's own are gone");
  });

  for (const signal of ['SIGTERM'] as const) {
    test(`${signal} to a process sorting removes its scratch directory and ends it by ${signal}`, {
      timeout: 300_000,
    }, async () => {
      const tmp = childTmp();
      const child = await spilling(tmp);
      child.kill(signal);
      const result = await child.exit;
      assert.equal(result.signal, signal, `exit ${result.code}: ${result.stderr}`);
      assert.deepEqual(scratchDirs(tmp), []);
    });
  }
});
