/**
 * ColumnarAggregator under a governor: a level change asks for a flush while a batch is being
 * folded in. Every flush and every batch must run one after the other. When a batch awaited the
 * queue and then ran beside it, the governor's flush and the batch's own flush wrote the same
 * table twice: its groups were counted twice after the merge (a governed groupBy over 1M rows
 * gave 10,000 groups with n = 2 instead of 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ColumnarAggregator } from '../../../lib/operators/columnar-aggregate.ts';
import type { TablePlan } from '../../../lib/operators/group-table.ts';
import { OperatorScratch } from '../../../lib/operators/operator-scratch.ts';
import { columnGetter } from '../../../lib/operators/key-encoding.ts';
import { count } from '../../../lib/operators/aggregates.ts';
import type { GovernorGate } from '../../../lib/core/stage.ts';
import type { MemoryLevel } from '../../../lib/memory/types.ts';

/** A governor whose level the test sets, telling its listeners as a MemoryGovernor does. */
class TestGate implements GovernorGate {
  level: MemoryLevel = 'ok';
  readonly #listeners = new Set<(level: MemoryLevel) => void>();
  get paused(): boolean {
    return this.level === 'pause' || this.level === 'critical';
  }
  waitForRelief(): Promise<void> {
    return Promise.resolve();
  }
  noteRows(): void {}
  headroom(): number {
    return 1e9;
  }
  onLevel(listener: (level: MemoryLevel) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  set(level: MemoryLevel): void {
    this.level = level;
    for (const l of this.#listeners) l(level);
  }
}

const plan: TablePlan = {
  keyNames: ['k'],
  keys: [columnGetter('k')],
  names: ['n'],
  aggregates: [count()],
  keepRows: false,
};

const rows = (from: number, n: number): { k: string }[] =>
  Array.from({ length: n }, (_, i) => ({ k: `key-${from + i}` }));

test('a flush the governor asks for while a batch is folded in runs after it, never beside it', async () => {
  const gate = new TestGate();
  const scratch = new OperatorScratch('groupBy');
  const counters = { depth: 0, flushes: 0, groups: 0, tableBytesAtSpill: 0 };
  const agg = new ColumnarAggregator(plan, { budget: 1e9, scratch, governor: gate, counters });
  try {
    await agg.add(rows(0, 3000));
    for (let round = 1; round <= 6; round++) {
      // at pause any table worth writing is written: by the batch's own check and by the listener
      const folding = agg.add(rows(round * 3000, 3000));
      gate.set(round % 2 === 0 ? 'pause' : 'spill');
      await folding;
      gate.set('ok');
    }
    const seen = new Map<string, number>();
    for await (const batch of agg.finish())
      for (const row of batch as Record<string, unknown>[]) seen.set(row.k as string, row.n as number);
    assert.ok(counters.flushes > 0, 'the governor made the table spill');
    assert.equal(seen.size, 21_000);
    const doubled = [...seen].filter(([, n]) => n !== 1);
    assert.deepEqual(doubled.slice(0, 3), [], `${doubled.length} groups counted more than once`);
  } finally {
    await agg.dispose();
    await scratch.dispose();
  }
});

test('dispose while a flush is in flight waits for it, and no partition outlives it', async () => {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'spillway-agg-dispose-'));
  const scratch = new OperatorScratch('groupBy', parent);
  const counters = { depth: 0, flushes: 0, groups: 0, tableBytesAtSpill: 0 };
  // a tiny budget: the batch's own check flushes the table to freshly opened partitions
  const agg = new ColumnarAggregator(plan, { budget: 1, scratch, counters });
  try {
    const folding = agg.add(rows(0, 20_000));
    const outcome = folding.then(
      () => 'done',
      (error: unknown) => (error as Error).name,
    );
    await agg.dispose();
    // the flush finished or stopped before dispose removed the partitions: none were made after
    assert.match(await outcome, /^(done|AbortError)$/);
    await assert.rejects(agg.add(rows(0, 10)), { name: 'AbortError' });
    const left: string[] = [];
    for (const entry of await readdir(parent, { recursive: true })) {
      const full = path.join(parent, entry);
      if ((await stat(full)).isFile()) left.push(entry);
    }
    assert.deepEqual(left, []);
  } finally {
    await scratch.dispose();
    await rm(parent, { recursive: true, force: true });
  }
});

const keyPlans: [string, TablePlan][] = [
  // two columns: the group index doubles
  ['a, b', { ...plan, keyNames: ['a', 'b'], keys: [columnGetter('a'), columnGetter('b')] }],
  // one number column: its dictionary's code table is the index, and doubles
  ['b', { ...plan, keyNames: ['b'], keys: [columnGetter('b')] }],
];

for (const [keys, keyPlan] of keyPlans)
  test(`a table that more rows would grow past its budget is written out before them, not grown first (keys ${keys})`, async () => {
    const scratch = new OperatorScratch('groupBy');
    const counters = { depth: 0, flushes: 0, groups: 0, tableBytesAtSpill: 0 };
    const budget = 1_000_000;
    const agg = new ColumnarAggregator(keyPlan, { budget, scratch, counters });
    try {
      // every row a new group: the group index doubles as the table fills
      for (let from = 0; from < 200_000; from += 2000) {
        await agg.add(Array.from({ length: 2000 }, (_, i) => ({ a: (from + i) % 7, b: from + i })));
      }
      assert.ok(counters.flushes >= 1, `${counters.flushes} tables written out`);
      const held = counters.tableBytesAtSpill;
      // written out before the doubling that would pass the budget: more than half of it held, not past it
      assert.ok(held > budget / 2 && held <= budget, `the table held ${held} bytes when written out, budget ${budget}`);
      let groups = 0;
      for await (const batch of agg.finish()) {
        const out = Array.isArray(batch) ? batch : batch.toArray();
        for (const row of out as { n: number }[]) {
          assert.equal(row.n, 1);
          groups++;
        }
      }
      assert.equal(groups, 200_000);
    } finally {
      await agg.dispose();
      await scratch.dispose();
    }
  });
