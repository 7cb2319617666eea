import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeakDetector, fitLine } from '../../../lib/memory/leak-detector.ts';
import { random } from '../../../samples/trades-data.ts';

/** Seeded uniform noise in [-0.5, 0.5), so runs are repeatable. */
function noiseSource(seed: number): () => number {
  const next = random(seed);
  return () => next() - 0.5;
}

test('fitLine recovers slope of an exact line and a huge epoch offset loses no precision', () => {
  const ts = Array.from({ length: 50 }, (_, i) => 1.7e12 + i * 100);
  const ys = ts.map((t) => 3 * (t - 1.7e12) + 5e9);
  const fit = fitLine(ts, ys);
  assert.ok(Math.abs(fit.slope - 3) < 1e-9, String(fit.slope));
  assert.ok(fit.slopeError < 1e-6);
  assert.equal(fitLine([1, 2], [5, 5]).slopeError, Infinity);
});

test('a rising series warns once per episode; the episode ends when the slope falls, and a new one warns again', () => {
  const d = new LeakDetector({ windowMs: 10_000, thresholdBytesPerMin: 1e6 });
  const noise = noiseSource(1);
  let t = 0;
  let rss = 100e6;
  const warnings: number[] = [];
  const feed = (n: number, perStep: number): void => {
    for (let i = 0; i < n; i++) {
      t += 100;
      rss += perStep;
      if (d.add(t, rss + noise() * 2e5)) warnings.push(t);
    }
  };
  feed(300, 5e6 / 600); // 5 MB/min for 30 s
  assert.equal(warnings.length, 1);
  assert.ok((warnings[0] ?? 0) >= 10_000, 'not during warm-up');
  feed(300, 0); // flat: the episode ends
  assert.equal(warnings.length, 1);
  assert.ok((d.lastSlopeBytesPerMin ?? Infinity) < 0.5e6);
  feed(300, 5e6 / 600); // rising again: a second episode
  assert.equal(warnings.length, 2);
  assert.equal(d.warnings, 2);
});

test('a flat series with large noise never warns, over many windows and seeds', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const d = new LeakDetector({ windowMs: 10_000, thresholdBytesPerMin: 1e6 });
    const noise = noiseSource(seed);
    for (let i = 0; i < 2000; i++) {
      assert.equal(d.add(i * 100, 300e6 + noise() * 30e6), undefined, `seed ${seed} at ${i}`);
    }
  }
});

test('a GC sawtooth with no trend does not warn; the same sawtooth on a rising base does', () => {
  const saw = (i: number): number => ((i % 37) / 37) * 20e6; // 20 MB teeth every 3.7 s
  const flat = new LeakDetector({ windowMs: 30_000, thresholdBytesPerMin: 1e6 });
  const rising = new LeakDetector({ windowMs: 30_000, thresholdBytesPerMin: 1e6 });
  let flatWarnings = 0;
  let risingWarnings = 0;
  for (let i = 0; i < 3000; i++) {
    if (flat.add(i * 100, 200e6 + saw(i))) flatWarnings++;
    if (rising.add(i * 100, 200e6 + saw(i) + (i * 10e6) / 600)) risingWarnings++;
  }
  assert.equal(flatWarnings, 0);
  assert.equal(risingWarnings, 1);
});

test('a slope under the threshold does not warn, and a gap longer than the window starts afresh', () => {
  const slow = new LeakDetector({ windowMs: 10_000, thresholdBytesPerMin: 1e6 });
  for (let i = 0; i < 1000; i++) assert.equal(slow.add(i * 100, 100e6 + (i * 0.5e6) / 600), undefined);
  const gap = new LeakDetector({ windowMs: 10_000, thresholdBytesPerMin: 1e6, warmupMs: 0 });
  for (let i = 0; i < 50; i++) gap.add(i * 100, 100e6);
  // after a long idle gap, a jump is not a slope: the window restarts and needs to fill again
  for (let i = 0; i < 50; i++) assert.equal(gap.add(1e6 + i * 100, 500e6), undefined);
});
