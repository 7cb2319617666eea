/**
 * groupBy against DuckDB on generated awkward tables (fast-check), with a budget that forces
 * spilling and without; exactness of sums; first/last across spills; user-defined aggregates;
 * cleanup on abort; validation.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import fc from 'fast-check';
import type { DuckDBConnection } from '@duckdb/node-api';
import { pipeline, fromIterable, collect, map, groupBy, agg, type Aggregate, type StageStats } from 'spillway';
import { count, sum, mean, min, max, first, last, countDistinct } from '../../lib/operators/aggregates.ts';
import { duck, loadTable, query, multiset, tableArbitrary, canon, type TRow } from './operators-helpers.ts';

let db: { conn: DuckDBConnection; close: () => void };
before(async () => {
  db = await duck();
});
after(() => db.close());

function stageStats(stats: { stages: StageStats[] }, name: string): StageStats {
  return stats.stages.find((s) => s.name === name)!;
}

const aggregates = () => ({
  n: count(),
  nx: count('x'),
  s: sum('q'),
  sg: sum('g'),
  lo: min('x'),
  hi: max('x'),
  lk: min('k'),
  hk: max('k'),
  dx: countDistinct('x'),
  dk: countDistinct('k'),
});
const SQL_AGGS =
  'count(*) AS n, count(x) AS nx, sum(q) AS s, sum(g) AS sg, min(x) AS lo, max(x) AS hi, min(k) AS lk, max(k) AS hk, count(DISTINCT x) AS dx, count(DISTINCT k) AS dk';
const OUT = ['n', 'nx', 's', 'sg', 'lo', 'hi', 'lk', 'hk', 'dx', 'dk'];

async function run(rows: TRow[], keys: string[], budget: number | undefined) {
  const result = await pipeline(
    fromIterable(rows, { batchSize: 16 }),
    groupBy(keys, aggregates(), budget === undefined ? {} : { budget }),
    collect(),
  );
  return { rows: result.output as Record<string, unknown>[], stats: stageStats(result.stats, 'groupBy') };
}

describe('groupBy', () => {
  for (const keys of [['k'], ['k', 'g'], ['x'], ['g', 'x', 'k']]) {
    it(`matches DuckDB: GROUP BY ${keys.join(', ')} (spilling and in memory)`, async () => {
      await fc.assert(
        fc.asyncProperty(tableArbitrary(), async (rows) => {
          await loadTable(db.conn, 't', rows);
          const expected = multiset(
            await query(db.conn, `SELECT ${keys.join(', ')}, ${SQL_AGGS} FROM t GROUP BY ${keys.join(', ')}`),
            [...keys, ...OUT],
          );
          const memory = await run(rows, keys, undefined);
          assert.deepEqual(multiset(memory.rows, [...keys, ...OUT]), expected);
          assert.equal(memory.stats.details.partitionsSpilled, 0);
          const spilled = await run(rows, keys, 600);
          assert.deepEqual(multiset(spilled.rows, [...keys, ...OUT]), expected);
          if (expected.length >= 8)
            assert.ok((spilled.stats.details.partitionsSpilled as number) > 0, 'the tiny budget spilled');
        }),
        { numRuns: 12 },
      );
    });
  }

  it('spills, recurses and keeps first/last/collect in input order across partitions', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ i, key: `k${(i * 7919) % 3000}`, v: i % 13 }));
    const result = await pipeline(
      fromIterable(rows, { batchSize: 500 }),
      groupBy(
        'key',
        { n: count(), f: first('i'), l: last('i'), c: agg.collect('i', { limit: 3 }), m: mean('v') },
        { budget: '20kB' },
      ),
      collect(),
    );
    const stats = stageStats(result.stats, 'groupBy');
    assert.ok((stats.details.partitionsSpilled as number) > 0);
    assert.ok((stats.details.recursionDepth as number) >= 2, `recursion depth ${stats.details.recursionDepth}`);
    const expected = new Map<string, { n: number; f: number; l: number; c: number[]; s: number }>();
    for (const r of rows) {
      const e = expected.get(r.key);
      if (!e) expected.set(r.key, { n: 1, f: r.i, l: r.i, c: [r.i], s: r.v });
      else {
        e.n++;
        e.l = r.i;
        if (e.c.length < 3) e.c.push(r.i);
        e.s += r.v;
      }
    }
    const out = result.output as { key: string; n: number; f: number; l: number; c: number[]; m: number }[];
    assert.equal(out.length, expected.size);
    for (const row of out) {
      const e = expected.get(row.key)!;
      assert.deepEqual({ n: row.n, f: row.f, l: row.l, c: row.c }, { n: e.n, f: e.f, l: e.l, c: e.c }, row.key);
      assert.ok(Math.abs(row.m - e.s / e.n) < 1e-9);
      assert.deepEqual(Object.keys(row), ['key', 'n', 'f', 'l', 'c', 'm'], 'keys first, then aggregates in order');
    }
  });

  it('sums exactly: integers past 2^53 become bigint, bigint input stays bigint, decimal strings stay exact', async () => {
    const rows = [
      { k: 'a', v: Number.MAX_SAFE_INTEGER, d: '0.10' },
      { k: 'a', v: 10, d: '0.2' },
      { k: 'b', v: 1n, d: '-1.005' },
      { k: 'b', v: 2, d: null },
      { k: 'c', v: 1.5, d: '12345678901234567890.12345678901234567890' },
      { k: 'c', v: 2, d: '1' },
    ];
    const result = await pipeline(
      fromIterable(rows),
      groupBy('k', { s: sum('v'), d: sum('d'), m: mean('d') }),
      collect(),
    );
    const out = new Map((result.output as { k: string; s: unknown; d: unknown; m: unknown }[]).map((r) => [r.k, r]));
    assert.equal(out.get('a')!.s, 9007199254741001n);
    assert.equal(out.get('a')!.d, '0.30');
    assert.equal(out.get('b')!.s, 3n);
    assert.equal(out.get('b')!.d, '-1.005');
    assert.equal(out.get('c')!.s, 3.5);
    assert.equal(out.get('c')!.d, '12345678901234567891.12345678901234567890');
    assert.equal(out.get('a')!.m, 0.15);
  });

  it('merges user-defined aggregate states across spilled partitions', async () => {
    // a product of small integers modulo a prime, and a histogram in a Map: both must merge
    const product: Aggregate<bigint, bigint> = {
      init: () => 1n,
      add: (s, row) => (s * BigInt((row as { v: number }).v + 1)) % 1_000_003n,
      merge: (a, b) => (a * b) % 1_000_003n,
      finish: (s) => s,
    };
    const histogram: Aggregate<Map<number, number>, string> = {
      init: () => new Map(),
      add: (s, row) => s.set((row as { v: number }).v, (s.get((row as { v: number }).v) ?? 0) + 1),
      merge: (a, b) => {
        for (const [k, n] of b) a.set(k, (a.get(k) ?? 0) + n);
        return a;
      },
      finish: (s) =>
        [...s]
          .sort((x, y) => x[0] - y[0])
          .map(([k, n]) => `${k}:${n}`)
          .join(','),
    };
    const rows = Array.from({ length: 6000 }, (_, i) => ({ key: i % 700, v: (i * 31) % 5 }));
    const expected = new Map<number, { p: bigint; h: Map<number, number> }>();
    for (const r of rows) {
      const e = expected.get(r.key) ?? { p: 1n, h: new Map() };
      e.p = (e.p * BigInt(r.v + 1)) % 1_000_003n;
      e.h.set(r.v, (e.h.get(r.v) ?? 0) + 1);
      expected.set(r.key, e);
    }
    const result = await pipeline(
      fromIterable(rows, { batchSize: 100 }),
      groupBy('key', { p: product, h: histogram }, { budget: 5000 }),
      collect(),
    );
    assert.ok((stageStats(result.stats, 'groupBy').details.partitionsSpilled as number) > 0);
    for (const row of result.output as { key: number; p: bigint; h: string }[]) {
      const e = expected.get(row.key)!;
      assert.equal(row.p, e.p);
      assert.equal(row.h, histogram.finish(e.h));
    }
    assert.equal(result.output.length, 700);
  });

  it('spill files are 0600 in a 0700 directory, removed on success', async () => {
    const parent = mkdtempSync(joinPath(tmpdir(), 'gb-perm-'));
    try {
      const rows = Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}` }));
      const modes: number[] = [];
      let seen = 0;
      const peek = (row: object): object => {
        if (seen++ % 500 === 0) {
          for (const dir of readdirSync(parent)) {
            modes.push(statSync(joinPath(parent, dir)).mode & 0o777);
            const walk = (d: string): void => {
              for (const e of readdirSync(d, { withFileTypes: true })) {
                const p = joinPath(d, e.name);
                if (e.isDirectory()) {
                  assert.equal(statSync(p).mode & 0o777, 0o700, p);
                  walk(p);
                } else assert.equal(statSync(p).mode & 0o077, 0, p);
              }
            };
            walk(joinPath(parent, dir));
          }
        }
        return row;
      };
      const result = await pipeline(
        fromIterable(rows, { batchSize: 250 }),
        groupBy('key', { n: count() }, { budget: 60_000, dir: parent }),
        map(peek),
        collect(),
      );
      assert.equal(result.output.length, 5000);
      assert.ok(modes.length > 0 && modes.every((m) => m === 0o700), `modes ${modes.map((m) => m.toString(8))}`);
      assert.deepEqual(readdirSync(parent), []);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('abort mid-operator leaves no temporary files', async () => {
    const parent = mkdtempSync(joinPath(tmpdir(), 'gb-abort-'));
    try {
      const controller = new AbortController();
      let n = 0;
      async function* endless() {
        for (;;) {
          yield { key: `k${n}`, v: n };
          n++;
          // abort once the operator has spilled for sure
          if (n === 20_000) {
            assert.ok(readdirSync(parent).length > 0, 'spilled before the abort');
            controller.abort(new Error('stop'));
          }
        }
      }
      await assert.rejects(
        pipeline(
          fromIterable(endless(), { batchSize: 500 }),
          groupBy('key', { s: sum('v') }, { budget: 20_000, dir: parent }),
          collect(),
          { signal: controller.signal },
        ),
      );
      assert.deepEqual(readdirSync(parent), []);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('validates synchronously', () => {
    assert.throws(() => groupBy([], { n: count() }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => groupBy('k', { n: {} as Aggregate }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => groupBy('k', { k: count() }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => groupBy('k', { n: count() }, { budjet: 1 } as never), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => groupBy('k', { n: count() }, { budget: 'lots' }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => agg.collect('k', { limit: 0 }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => sum(''), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.equal(canon(-0), canon(0));
    void existsSync;
    void mean;
    void first;
    void last;
    void max;
    void min;
  });
});

describe('groupBy over timestamps finer than the millisecond', () => {
  it('min, max and countDistinct tell PreciseDates of one millisecond apart, from rows and from Arrow, in memory and spilled', async () => {
    const { PreciseDate } = await import('../../lib/formats/values.ts');
    const { rowsToRecordBatch } = await import('../../lib/formats/arrow/convert.ts');
    const { Readable } = await import('node:stream');
    // per key, five instants within one millisecond, in no order
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      k: `k${i % 600}`,
      t: new PreciseDate(1_767_623_400_000 + (i % 600), [500, 7, 999_999, 123_456, 8][Math.floor(i / 600)]!),
    }));
    const stage = (budget?: string) =>
      groupBy('k', { lo: agg.min('t'), hi: agg.max('t'), n: agg.countDistinct('t') }, budget ? { budget } : undefined);
    for (const [what, source] of [
      ['rows', () => fromIterable(rows)],
      ['Arrow', () => Readable.from([rowsToRecordBatch(rows)])],
    ] as const) {
      for (const budget of [undefined, '16kB']) {
        const { output } = await pipeline(
          source(),
          stage(budget),
          collect<{ k: string; lo: Date; hi: Date; n: number }>(),
        );
        assert.equal(output.length, 600, what);
        for (const g of output) {
          assert.match(g.lo.toISOString(), /\.\d{3}000007Z$/, `${what} ${budget}: min of ${g.k}`);
          assert.match(g.hi.toISOString(), /\.\d{3}999999Z$/, `${what} ${budget}: max of ${g.k}`);
          assert.equal(g.n, 5, `${what} ${budget}: countDistinct of ${g.k}`);
        }
      }
    }
  });
});

describe('groupBy over Arrow input whose first table does not aggregate', () => {
  /** 150k rows over 120k keys: the first 100k rows are as many groups, then keys 0..29,999 come again. */
  const ROWS = 150_000;
  const KEYS = 120_000;
  const key = (i: number): string | null => (i % KEYS === 7 ? null : i % 1000 === 3 ? `é-${i % KEYS}` : `k${i % KEYS}`);
  async function grouped(keyOf: (i: number) => string | null, budget: string) {
    const { rowsToRecordBatch } = await import('../../lib/formats/arrow/convert.ts');
    const { Readable } = await import('node:stream');
    const batches = function* () {
      for (let from = 0; from < ROWS; from += 10_000)
        yield rowsToRecordBatch(Array.from({ length: 10_000 }, (_, j) => ({ k: keyOf(from + j), v: (from + j) % 97 })));
    };
    const result = await pipeline(
      Readable.from(batches()),
      groupBy('k', { n: count(), s: sum('v'), lo: min('v') }, { budget }),
      collect<{ k: string | null; n: number; s: number; lo: number }>(),
    );
    const expected = new Map<string | null, { n: number; s: number; lo: number }>();
    for (let i = 0; i < ROWS; i++) {
      const v = i % 97;
      const e = expected.get(keyOf(i));
      if (e === undefined) expected.set(keyOf(i), { n: 1, s: v, lo: v });
      else Object.assign(e, { n: e.n + 1, s: e.s + v, lo: Math.min(e.lo, v) });
    }
    assert.equal(result.output.length, expected.size);
    for (const { k, n, s, lo } of result.output) assert.deepEqual({ n, s, lo }, expected.get(k), `group ${k}`);
    return stageStats(result.stats, 'groupBy').details;
  }

  it('writes it out once it holds a quarter of its budget, and later rows skip the tables, with every group right', async () => {
    // 100k groups take about 8.5 MB, 120k groups fit 32 MB: without the probe nothing would spill
    const details = await grouped(key, '32MB');
    assert.ok((details.passedRows as number) >= 40_000, `rows that skipped the table: ${details.passedRows}`);
    assert.ok((details.partitionsSpilled as number) > 0);
  });

  it('keeps aggregating in memory when the rows fall into fewer groups, or the table stays small', async () => {
    // 60k groups (4.4 MB, past a quarter of 16 MB) in the first 100k rows: they aggregate
    const few = await grouped((i) => `k${i % 60_000}`, '16MB');
    assert.deepEqual([few.spills, few.passedRows, few.partitionsSpilled], [0, 0, 0]);
    // 120k groups take less than a quarter of 1 GB: nothing is written out
    const small = await grouped(key, '1GB');
    assert.deepEqual([small.spills, small.passedRows, small.partitionsSpilled], [0, 0, 0]);
  });
});
