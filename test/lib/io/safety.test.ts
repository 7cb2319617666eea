/**
 * What kills and signals leave behind (issue 19, item 3), on real child processes writing every
 * kind of temporary output at once (test/fixtures/safety/writer.ts: toCsv, toParquet, toArrow into
 * one folder, toSpill under its own TMPDIR):
 * - SIGKILL at random moments (fixed seed) leaves temporary files and spill directories; the next
 *   run in the same folders removes every one of them, and its own outputs land;
 * - SIGTERM and SIGHUP to a process running pipelines without a handler of its own abort the runs,
 *   remove their temporary files and spill directories, and end the process by that signal;
 * - this process's descriptors are back to their count after all of it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { ROOT, nodeScript, openFds, settledFds, tempDir } from '../../helpers.ts';
import { SIGNAL_GRACE_MS } from '../../../lib/io/signals.ts';

const WRITER = join(ROOT, 'test/fixtures/safety/writer.ts');
const BUSY_STAGE = join(ROOT, 'test/fixtures/safety/busy-stage.ts');

interface Child {
  ready: Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

function writer(outDir: string, tmp: string, quick = false, script = WRITER): Child {
  const child = spawn(process.execPath, [...nodeScript(script), outDir, ...(quick ? ['--quick'] : [])], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (stdout.includes('ready\n')) resolve();
    });
    child.once('exit', () => reject(new Error(`the writer ended before it was ready: ${stdout} ${stderr}`)));
  });
  ready.catch(() => undefined);
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }));
  return { ready, exit, kill: (signal) => child.kill(signal) };
}

/** Temporary outputs in `dir` and spill directories in `tmp`. */
function leftovers(dir: string, tmp: string): string[] {
  return [
    ...readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    ...readdirSync(tmp).filter((n) => n.startsWith('spillway-spill-')),
  ];
}

/** mulberry32: the kill moments are random but the same every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function folders(): { out: string; tmp: string } {
  const dir = tempDir('spillway-safety-');
  const out = join(dir, 'out');
  const tmp = join(dir, 'tmp');
  mkdirSync(out);
  mkdirSync(tmp);
  return { out, tmp };
}

describe('kills and signals', () => {
  test('SIGKILL at random moments leaves temporary files; the next run removes them all', {
    timeout: 300_000,
  }, async () => {
    const fdsBefore = openFds();
    const { out, tmp } = folders();
    const rand = random(19);
    let previous: string[] = [];
    for (let kill = 0; kill < 4; kill++) {
      const child = writer(out, tmp);
      await child.ready;
      // every run sweeps first: what the previous kill left is gone by the time this one is ready
      assert.deepEqual(
        previous.filter((name) => leftovers(out, tmp).includes(name)),
        [],
        `kill ${kill}: the previous kill's leftovers were not removed`,
      );
      // a random moment after every sink has started writing
      await new Promise((resolve) => setTimeout(resolve, Math.floor(rand() * 400)));
      child.kill('SIGKILL');
      const { signal } = await child.exit;
      assert.equal(signal, 'SIGKILL');
      previous = leftovers(out, tmp);
      // the killed process leaves its three temporary outputs and its two spill directories (one kept)
      assert.ok(
        previous.filter((n) => n.endsWith('.tmp')).length >= 3,
        `kill ${kill}: temporary files left: ${previous.join(', ')}`,
      );
      assert.ok(
        previous.filter((n) => n.startsWith('spillway-spill-')).length >= 2,
        `kill ${kill}: spill directories left: ${previous.join(', ')}`,
      );
    }

    const next = writer(out, tmp, true);
    const result = await next.exit;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /done 0 failed/);
    assert.deepEqual(leftovers(out, tmp), []);
    for (const name of ['out.csv', 'out.parquet', 'out.arrow'])
      assert.ok(existsSync(join(out, name)), `${name} was written`);
    assert.ok((await settledFds(fdsBefore)) <= fdsBefore, 'no descriptor of this process is left open');
  });

  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    test(`${signal} to a process running pipelines removes their temporary files and ends it by ${signal}`, {
      timeout: 120_000,
    }, async () => {
      const { out, tmp } = folders();
      const child = writer(out, tmp);
      await child.ready;
      assert.ok(leftovers(out, tmp).length > 0, 'the runs are writing temporary files');
      child.kill(signal);
      const result = await child.exit;
      // re-raised with the default action: a shell reports 128 + signo
      assert.equal(result.signal, signal, `exit ${result.code}: ${result.stderr}`);
      assert.deepEqual(leftovers(out, tmp), []);
      assert.deepEqual(readdirSync(out), []);
    });
  }
});

test('SIGTERM while the source has ended and a stage is still busy aborts that stage: the run settles, no grace waited out', {
  timeout: 120_000,
}, async () => {
  const { out, tmp } = folders();
  const child = writer(out, tmp, false, BUSY_STAGE);
  await child.ready;
  const killed = performance.now();
  child.kill('SIGTERM');
  const result = await child.exit;
  assert.equal(result.signal, 'SIGTERM', `exit ${result.code}: ${result.stderr}`);
  // only the source was destroyed: the map kept waiting, the run never settled, and the process
  // ended when the grace ran out (the map itself waits 60 s)
  assert.ok(performance.now() - killed < SIGNAL_GRACE_MS, 'the run settled before the grace ran out');
  assert.deepEqual(readdirSync(out), []);
});

describe('the CLI', () => {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`spillway convert stopped by ${signal}: exit code 128 + signo, no temporary or partial file`, {
      timeout: 180_000,
    }, async () => {
      const dir = tempDir('spillway-cli-signal-');
      const input = join(dir, 'in.csv');
      const lines = ['id,name,price'];
      for (let i = 0; i < 1_500_000; i++) lines.push(`${i},name ${i % 97},${(i % 1000) / 8}`);
      writeFileSync(input, `${lines.join('\n')}\n`);
      const out = join(dir, 'out');
      mkdirSync(out);
      const started = new Promise<void>((resolve) => {
        const watcher = watch(out, () => {
          if (readdirSync(out).some((n) => n.endsWith('.tmp'))) {
            watcher.close();
            resolve();
          }
        });
      });
      const child = spawn(
        process.execPath,
        [...nodeScript('lib/cli/main.ts'), 'convert', '--no-progress', input, join(out, 'out.parquet')],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const exit = once(child, 'exit');
      await started;
      child.kill(signal);
      const [code] = (await exit) as [number | null, NodeJS.Signals | null];
      assert.equal(code, signal === 'SIGTERM' ? 143 : 129, stderr);
      assert.deepEqual(readdirSync(out), []);
    });
  }
});
