import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { totalmem } from 'node:os';
import {
  MemoryGovernor,
  MemoryLimitError,
  defaultGovernor,
  nextLevel,
  resolveLimit,
  systemMemoryLimit,
  type MemoryLevel,
  type MemoryProbe,
  type MemoryReading,
  type LeakInfo,
} from '../../../lib/memory/governor.ts';
import { ErrorCodes, type SpillwayError } from '../../../lib/core/errors.ts';
import { HEAP_FULL } from '../../../lib/memory/sample.ts';
import { nativePoolsAllowed } from '../../../lib/memory/native-pools.ts';

const LIMIT = 1e9; // '1000MB'

/** A probe whose figures the test sets; each reading advances its clock by `stepMs`. */
class FakeProbe implements MemoryProbe {
  fraction = 0.1;
  heapUsed = 0;
  heapLimit = 4e9;
  childRss = 0;
  time = 1_000_000;
  stepMs = 100;
  calls = 0;
  /** Called before each reading: lets a test change the figures reading by reading. */
  before: ((calls: number) => void) | undefined;
  seenChildren: number[][] = [];

  sample(children: readonly number[]): MemoryReading {
    this.calls++;
    this.before?.(this.calls);
    this.time += this.stepMs;
    this.seenChildren.push([...children]);
    return {
      time: this.time,
      rss: Math.round(this.fraction * LIMIT),
      heapUsed: this.heapUsed,
      heapLimit: this.heapLimit,
      childrenRss: children.length * this.childRss,
    };
  }
}

function governor(probe: FakeProbe, options: ConstructorParameters<typeof MemoryGovernor>[0] = {}): MemoryGovernor {
  return new MemoryGovernor({ limit: '1000MB', probe, gc: false, leak: false, ...options });
}

async function at(g: MemoryGovernor, probe: FakeProbe, fraction: number): Promise<MemoryLevel> {
  probe.fraction = fraction;
  await g.sampleNow();
  return g.level;
}

/** Settles-or-not check without sleeping: a promise is pending if a queued macrotask sees it unsettled. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

test('levels follow the marks with hysteresis on the way down', async () => {
  const probe = new FakeProbe();
  const g = governor(probe);
  const events: string[] = [];
  g.on('level', (level, sample, previous) => events.push(`${previous}->${level}@${sample.fraction.toFixed(2)}`));
  const steps: [number, MemoryLevel][] = [
    [0.5, 'ok'],
    [0.65, 'spill'],
    [0.55, 'spill'], // above spill - 0.1
    [0.45, 'ok'],
    [0.85, 'pause'],
    [0.79, 'pause'],
    [0.71, 'pause'], // still above resume (0.7)
    [0.65, 'spill'], // below resume, above spill resume
    [0.85, 'pause'],
    [0.45, 'ok'], // straight down to ok
    [0.97, 'critical'],
    [0.92, 'critical'], // above critical - 0.05
    [0.85, 'pause'],
    [0.3, 'ok'],
  ];
  for (const [fraction, level] of steps) assert.equal(await at(g, probe, fraction), level, `at ${fraction}`);
  assert.deepEqual(events, [
    'ok->spill@0.65',
    'spill->ok@0.45',
    'ok->pause@0.85',
    'pause->spill@0.65',
    'spill->pause@0.85',
    'pause->ok@0.45',
    'ok->critical@0.97',
    'critical->pause@0.85',
    'pause->ok@0.30',
  ]);
  const summary = g.summary();
  assert.equal(summary.pressureEvents, 3);
  assert.equal(summary.spillsRequested, 3);
  assert.equal(summary.criticalEvents, 1);
  g.close();
});

test('nextLevel with custom marks, and paused is true only at pause and critical', async () => {
  const marks = { spill: 0.5, spillResume: 0.4, pause: 0.6, resume: 0.55, critical: 0.9, criticalResume: 0.85 };
  assert.equal(nextLevel('ok', 0.45, marks), 'ok');
  assert.equal(nextLevel('spill', 0.45, marks), 'spill');
  assert.equal(nextLevel('pause', 0.57, marks), 'pause');
  assert.equal(nextLevel('pause', 0.54, marks), 'spill');
  assert.equal(nextLevel('critical', 0.86, marks), 'critical');
  assert.equal(nextLevel('critical', 0.84, marks), 'pause');

  const probe = new FakeProbe();
  const g = governor(probe, { spill: 0.5, pause: 0.6, resume: 0.55, critical: 0.9, onCritical: 'wait' });
  assert.equal(await at(g, probe, 0.52), 'spill');
  assert.equal(g.paused, false);
  assert.equal(g.spilling, true);
  assert.equal(await at(g, probe, 0.61), 'pause');
  assert.equal(g.paused, true);
  assert.equal(await at(g, probe, 0.95), 'critical');
  assert.equal(g.paused, true);
  g.close();
});

test('heap pressure counts as well as RSS', async () => {
  const probe = new FakeProbe();
  const g = governor(probe);
  // the heap counts as full at HEAP_FULL of what it can fill (V8 aborts a thrashing heap before)
  probe.heapUsed = 0.85 * HEAP_FULL * probe.heapLimit;
  const sample = await g.sampleNow();
  assert.equal(sample.rss, 0.1 * LIMIT);
  assert.ok(Math.abs(sample.fraction - 0.85) < 1e-9);
  assert.equal(g.level, 'pause');
  // headroom is the smaller room: under the heap's pause mark here
  assert.equal(g.headroom(), 0);
  probe.heapUsed = 0;
  await g.sampleNow();
  assert.equal(g.level, 'ok');
  assert.equal(g.headroom(), Math.floor(0.8 * LIMIT - 0.1 * LIMIT));
  g.close();
});

test('pause makes waitForRelief wait until memory falls below resume', async () => {
  const probe = new FakeProbe();
  const g = governor(probe);
  await g.waitForRelief(); // not paused: resolves at once
  const pressure = once(g, 'pressure');
  await at(g, probe, 0.85);
  await pressure;
  assert.equal(g.paused, true);
  const relief = g.waitForRelief();
  assert.equal(await isPending(relief), true);
  await at(g, probe, 0.75); // below pause, above resume: still paused
  assert.equal(await isPending(relief), true);
  const reliefEvent = once(g, 'relief');
  await at(g, probe, 0.6);
  await relief;
  const [sample] = await reliefEvent;
  assert.equal(sample.rss, 0.6 * LIMIT);
  assert.equal(g.paused, false);
  g.close();
});

test('waitForRelief is released by the sampling timer while paused, without manual samples', async () => {
  const probe = new FakeProbe();
  const g = governor(probe, { intervalMs: 1 });
  await at(g, probe, 0.9);
  assert.equal(g.running, false); // nobody attached or waiting
  const relief = g.waitForRelief();
  assert.equal(g.running, true); // a waiter keeps the timer going
  assert.equal(await isPending(relief), true, 'still over the marks: the waiter waits');
  const reliefEvent = once(g, 'relief'); // emitted by a timer sample, as no one calls sample() here
  probe.fraction = 0.2;
  await reliefEvent;
  assert.equal(await isPending(relief), false, 'the relief sample released the waiter');
  assert.equal(g.level, 'ok');
  assert.equal(g.running, false);
  g.close();
});

test('waitForRelief rejects with an AbortError when its signal aborts, and when already aborted', async () => {
  const probe = new FakeProbe();
  const g = governor(probe);
  await at(g, probe, 0.9);
  const controller = new AbortController();
  const waiting = g.waitForRelief(controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(
    waiting,
    (error: SpillwayError) => error.code === ErrorCodes.ABORTED && (error.cause as Error).message === 'stop',
  );
  await assert.rejects(g.waitForRelief(AbortSignal.abort()), { code: ErrorCodes.ABORTED });
  assert.equal(g.running, false); // the aborted waiter no longer holds the timer
  g.close();
});

test('critical in abort mode emits a MemoryLimitError with the summary and rejects waiters', async () => {
  const probe = new FakeProbe();
  const g = governor(probe);
  await at(g, probe, 0.85);
  const waiting = g.waitForRelief();
  const critical = once(g, 'critical');
  await at(g, probe, 0.97);
  const [error] = (await critical) as [MemoryLimitError];
  assert.ok(error instanceof MemoryLimitError);
  assert.equal(error.code, ErrorCodes.MEMORY_LIMIT);
  assert.equal(error.memory.limit, LIMIT);
  assert.equal(error.memory.level, 'critical');
  assert.equal(error.memory.last?.rss, 0.97 * LIMIT);
  assert.equal(error.memory.criticalEvents, 1);
  assert.doesNotThrow(() => JSON.stringify(error.memory));
  await assert.rejects(waiting, (e) => e === error);
  await assert.rejects(g.waitForRelief(), (e) => e === error); // new waiters too, while critical
  g.close();
});

test('critical in wait mode emits no error and stays paused until relief', async () => {
  const probe = new FakeProbe();
  const g = governor(probe, { onCritical: 'wait' });
  let criticalErrors = 0;
  g.on('critical', () => criticalErrors++);
  await at(g, probe, 0.99);
  assert.equal(g.level, 'critical');
  const waiting = g.waitForRelief();
  await at(g, probe, 0.85);
  assert.equal(g.level, 'pause');
  assert.equal(await isPending(waiting), true);
  await at(g, probe, 0.5);
  await waiting;
  assert.equal(criticalErrors, 0);
  g.close();
});

test('a GC runs before pausing, and the level is judged on the sample after it', async () => {
  const probe = new FakeProbe();
  const g = governor(probe, { gc: true });
  // the first reading is full of garbage; the one after the collection is not
  probe.before = (calls) => (probe.fraction = calls === 1 ? 0.9 : 0.3);
  const sample = await g.sampleNow();
  assert.equal(sample.fraction, 0.3);
  assert.equal(g.level, 'ok');
  assert.equal(g.summary().gcRuns, 1);
  assert.equal(g.summary().samples, 2);
  g.close();
});

test('a GC runs before the spill level is entered: garbage alone never makes operators spill', async () => {
  const probe = new FakeProbe();
  const g = governor(probe, { gc: true });
  const levels: string[] = [];
  g.on('level', (level: string) => levels.push(level));
  // past the spill mark, all of it garbage: the level stays ok (a join spilled its whole build so)
  probe.before = (calls) => (probe.fraction = calls === 1 ? 0.65 : 0.55);
  await g.sampleNow();
  assert.equal(g.level, 'ok');
  assert.equal(g.summary().gcRuns, 1);
  // but native codecs keep off their thread pools until a reading falls below the resume mark (0.5)
  assert.equal(nativePoolsAllowed(), false);
  probe.before = undefined;
  probe.fraction = 0.52;
  await g.sampleNow();
  assert.equal(nativePoolsAllowed(), false);
  probe.fraction = 0.4;
  await g.sampleNow();
  assert.equal(nativePoolsAllowed(), true);
  // past it with memory held: spill, after a collection (200 ms later on the fake clock: the entry cap)
  probe.fraction = 0.65;
  probe.stepMs = 250;
  await g.sampleNow();
  assert.equal(g.level, 'spill');
  assert.equal(g.summary().gcRuns, 2);
  // inside the spill level, no collection per sample
  await g.sampleNow();
  assert.equal(g.summary().gcRuns, 2);
  assert.deepEqual(levels, ['spill']);
  g.close();
});

/** A governor that collects, paused at 90% after its first collection freed nothing. */
async function pausedByHeldMemory(probe: FakeProbe): Promise<MemoryGovernor> {
  const g = governor(probe, { gc: true });
  probe.fraction = 0.9;
  await g.sampleNow();
  assert.equal(g.level, 'pause');
  assert.equal(g.summary().gcRuns, 1);
  return g;
}

/** The next reading sees `before`, every reading after it `after`: memory a collection frees. */
function garbage(probe: FakeProbe, before: number, after: number): void {
  let readings = 0;
  probe.before = () => (probe.fraction = readings++ === 0 ? before : after);
}

test('a pause that begins soon after a collection gets a collection of its own', async () => {
  const probe = new FakeProbe();
  const g = await pausedByHeldMemory(probe);
  // released by the pipeline: the pause ends
  assert.equal(await at(g, probe, 0.65), 'spill');
  // garbage again, 300 ms (fake clock) after the last collection, well inside gcIntervalMs (2 s):
  // before the fix the pause began without a collection and held until the next paced one
  garbage(probe, 0.9, 0.3);
  await g.sampleNow();
  assert.equal(g.summary().gcRuns, 2);
  assert.equal(g.level, 'ok');
  g.close();
});

test('the critical level is never declared for garbage: a deep collection first, even just after another', async () => {
  const probe = new FakeProbe();
  probe.stepMs = 20;
  const g = await pausedByHeldMemory(probe);
  // 40 ms (fake clock) later, past the critical mark, all of it garbage: before, the collection
  // 40 ms old stood for this one (the entry cap, 200 ms) and the run failed
  garbage(probe, 0.97, 0.5);
  await g.sampleNow();
  assert.equal(g.summary().gcRuns, 2);
  assert.equal(g.summary().criticalEvents, 0);
  assert.notEqual(g.level, 'critical');
  g.close();
});

test('released(): while paused, a stage that let go of memory gets a collection and a fresh sample at once', async () => {
  const probe = new FakeProbe();
  const g = await pausedByHeldMemory(probe);
  // still paused on the next sample (no collection is due: paced at gcIntervalMs)
  await g.sampleNow();
  assert.equal(g.level, 'pause');
  assert.equal(g.summary().gcRuns, 1);
  // an operator spilled its table: what it held goes once collected
  garbage(probe, 0.9, 0.3);
  await g.released();
  assert.equal(g.summary().gcRuns, 2);
  assert.equal(g.level, 'ok');
  // not paused: nothing to do
  assert.equal(g.released(), undefined);
  g.close();
});

test('attach is ref-counted; the timer runs while anyone is attached and samples arrive', async () => {
  const probe = new FakeProbe();
  const g = governor(probe, { intervalMs: 1 });
  const detachA = g.attach();
  const detachB = g.attach();
  assert.equal(g.attached, 2);
  assert.equal(g.running, true);
  const [sample] = await once(g, 'sample');
  assert.equal(sample.rss, 0.1 * LIMIT);
  detachA();
  detachA(); // idempotent
  assert.equal(g.running, true);
  detachB();
  assert.equal(g.attached, 0);
  assert.equal(g.running, false);
  g.close();
  g.close(); // idempotent
  assert.equal(g.running, false);
  const detach = g.attach(); // after close: no-op
  assert.equal(g.running, false);
  detach();
});

test('close releases waiters', async () => {
  const probe = new FakeProbe();
  const g = governor(probe);
  await at(g, probe, 0.9);
  const waiting = g.waitForRelief();
  assert.equal(await isPending(waiting), true, 'paused: the waiter waits');
  g.close();
  assert.equal(await isPending(waiting), false, 'close settles the waiter at once');
  await waiting; // and it resolves rather than rejects
});

test('tracked children are passed to the probe and counted in total', async () => {
  const probe = new FakeProbe();
  probe.childRss = 0.3 * LIMIT;
  const g = governor(probe);
  const untrackA = g.trackChild(4242);
  const untrackB = g.trackChild(4343);
  const sample = await at(g, probe, 0.25).then(() => g.lastSample);
  assert.deepEqual(probe.seenChildren.at(-1), [4242, 4343]);
  assert.equal(sample?.childrenRss, 0.6 * LIMIT);
  assert.equal(sample?.total, 0.85 * LIMIT);
  assert.equal(g.level, 'pause');
  untrackA();
  untrackB();
  untrackB();
  await g.sampleNow();
  assert.deepEqual(probe.seenChildren.at(-1), []);
  assert.equal(g.level, 'ok'); // 0.25: under resume and under the spill resume mark
  g.close();
  assert.throws(() => g.trackChild(-1), { code: ErrorCodes.INVALID_OPTION });
});

test('summary: RSS figures, growth, time per level, spills; JSON round trip; bounded history', async () => {
  const probe = new FakeProbe();
  const g = governor(probe, { historySize: 4 });
  for (const f of [0.1, 0.2, 0.3, 0.85, 0.85, 0.5, 0.5]) await at(g, probe, f);
  g.noteSpill(1000);
  g.noteSpill(500);
  const s = g.summary();
  assert.equal(s.samples, 7);
  assert.equal(s.peakRss, 0.85 * LIMIT);
  assert.equal(s.minRss, 0.1 * LIMIT);
  assert.equal(s.meanRss, Math.round(((0.1 + 0.2 + 0.3 + 0.85 + 0.85 + 0.5 + 0.5) / 7) * LIMIT));
  // pause held from the 4th sample to the 6th: two 100 ms steps
  assert.equal(s.pausedMs, 200);
  assert.equal(s.levels.pause, 200);
  assert.equal(s.levels.ok + s.levels.spill + s.levels.pause + s.levels.critical, 600);
  assert.equal(s.spills, 2);
  assert.equal(s.spilledBytes, 1500);
  assert.ok(s.growthBytesPerMin > 0);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  const history = g.history();
  assert.equal(history.length, 4);
  assert.deepEqual(
    history.map((h) => h.rss),
    [0.85, 0.85, 0.5, 0.5].map((f) => f * LIMIT),
  );
  assert.ok(history.every((h, i) => i === 0 || h.time > (history[i - 1]?.time ?? 0)));
  g.close();
});

test('leak: fires once on RSS rising while rows flow; not when flat and noisy; not when rows do not flow', async () => {
  const run = async (series: (i: number) => number, rows: boolean): Promise<LeakInfo[]> => {
    const probe = new FakeProbe();
    const g = governor(probe, { leak: { windowMs: 10_000, thresholdBytesPerMin: '1MB' } });
    const leaks: LeakInfo[] = [];
    g.on('leak', (info) => leaks.push(info));
    for (let i = 0; i < 600; i++) {
      if (rows) g.noteRows(100);
      probe.fraction = series(i) / LIMIT;
      await g.sampleNow();
    }
    assert.equal(g.summary().leakWarnings, leaks.length);
    g.close();
    return leaks;
  };
  let seed = 7;
  const noise = (): number => {
    // mulberry32: seeded, so the series is the same every run
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32 - 0.5;
  };
  // 5 MB/min = 5e6 / 600 per 100 ms sample, plus +-0.5 MB noise
  const rising = await run((i) => 200e6 + (i * 5e6) / 600 + noise() * 1e6, true);
  assert.equal(rising.length, 1);
  assert.ok(
    rising[0] && rising[0].slopeBytesPerMin > 3e6 && rising[0].slopeBytesPerMin < 8e6,
    `slope ${rising[0]?.slopeBytesPerMin}`,
  );
  assert.ok(rising[0] && rising[0].windowMs >= 9000);
  const flat = await run(() => 200e6 + noise() * 20e6, true);
  assert.equal(flat.length, 0);
  const idle = await run((i) => 200e6 + (i * 5e6) / 600, false);
  assert.equal(idle.length, 0);
});

test('limit: bytes, strings and fractions of what the machine allows', () => {
  assert.equal(resolveLimit('512MB'), 512e6);
  assert.equal(resolveLimit('1GiB'), 1024 ** 3);
  assert.equal(resolveLimit(2e9), 2e9);
  assert.equal(
    resolveLimit(0.5, 'options.limit', () => 8e9),
    4e9,
  );
  assert.equal(
    resolveLimit(1, 'options.limit', () => 8e9),
    8e9,
  );
  assert.equal(
    resolveLimit(undefined, 'options.limit', () => 8e9),
    8e9,
  );
  const system = systemMemoryLimit();
  assert.ok(system > 0 && system <= totalmem());
  assert.equal(new MemoryGovernor({ limit: 0.25 }).limit, Math.floor(system * 0.25));
  // the default follows the V8 heap limit and the machine (test/lib/governor-limits.test.ts)
  assert.ok(new MemoryGovernor().limit <= system);
  for (const bad of [0, -1, 'lots', '10kb', 1.5, Number.NaN]) {
    assert.throws(
      () => new MemoryGovernor({ limit: bad as number }),
      (e: SpillwayError) => e.code === ErrorCodes.INVALID_OPTION && e.message.includes('`options.limit`'),
      `limit ${String(bad)}`,
    );
  }
});

test('options are validated synchronously with messages naming the option', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ pause: 0.97 }, 'options.pause'],
    [{ resume: 0.85 }, 'options.resume'],
    [{ spill: 0.9 }, 'options.spill'],
    [{ spill: 0 }, 'options.spill'],
    [{ critical: 1.5 }, 'options.critical'],
    [{ spillResume: 0.7 }, 'options.spillResume'],
    [{ intervalMs: 0 }, 'options.intervalMs'],
    [{ intervalMs: 'fast' }, 'options.intervalMs'],
    [{ onCritical: 'explode' }, 'options.onCritical'],
    [{ probe: {} }, 'options.probe'],
    [{ historySize: 0 }, 'options.historySize'],
    [{ leak: { windowMs: -1 } }, 'options.leak.windowMs'],
    [{ leak: { thresholdBytesPerMin: 'much' } }, 'options.leak.thresholdBytesPerMin'],
    [{ leak: 'yes' }, 'options.leak'],
    [{ gc: 'yes' }, 'options.gc'],
  ];
  for (const [options, path] of cases) {
    assert.throws(
      () => new MemoryGovernor(options as never),
      (e: SpillwayError) => e.code === ErrorCodes.INVALID_OPTION && e.message.includes(`\`${path}\``),
      `${JSON.stringify(options)} should name ${path}`,
    );
  }
  assert.throws(() => new MemoryGovernor('1GB' as never), { code: ErrorCodes.INVALID_OPTION });
});

test('defaultGovernor is one shared instance until closed', () => {
  const a = defaultGovernor();
  assert.equal(defaultGovernor(), a);
  assert.equal(a.running, false); // no timer until a pipeline attaches
  a.close();
  const b = defaultGovernor();
  assert.notEqual(b, a);
  b.close();
});

test('released() at the spill level: a pause about to begin on that memory collects first, pacing or not', async () => {
  const probe = new FakeProbe();
  probe.stepMs = 20;
  const g = governor(probe, { gc: true });
  // the spill level, after the collection that comes before it
  assert.equal(await at(g, probe, 0.65), 'spill');
  assert.equal(g.summary().gcRuns, 1);
  // an operator wrote its table out at the spill level: nothing to wait for, but remembered
  assert.equal(g.released(), undefined);
  // 40 ms (fake clock) after that collection, inside the 200 ms a pause waits between
  // collections: before, the pause began on the table's garbage and lasted until the next paced one
  garbage(probe, 0.9, 0.3);
  await g.sampleNow();
  assert.equal(g.summary().gcRuns, 2);
  assert.equal(g.level, 'ok');
  // the release was spent by that collection: a later pause within the interval is paced again
  garbage(probe, 0.9, 0.3);
  await g.sampleNow();
  assert.equal(g.summary().gcRuns, 2);
  assert.equal(g.level, 'pause');
  g.close();
});
