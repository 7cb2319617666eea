import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimelineRecorder, thinTimeline, type Timeline } from '../../../lib/observe/timeline.ts';
import { MemoryGovernor } from '../../../lib/memory/governor.ts';
import type { MemoryReading } from '../../../lib/memory/memory-probe.ts';

test('the record stays bounded: thinned to half at maxPoints, the interval doubling', () => {
  let now = 0;
  let rows = 0;
  const recorder = new TimelineRecorder({
    read: () => ({ rows: (rows += 10), bytes: rows * 3, batchRows: 10 }),
    maxPoints: 16,
    intervalMs: 100,
    timer: false,
    now: () => now,
  });
  for (let i = 0; i < 1000; i++) {
    now += 100;
    recorder.record();
  }
  const tl = recorder.stop();
  assert.ok(tl.t.length <= 16, `${tl.t.length} points`);
  assert.ok(tl.t.length >= 8);
  assert.ok(tl.intervalMs >= 100 * 2 ** 5);
  // cumulative columns keep their latest values; time ascends
  assert.equal(tl.rows.at(-1), rows);
  assert.equal(tl.bytes.at(-1), rows * 3);
  for (let i = 1; i < tl.t.length; i++) assert.ok((tl.t[i] ?? 0) > (tl.t[i - 1] ?? 0));
  assert.equal(tl.rss, undefined, 'no memory columns without a governor');
  // JSON round trip
  assert.deepEqual(JSON.parse(JSON.stringify(tl)), tl);
});

test('thinning keeps peaks of memory and levels, latest of cumulative columns', () => {
  const tl: Timeline = {
    start: 0,
    intervalMs: 10,
    t: [10, 20, 30, 40, 50],
    rows: [1, 2, 3, 4, 5],
    bytes: [1, 2, 3, 4, 5],
    batchRows: [1, 1, 2, 2, 3],
    spilledBytes: [0, 0, 7, 7, 9],
    rss: [5, 1, 1, 9, 2],
    heapUsed: [1, 1, 1, 1, 1],
    children: [0, 0, 0, 0, 0],
    level: [2, 0, 0, 3, 0],
  };
  thinTimeline(tl);
  assert.deepEqual(tl.t, [20, 40, 50]);
  assert.deepEqual(tl.rows, [2, 4, 5]);
  assert.deepEqual(tl.spilledBytes, [0, 7, 9]);
  assert.deepEqual(tl.rss, [5, 9, 2]);
  assert.deepEqual(tl.level, [2, 3, 0]);
  assert.equal(tl.intervalMs, 20);
});

/** A probe whose readings the test sets. */
function probe(reading: () => MemoryReading): { sample: () => MemoryReading } {
  return { sample: reading };
}

test('memory columns come from the governor: peak RSS between points, level, marks and spills', async () => {
  let rss = 100e6;
  const governor = new MemoryGovernor({
    limit: 1e9,
    intervalMs: 10_000,
    probe: probe(() => ({ rss, heapUsed: 10e6, heapLimit: 100e6, childrenRss: 5e6 })),
    leak: false,
    gc: false,
  });
  try {
    await governor.sampleNow();
    let now = 0;
    const recorder = new TimelineRecorder({
      read: () => ({ rows: 0, bytes: 0, batchRows: 0 }),
      governor,
      timer: false,
      now: () => now,
    });
    now = 100;
    recorder.record();
    // a spike between two points, gone by the next point: kept as that point's peak
    rss = 850e6;
    await governor.sampleNow();
    rss = 200e6;
    await governor.sampleNow();
    governor.noteSpill(42);
    now = 200;
    recorder.record();
    const tl = recorder.stop();
    assert.deepEqual(tl.memory, { limit: 1e9, heapLimit: 100e6, spill: 600e6, pause: 800e6, critical: 950e6 });
    assert.equal(tl.rss?.[0], 100e6);
    assert.equal(tl.rss?.[1], 850e6);
    assert.equal(tl.level?.[1], 2, 'the pause passed between the points is recorded');
    assert.equal(tl.children?.[1], 5e6);
    assert.equal(tl.spilledBytes[1], 42);
    assert.equal(governor.listenerCount('sample'), 0, 'stop() removes its listeners');
  } finally {
    governor.close();
  }
});

test('the first points borrow the first sample instead of showing zero memory', async () => {
  const governor = new MemoryGovernor({
    limit: 1e9,
    intervalMs: 10_000,
    probe: probe(() => ({ rss: 300e6, heapUsed: 10e6, heapLimit: 100e6 })),
    leak: false,
    gc: false,
  });
  try {
    let now = 0;
    const recorder = new TimelineRecorder({
      read: () => ({ rows: 0, bytes: 0, batchRows: 0 }),
      governor,
      timer: false,
      now: () => now,
    });
    now = 1;
    recorder.record();
    await governor.sampleNow();
    now = 2;
    recorder.record();
    now = 3;
    const tl = recorder.stop();
    assert.deepEqual(tl.rss, [300e6, 300e6, 300e6]);
  } finally {
    governor.close();
  }
});
