/**
 * Hash aggregation that stops aggregating (columnar-aggregate.ts, row-groups.ts): once a table it
 * wrote out held nearly one group per row, later rows skip the table as one-row groups. Their
 * partitions must be the ones the table gives the same keys, and first/last must keep input
 * order, also when an Arrow batch (which always goes through the table) comes between such rows.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../../lib/core/batch.ts';
import { rowsToRecordBatch } from '../../../lib/formats/arrow/build.ts';
import { RowViewer } from '../../../lib/core/row-view.ts';
import { ColumnarAggregator } from '../../../lib/operators/columnar-aggregate.ts';
import { OperatorScratch } from '../../../lib/operators/operator-scratch.ts';
import { columnGetter } from '../../../lib/operators/key-encoding.ts';
import { count, first, last, sum } from '../../../lib/operators/aggregates.ts';

interface In {
  i: number;
  k: string | number | bigint | null;
  v: number;
}

/** Groups `rows` by `k` in input order: the expected count, first, last and sum. */
function expected(rows: readonly In[]): Map<string, [number, number, number, number]> {
  const out = new Map<string, [number, number, number, number]>();
  for (const r of rows) {
    // 3 and 3n are one key (SQL equality), as are null and a missing value
    const key = r.k === null ? 'null' : typeof r.k === 'string' ? `s${r.k}` : `n${r.k}`;
    const e = out.get(key);
    if (e) {
      e[0]++;
      e[2] = r.i;
      e[3] += r.v;
    } else out.set(key, [1, r.i, r.i, r.v]);
  }
  return out;
}

async function aggregate(parts: readonly (In[] | { arrow: In[] })[]): Promise<{ out: Row[]; passed: number }> {
  const scratch = new OperatorScratch('groupBy');
  const aggregator = new ColumnarAggregator(
    {
      keyNames: ['k'],
      keys: [columnGetter('k')],
      names: ['n', 'f', 'l', 's'],
      aggregates: [count(), first('i'), last('i'), sum('v')],
      keepRows: false,
    },
    { budget: 16_000, scratch, counters: { depth: 0, flushes: 0, groups: 0, tableBytesAtSpill: 0 } },
  );
  try {
    for (const part of parts) {
      if (Array.isArray(part)) await aggregator.add(part as unknown as Row[]);
      else {
        const batch = rowsToRecordBatch(part.arrow.map((r) => ({ ...r, k: String(r.k) })) as unknown as Row[]);
        const viewer = new RowViewer(batch);
        await aggregator.addArrow(batch, (i) => viewer.at(i));
      }
    }
    const out: Row[] = [];
    for await (const rows of aggregator.finish()) out.push(...rows);
    return { out, passed: aggregator.passedRows };
  } finally {
    await aggregator.dispose();
    await scratch.dispose();
  }
}

function check(out: Row[], rows: readonly In[]): void {
  const want = expected(rows);
  assert.equal(out.length, want.size);
  for (const row of out as unknown as { k: In['k']; n: number; f: number; l: number; s: number }[]) {
    const key = row.k === null ? 'null' : typeof row.k === 'string' ? `s${row.k}` : `n${row.k}`;
    assert.deepEqual([row.n, row.f, row.l, row.s], want.get(key), key);
  }
}

it('rows that skip the table land in the partitions of their keys, numbers and bigints alike', async () => {
  // 4,000 distinct keys first (the table spills and does not aggregate), then every key again
  // as the other numeric type, and nulls
  const rows: In[] = [];
  for (let i = 0; i < 4000; i++) rows.push({ i, k: i % 2 ? i : `s${i}`, v: 1 });
  for (let i = 0; i < 4000; i++) rows.push({ i: 4000 + i, k: i % 2 ? BigInt(i) : `s${i}`, v: 2 });
  for (let i = 0; i < 50; i++) rows.push({ i: 8000 + i, k: null, v: 3 });
  const batches: In[][] = [];
  for (let i = 0; i < rows.length; i += 500) batches.push(rows.slice(i, i + 500));
  const { out, passed } = await aggregate(batches);
  assert.ok(passed > 4000, `rows passed: ${passed}`);
  check(out, rows);
});

it('an Arrow batch between rows that skip the table keeps first and last in input order', async () => {
  const keyOf = (i: number): string => `key${i % 3000}`;
  const rows: In[] = Array.from({ length: 9000 }, (_, i) => ({ i, k: keyOf(i), v: i % 7 }));
  // rows, then an Arrow batch of keys already seen and yet to come, then rows again
  const parts: (In[] | { arrow: In[] })[] = [];
  for (let i = 0; i < 4000; i += 500) parts.push(rows.slice(i, i + 500));
  parts.push({ arrow: rows.slice(4000, 5000) });
  for (let i = 5000; i < 9000; i += 500) parts.push(rows.slice(i, i + 500));
  const { out, passed } = await aggregate(parts);
  assert.ok(passed > 0, 'some rows skipped the table');
  check(out, rows);
});
