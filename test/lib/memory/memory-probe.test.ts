import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import v8 from 'node:v8';
import { ProcessMemoryProbe, obtainGc, systemMemoryLimit } from '../../../lib/memory/memory-probe.ts';
import { MemoryGovernor } from '../../../lib/memory/governor.ts';

test('the real probe reads this process: RSS, heap and its limit', async () => {
  const probe = new ProcessMemoryProbe();
  const reading = await probe.sample([]);
  const usage = process.memoryUsage();
  assert.ok(
    reading.rss > 10e6 && Math.abs(reading.rss - usage.rss) < 0.5 * usage.rss,
    `rss ${reading.rss} vs ${usage.rss}`,
  );
  assert.equal(reading.heapLimit, v8.getHeapStatistics().heap_size_limit);
  assert.ok(reading.heapUsed > 0 && reading.heapUsed < reading.heapLimit);
  assert.equal(reading.childrenRss, 0);
  assert.ok(systemMemoryLimit() >= reading.rss);
});

test('a real child holding ~100 MB shows in childrenRss; a child that is gone counts zero', async () => {
  const governor = new MemoryGovernor({ gc: false, leak: false });
  // Buffer.alloc with a fill touches every page, so the memory is resident, not only reserved
  const child = spawn(
    process.execPath,
    ['-e', "const b = Buffer.alloc(100e6, 1); process.stdout.write('ready\\n'); setInterval(() => b[0]++, 1e6);"],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const [line] = await once(child.stdout, 'data');
    assert.match(String(line), /ready/);
    const before = await governor.sampleNow();
    assert.equal(before.childrenRss, 0);
    const untrack = governor.trackChild(child.pid as number);
    const during = await governor.sampleNow();
    assert.ok(during.childrenRss > 100e6, `child RSS ${during.childrenRss}`);
    assert.equal(during.total, during.rss + during.childrenRss);
    assert.ok(during.fraction >= during.total / governor.limit);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const gone = await governor.sampleNow(); // the pid is still tracked but has vanished
    assert.equal(gone.childrenRss, 0);
    untrack();
    assert.equal((await governor.sampleNow()).childrenRss, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    governor.close();
  }
});

test('obtainGc returns a working collector even without --expose-gc', () => {
  const gc = obtainGc();
  assert.equal(typeof gc, 'function');
  let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i }));
  const withGarbage = process.memoryUsage().heapUsed;
  garbage = undefined;
  gc?.();
  assert.equal(garbage, undefined);
  assert.ok(process.memoryUsage().heapUsed < withGarbage, 'the heap shrank');
  assert.equal(
    typeof (globalThis as { gc?: unknown }).gc === 'function',
    process.execArgv.includes('--expose-gc'),
    'no gc global leaks into this context',
  );
});

test('real memory: retained Buffers pause the governor; released, a GC it runs brings relief', async () => {
  const base = process.memoryUsage().rss;
  // the pause mark sits 80 MB above where we are now
  const governor = new MemoryGovernor({
    limit: Math.round((base + 80e6) / 0.8),
    intervalMs: 5,
    gcIntervalMs: 20,
    leak: false,
    onCritical: 'wait',
  });
  const detach = governor.attach();
  let held: Buffer[] = [];
  try {
    const pressure = once(governor, 'pressure');
    while (!governor.paused && held.length < 100) {
      held.push(Buffer.alloc(10e6, 7)); // filled: resident
      await new Promise((resolve) => setImmediate(resolve));
      if (held.length % 5 === 0) await governor.sampleNow();
    }
    assert.equal(governor.paused, true, `paused after ${held.length * 10} MB`);
    const [sample] = await pressure;
    assert.ok(sample.fraction >= 0.8);
    held = [];
    await governor.waitForRelief();
    assert.equal(governor.paused, false);
    const summary = governor.summary();
    assert.ok(summary.gcRuns >= 1, 'the governor collected the released buffers');
    assert.equal(summary.pressureEvents, 1);
    assert.ok(summary.peakRss >= base + 60e6);
  } finally {
    held = [];
    detach();
    governor.close();
  }
});
