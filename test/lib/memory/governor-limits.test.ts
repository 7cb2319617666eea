/**
 * The governor never hangs silently: a pause that outlasts `maxPauseMs` fails with a
 * MemoryLimitError naming what holds memory and the stage that ran; the V8 heap limit is a limit
 * of its own (a leak under a small `--max-old-space-size` ends in a MemoryLimitError, not a fatal
 * V8 abort); pausing and relief hold with CPU hogs running beside the pipeline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  pipeline,
  fromIterable,
  map,
  collect,
  MemoryGovernor,
  ErrorCodes,
  type MemoryLimitError,
} from '../../../index.ts';
import type { MemoryProbe } from '../../../lib/entry/extend.ts';
import { maxOldSpaceFlag, usableHeapLimit } from '../../../lib/memory/limits.ts';
import { defaultMemoryLimit } from '../../../lib/memory/memory-probe.ts';
import { describeBreakdown, memoryBreakdown } from '../../../lib/memory/breakdown.ts';
import { StageActivity } from '../../../lib/memory/stage-activity.ts';
import { newStageStats } from '../../../lib/core/stage.ts';
import { ROOT, nodeScript } from '../../helpers.ts';

const LEAK = join(ROOT, 'test/fixtures/memory/leak.ts');
const MiB = 1024 * 1024;

interface LeakResult {
  ended: 'resolved' | 'rejected';
  code?: string;
  stage?: string;
  message?: string;
  failedAfterPauseMs?: number;
  kept?: number;
}

async function runLeak(nodeArgs: string[], args: string[]): Promise<{ result: LeakResult; stderr: string }> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [...nodeArgs, ...nodeScript(LEAK), ...args], {
    cwd: ROOT,
    maxBuffer: 1 << 22,
    env: { ...process.env, NODE_OPTIONS: '' },
  }).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
    throw new Error(`the leak child failed (exit ${error.code}): ${error.stderr?.slice(-2000)}`);
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  return { result: JSON.parse(line) as LeakResult, stderr };
}

test('a pause that outlasts maxPauseMs fails the pipeline with a MemoryLimitError naming the holders and the stage', async () => {
  let rss = 100e6;
  const probe: MemoryProbe = {
    sample: () => ({
      rss,
      heapUsed: 120e6,
      heapTotal: 150e6,
      heapLimit: 4e9,
      external: 60e6,
      arrayBuffers: 50e6,
      childrenRss: 0,
    }),
  };
  const governor = new MemoryGovernor({ limit: 1e9, intervalMs: 5, probe, gc: false, leak: false, maxPauseMs: 200 });
  const rows = Array.from({ length: 200_000 }, (_, i) => ({ i }));
  let seen = 0;
  const started = performance.now();
  await assert.rejects(
    pipeline(
      fromIterable(rows, { batchSize: 100 }),
      map((row: { i: number }) => {
        if (++seen === 5000) rss = 850e6; // past the pause mark, never released
        let x = 0;
        for (let k = 0; k < 20_000; k++) x += Math.sqrt(k + row.i); // the stage doing the work
        return { ...row, x };
      }),
      collect(),
      { governor },
    ),
    (error: MemoryLimitError) => {
      assert.equal(error.code, ErrorCodes.MEMORY_LIMIT);
      assert.match(error.message, /maxPauseMs 200/);
      for (const holder of [
        'V8 heap 120 MB used',
        'external 60.0 MB',
        'array buffers 50.0 MB',
        'child processes',
        'allocator-retained',
      ])
        assert.ok(error.message.includes(holder), `${holder} in: ${error.message}`);
      assert.equal(error.context.stage, 'map');
      assert.ok(error.memory.pausedMs >= 150, `paused ${error.memory.pausedMs} ms before failing`);
      return true;
    },
  );
  assert.ok(seen < rows.length, 'the pipeline did not run to the end');
  assert.ok(performance.now() - started < 30_000);
  // a later pipeline on the same governor, while the pause goes on, fails at once instead of waiting again
  await assert.rejects(pipeline(fromIterable(rows.slice(0, 10)), collect(), { governor }), {
    code: ErrorCodes.MEMORY_LIMIT,
  });
  // relief ends the episode: the governor serves again
  rss = 100e6;
  await governor.sampleNow();
  const { output } = await pipeline(fromIterable(rows.slice(0, 10)), collect(), { governor });
  assert.equal(output.length, 10);
  governor.close();
});

test("maxPauseMs bounds a critical level in 'wait' mode too; Infinity waits; bad values are refused", async () => {
  const probe: MemoryProbe = { sample: () => ({ rss: 990e6, heapUsed: 10e6, heapLimit: 4e9 }) };
  const governor = new MemoryGovernor({
    limit: 1e9,
    intervalMs: 5,
    probe,
    gc: false,
    leak: false,
    onCritical: 'wait',
    maxPauseMs: 100,
  });
  await assert.rejects(pipeline(fromIterable([{ a: 1 }]), collect(), { governor }), { code: ErrorCodes.MEMORY_LIMIT });
  governor.close();
  assert.equal(new MemoryGovernor({ maxPauseMs: Infinity }).maxPauseMs, Infinity);
  assert.equal(new MemoryGovernor().maxPauseMs, 180_000);
  for (const bad of [0, -5, 1.5, 'soon', Number.NaN]) {
    assert.throws(
      () => new MemoryGovernor({ maxPauseMs: bad as number }),
      { code: ErrorCodes.INVALID_OPTION },
      String(bad),
    );
  }
});

test('real leak: a map keeping every row fails within maxPauseMs of the pause instead of hanging', {
  timeout: 120_000,
}, async () => {
  // the limit sits ~150 MB above the child's idle RSS (tsx loaded: ~100-130 MB)
  const { result } = await runLeak([], [String(Math.round(320e6)), '1500']);
  assert.equal(result.ended, 'rejected', JSON.stringify(result));
  assert.equal(result.code, ErrorCodes.MEMORY_LIMIT, result.message);
  // the stage is named by its own time in the window before the pause: the leaking map and the
  // drain after it both take a few ms, so on a loaded machine either may be named (never the source)
  assert.ok(['map', 'drain'].includes(result.stage ?? ''), result.message);
  assert.match(result.message!, /Held by: V8 heap/);
  assert.ok(result.failedAfterPauseMs! >= 1400, `failed ${result.failedAfterPauseMs} ms after the pause`);
  assert.ok(result.failedAfterPauseMs! < 60_000, `failed ${result.failedAfterPauseMs} ms after the pause`);
});

test('the V8 heap limit is a limit of its own: a leak under --max-old-space-size=96 ends in a MemoryLimitError, not a V8 abort', {
  timeout: 120_000,
}, async () => {
  const { result, stderr } = await runLeak(['--max-old-space-size=96'], ['2GB', '1500']);
  assert.doesNotMatch(stderr, /FATAL ERROR|heap out of memory/);
  assert.equal(result.ended, 'rejected', JSON.stringify(result));
  assert.equal(result.code, ErrorCodes.MEMORY_LIMIT, result.message);
  assert.match(result.message!, /V8 heap [\d.]+ MB used of the 101 MB it can fill/);
});

test('pause and relief hold with two CPU hogs beside the pipeline: every row once, under the critical mark', {
  timeout: 180_000,
}, async () => {
  const hogs: ChildProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
      hogs.push(hog);
      await once(hog, 'spawn');
    }
    const baseline = process.memoryUsage().rss;
    const limit = Math.round((baseline + 160e6) / 0.8); // pause ~160 MB above where we are
    const governor = new MemoryGovernor({ limit, intervalMs: 20, leak: false, maxPauseMs: 120_000 });
    const retained: Buffer[] = [];
    let released = 0;
    governor.on('pressure', () => {
      released += retained.length;
      retained.length = 0;
    });
    const rows = Array.from({ length: 4000 }, (_, i) => ({ i }));
    const { output, stats } = await pipeline(
      fromIterable(rows, { batchSize: 10 }),
      map((row: { i: number }) => {
        retained.push(Buffer.alloc(256 * 1024, row.i & 0xff));
        return row;
      }),
      collect(),
      { governor },
    );
    retained.length = 0;
    assert.deepEqual(
      output.map((r) => (r as { i: number }).i),
      rows.map((r) => r.i),
    );
    assert.ok((stats.memory?.pressureEvents ?? 0) >= 1, 'memory passed the pause mark');
    assert.ok(released > 0);
    assert.equal(stats.memory?.criticalEvents, 0);
    assert.ok(
      (stats.memory?.peakRss ?? Infinity) < limit * 0.95,
      `peak RSS ${stats.memory?.peakRss} stayed under the critical mark ${limit * 0.95}`,
    );
    governor.close();
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
  }
});

test('usable heap: the --max-old-space-size flag when given, else heap_size_limit less the young generation', () => {
  assert.equal(maxOldSpaceFlag(['--max-old-space-size=96']), 96);
  assert.equal(maxOldSpaceFlag(['--max_old_space_size', '512', '--max-old-space-size=64']), 64);
  assert.equal(maxOldSpaceFlag(['--inspect']), undefined);
  const limit = usableHeapLimit(4345e6);
  assert.ok(limit < 4345e6 && limit > 4000e6, String(limit));
  assert.ok(usableHeapLimit(151e6) <= 151e6);
});

test('default limit: the smaller of 90% of the machine and the heap limit plus as much again (at least 512 MiB)', () => {
  assert.equal(defaultMemoryLimit(24e9, 4e9), 8e9);
  assert.equal(defaultMemoryLimit(2e9, 4e9), 1.8e9);
  assert.equal(defaultMemoryLimit(24e9, 100 * MiB), Math.floor(100 * MiB + 512 * MiB));
  assert.equal(new MemoryGovernor().limit, defaultMemoryLimit());
});

test('breakdown: allocator-retained is RSS less heap reserved and external, never negative', () => {
  const b = memoryBreakdown({
    rss: 500e6,
    heapUsed: 100e6,
    heapTotal: 150e6,
    heapLimit: 4e9,
    heapUsable: 3.9e9,
    external: 50e6,
    arrayBuffers: 40e6,
    childrenRss: 7e6,
  });
  assert.deepEqual(b, {
    heapUsed: 100e6,
    heapTotal: 150e6,
    heapLimit: 3.9e9,
    external: 50e6,
    arrayBuffers: 40e6,
    childrenRss: 7e6,
    allocatorRetained: 300e6,
  });
  assert.equal(
    memoryBreakdown({ rss: 10e6, heapUsed: 100e6, heapLimit: 1e9, external: 50e6, arrayBuffers: 0, childrenRss: 0 })
      .allocatorRetained,
    0,
  );
  assert.match(
    describeBreakdown({
      rss: 500e6,
      heapUsed: 100e6,
      heapTotal: 150e6,
      heapLimit: 4e9,
      external: 50e6,
      arrayBuffers: 40e6,
      childrenRss: 7e6,
    }),
    /allocator-retained and native ~300 MB/,
  );
});

test('stage activity: the busiest downstream stage of the window, else the busiest stage', () => {
  const stats = [newStageStats('fromCsv', 'source'), newStageStats('map', 'transform'), newStageStats('toCsv', 'sink')];
  const activity = new StageActivity(stats);
  activity.note(0);
  stats[0]!.timeMs = 900;
  stats[1]!.timeMs = 300;
  stats[1]!.rowsIn = 5000;
  stats[2]!.timeMs = 100;
  activity.note(1000);
  assert.deepEqual(activity.running(), { stage: 'map', kind: 'transform', busyMs: 300, windowMs: 1000, rowsIn: 5000 });
  const quiet = new StageActivity([newStageStats('fromCsv', 'source'), newStageStats('drain', 'sink')]);
  assert.equal(quiet.running()?.stage, 'fromCsv');
  assert.equal(new StageActivity([]).running(), undefined);
});

test('reusable memory: a pause held only by memory the allocator keeps is relieved after a collection; real growth still pauses and fails', async () => {
  // idle: 100 MB RSS of which 50 MB heap reserved and 5 MB external: a 45 MB native baseline
  let reading = { rss: 100e6, heapUsed: 30e6, heapTotal: 50e6, heapLimit: 4e9, external: 5e6, arrayBuffers: 4e6 };
  const probe: MemoryProbe = { sample: () => reading };
  const governor = new MemoryGovernor({
    limit: 1e9,
    intervalMs: 10_000,
    probe,
    gc: true,
    gcIntervalMs: 0,
    leak: false,
  });
  const detach = governor.attach();
  await governor.sampleNow();
  // a spill wrote out its batches: RSS stays at the pause mark, the data in use is small
  reading = { rss: 820e6, heapUsed: 40e6, heapTotal: 120e6, heapLimit: 4e9, external: 30e6, arrayBuffers: 25e6 };
  await governor.sampleNow();
  assert.equal(governor.level, 'pause');
  // RSS eases a little but stays above the resume mark (70%): without a credit the pause would last
  reading = { ...reading, rss: 790e6 };
  // the next sample while paused collects, finds the data in use small (~115 MB), and grants a
  // credit of the memory the allocator keeps: relief
  await governor.sampleNow();
  assert.notEqual(governor.level, 'pause', 'reusable memory does not keep the pipeline paused');
  assert.notEqual(governor.level, 'critical');
  // in use really grows (heap 500 MB): a pause again, whatever the credit
  reading = { rss: 900e6, heapUsed: 500e6, heapTotal: 560e6, heapLimit: 4e9, external: 30e6, arrayBuffers: 25e6 };
  await governor.sampleNow();
  assert.equal(governor.level, 'pause');
  // and the real RSS past the critical mark fails as before
  reading = { rss: 960e6, heapUsed: 500e6, heapTotal: 560e6, heapLimit: 4e9, external: 30e6, arrayBuffers: 25e6 };
  const critical = once(governor, 'critical');
  await governor.sampleNow();
  assert.equal(governor.level, 'critical');
  await critical;
  detach();
  governor.close();
});

test('reusable memory: no credit without heap figures (injected probes); the credit is at most the memory retained', async () => {
  const { ReusableMemory } = await import('../../../lib/memory/reusable-memory.ts');
  const reuse = new ReusableMemory();
  assert.equal(
    reuse.observe({ rss: 100e6, total: 100e6, heapUsed: 10e6, heapTotal: 0, external: 0, childrenRss: 0 }),
    false,
  );
  assert.equal(
    reuse.grant({ rss: 800e6, total: 800e6, heapUsed: 10e6, heapTotal: 0, external: 0, childrenRss: 0 }, 700e6),
    false,
  );
  reuse.observe({ rss: 100e6, total: 100e6, heapUsed: 30e6, heapTotal: 50e6, external: 5e6, childrenRss: 0 });
  // RSS 900 MB, in use ~95 MB (40 heap + 10 external + 45 native): the credit wanted is 207 MB
  const figures = { rss: 900e6, total: 900e6, heapUsed: 40e6, heapTotal: 120e6, external: 10e6, childrenRss: 0 };
  assert.equal(reuse.grant(figures, 700e6), true);
  assert.equal(reuse.credit, 900e6 - 700e6 + 7e6);
  assert.equal(reuse.adjusted(900e6, 50e6), 850e6, 'a cap limits the credit used');
  // in use at 640 MB (over 90% of the resume mark): no credit
  const busy = new ReusableMemory();
  busy.observe({ rss: 100e6, total: 100e6, heapUsed: 30e6, heapTotal: 50e6, external: 5e6, childrenRss: 0 });
  assert.equal(busy.grant({ ...figures, heapUsed: 600e6, heapTotal: 650e6 }, 700e6), false);
  assert.equal(busy.credit, 0);
  // retained memory smaller than wanted: the credit stops at RSS - in use
  const small = new ReusableMemory();
  small.observe({ rss: 100e6, total: 100e6, heapUsed: 30e6, heapTotal: 50e6, external: 5e6, childrenRss: 0 });
  assert.equal(small.grant({ ...figures, heapUsed: 560e6, heapTotal: 600e6, rss: 760e6, total: 760e6 }, 700e6), true);
  reuse.reset();
  assert.equal(reuse.credit, 0);
});

test('reusable memory beyond the pause-resume gap: the pause a CI run held for 120 s ends; RSS growth alone pauses again before critical', async () => {
  // the figures of that run: limit 381 MB, a 120 MB native baseline, then RSS 330 MB with 18.7 MB
  // of heap in use and 21 MB external (281 MB kept by the allocator after the test's Buffers were freed)
  const limit = 381e6;
  let reading = { rss: 150e6, heapUsed: 10e6, heapTotal: 20e6, heapLimit: 4e9, external: 10e6, arrayBuffers: 8e6 };
  const governor = new MemoryGovernor({
    limit,
    intervalMs: 10_000,
    probe: { sample: () => reading },
    gc: true,
    gcIntervalMs: 0,
    leak: false,
  });
  const detach = governor.attach();
  await governor.sampleNow();
  reading = { rss: 320e6, heapUsed: 200e6, heapTotal: 210e6, heapLimit: 4e9, external: 21e6, arrayBuffers: 20e6 };
  await governor.sampleNow();
  assert.equal(governor.level, 'pause');
  reading = { rss: 330e6, heapUsed: 18.7e6, heapTotal: 40e6, heapLimit: 4e9, external: 21e6, arrayBuffers: 20e6 };
  await governor.sampleNow();
  assert.notEqual(governor.level, 'pause', 'the retained memory does not hold the pause');
  // RSS grows by 15 MB with the data in use unchanged: retained memory ran out, so pause again
  reading = { ...reading, rss: 345e6 };
  await governor.sampleNow();
  assert.equal(governor.level, 'pause', 'RSS growth alone pauses below the critical mark (362 MB)');
  // relieved again after a collection; then the data in use grows to the pause mark: pause
  await governor.sampleNow();
  assert.notEqual(governor.level, 'pause');
  reading = { ...reading, external: 200e6, arrayBuffers: 199e6 };
  await governor.sampleNow();
  assert.equal(governor.level, 'pause', 'growth of the data in use pauses at the usual mark');
  detach();
  governor.close();
});
