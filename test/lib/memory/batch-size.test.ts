import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AdaptiveBatchSize, estimateBatchSize, type HeadroomSource } from '../../../lib/memory/batch-size.ts';
import { ErrorCodes, type SpillwayError } from '../../../lib/core/errors.ts';
import type { MemoryLevel } from '../../../lib/memory/governor.ts';

/** A governor stand-in whose headroom and level the test sets. */
class FakeGovernor implements HeadroomSource {
  room = 1e9;
  level: MemoryLevel = 'ok';
  headroom(): number {
    return this.room;
  }
}

/** Times the size sequence turned from growing to shrinking or back. */
function reversals(sizes: readonly number[]): number {
  let count = 0;
  let direction = 0;
  for (let i = 1; i < sizes.length; i++) {
    const d = Math.sign((sizes[i] ?? 0) - (sizes[i - 1] ?? 0));
    if (d !== 0 && direction !== 0 && d !== direction) count++;
    if (d !== 0) direction = d;
  }
  return count;
}

test('estimateBatchSize: rows that fit the budget, within bounds', () => {
  assert.equal(estimateBatchSize(100, 1e6), 10_000);
  assert.equal(estimateBatchSize(100, 1e6, { max: 5000 }), 5000);
  assert.equal(estimateBatchSize(100, 10, { min: 16 }), 16);
  assert.equal(estimateBatchSize(0, 1e6, { max: 777 }), 777);
  assert.equal(estimateBatchSize(300, 1000), 3);
  assert.equal(estimateBatchSize(300, 0), 1);
  for (const [a, b, path] of [
    [-1, 10, 'bytesPerRow'],
    [Number.NaN, 10, 'bytesPerRow'],
    [10, -5, 'budgetBytes'],
  ] as const) {
    assert.throws(
      () => estimateBatchSize(a, b),
      (e: SpillwayError) => e.code === ErrorCodes.INVALID_OPTION && e.message.includes(`\`${path}\``),
    );
  }
  assert.throws(
    () => estimateBatchSize(1, 1, { min: 10, max: 5 }),
    (e: SpillwayError) => e.message.includes('`bounds.max`'),
  );
});

test('adaptive: settles on the size the budget allows and then stays there', () => {
  const sizes = new AdaptiveBatchSize({ min: 10, max: 1_000_000, initial: 1000, budget: '4MB' });
  const seen: number[] = [];
  for (let i = 0; i < 60; i++) {
    const n = sizes.next();
    seen.push(n);
    sizes.observe(n, n * 200); // 200 bytes a row: the budget fits 20 000
  }
  const last = seen.slice(-20);
  assert.ok(
    last.every((n) => n === last[0]),
    `settled: ${last.join(',')}`,
  );
  assert.ok(Math.abs((last[0] ?? 0) - 20_000) <= 0.15 * 20_000, `near 20000: ${last[0]}`);
  assert.equal(reversals(seen), 0);
  // it grew by at most 2x a step
  for (let i = 1; i < seen.length; i++) assert.ok((seen[i] ?? 0) <= 2 * (seen[i - 1] ?? 0));
  assert.equal(sizes.summary().last, last[0]);
  assert.equal(sizes.summary().bytesPerRow, 200);
  assert.deepEqual(sizes.chosen.at(-1), last[0]);
});

test('adaptive: noisy bytes per row (±25%) does not make the size oscillate', () => {
  const sizes = new AdaptiveBatchSize({ min: 1, max: 100_000, initial: 5000, budget: '8MB' });
  let seed = 3;
  const seen: number[] = [];
  for (let i = 0; i < 500; i++) {
    const n = sizes.next();
    seen.push(n);
    seed = (seed * 16807) % 2147483647;
    const perRow = 400 * (0.75 + 0.5 * (seed / 2147483647));
    sizes.observe(n, n * perRow);
  }
  const summary = sizes.summary();
  assert.ok(summary.changes <= 15, `changes ${summary.changes}`);
  assert.ok(reversals(seen) <= 6, `reversals ${reversals(seen)}: ${sizes.chosen.join(',')}`);
});

test('adaptive: follows the governor headroom down, drops to min when paused, and recovers gradually', () => {
  const governor = new FakeGovernor();
  const sizes = new AdaptiveBatchSize({
    min: 100,
    max: 50_000,
    initial: 1000,
    governor,
    headroomShare: 0.1,
    budget: '64MB',
  });
  const run = (steps: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < steps; i++) {
      const n = sizes.next();
      out.push(n);
      sizes.observe(n, n * 1000); // 1 kB a row
    }
    return out;
  };
  governor.room = 400e6; // share 40 MB -> 40 000 rows
  assert.ok(Math.abs((run(30).at(-1) ?? 0) - 40_000) <= 6000);
  governor.room = 50e6; // 5 MB -> 5000 rows
  const down = run(30);
  assert.ok(Math.abs((down.at(-1) ?? 0) - 5000) <= 750, String(down.at(-1)));
  assert.equal(reversals(down), 0);
  governor.level = 'spill'; // aims at half
  assert.ok(Math.abs((run(30).at(-1) ?? 0) - 2500) <= 400);
  governor.level = 'pause';
  assert.equal(run(1)[0], 100);
  governor.level = 'ok';
  governor.room = 400e6;
  const up = run(10);
  assert.ok((up[0] ?? 0) <= 200, 'at most double after a pause');
  for (let i = 1; i < up.length; i++) assert.ok((up[i] ?? 0) <= 2 * (up[i - 1] ?? 0));
});

test('adaptive: always within bounds, whatever is observed (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 0, max: 100_000 }),
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 10_000 }),
          fc.double({ min: 0, max: 1e9, noNaN: true }),
          fc.double({ min: 0, max: 1e10, noNaN: true }),
          fc.constantFrom<MemoryLevel>('ok', 'spill', 'pause', 'critical'),
        ),
        { maxLength: 80 },
      ),
      (min, span, steps) => {
        const governor = new FakeGovernor();
        const sizes = new AdaptiveBatchSize({ min, max: min + span, governor });
        for (const [rows, bytes, room, level] of steps) {
          governor.room = room;
          governor.level = level;
          const n = sizes.next();
          if (!(Number.isInteger(n) && n >= min && n <= min + span)) return false;
          sizes.observe(rows, bytes);
        }
        return true;
      },
    ),
  );
});

test('adaptive: options are validated', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ min: 0 }, 'options.min'],
    [{ min: 10, max: 5 }, 'options.max'],
    [{ min: 10, max: 100, initial: 500 }, 'options.initial'],
    [{ governor: {} }, 'options.governor'],
    [{ budget: 'big' }, 'options.budget'],
    [{ headroomShare: 2 }, 'options.headroomShare'],
    [{ smoothing: 0 }, 'options.smoothing'],
  ];
  for (const [options, path] of cases) {
    assert.throws(
      () => new AdaptiveBatchSize(options as never),
      (e: SpillwayError) => e.code === ErrorCodes.INVALID_OPTION && e.message.includes(`\`${path}\``),
      path,
    );
  }
});
