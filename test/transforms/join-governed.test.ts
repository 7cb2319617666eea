/**
 * join() whose right side is many times its budget: by the `budget` option, and by a real
 * MemoryGovernor held at its spill level (the budget from the governor's limit). Each must
 * finish, spill both sides to partitions (from stats), and give DuckDB's multiset. The governor's
 * probe reports a fixed share of the limit: the test process's own RSS (runner, loader, DuckDB)
 * would swamp a small limit, and the level is what the join reacts to.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { pipeline, fromIterable, collect, join, MemoryGovernor, type JoinHow, type StageStats } from 'spillway';
import type { MemoryProbe } from 'spillway/extend';
import { duck, loadTable, query, multiset, type TRow } from './operators-helpers.ts';
import { tempDir } from '../helpers.ts';

const KEYS = ['a', 'b', '', 'é', 'Ω', '日本', '😀'];

/** `n` rows from `first` on: 7 x 300 key pairs, some null keys, and a payload string that makes rows big. */
function table(first: number, n: number): TRow[] {
  return Array.from({ length: n }, (_, i) => {
    const id = first + i;
    const h = Math.imul(id, 2654435761) >>> 0;
    return {
      id,
      k: h % 53 === 0 ? null : KEYS[h % KEYS.length]!,
      g: h % 61 === 0 ? null : (h >>> 8) % 300,
      x: (h % 1000) / 8,
      q: id % 1000,
    };
  });
}

const LEFT = table(0, 30_000);
const RIGHT = table(100_000, 12_000);
const pad = (id: number): string => `${id}:`.padEnd(64, 'x');

let db: { conn: DuckDBConnection; close: () => void };
before(async () => {
  db = await duck();
  await loadTable(db.conn, 'l', LEFT);
  await loadTable(db.conn, 'r', RIGHT);
});
after(() => db.close());

async function expected(how: JoinHow): Promise<string[]> {
  const kind = how === 'inner' ? 'JOIN' : `${how.toUpperCase()} JOIN`;
  const sql = `SELECT l.id AS lid, r.id AS rid FROM l ${kind} r ON l.k = r.k AND l.g = r.g`;
  return multiset(await query(db.conn, sql), ['lid', 'rid']);
}

async function run(how: JoinHow, options: { budget?: number; governor?: MemoryGovernor; dir: string }) {
  const result = await pipeline(
    fromIterable(
      LEFT.map((r) => ({ lid: r.id, k: r.k, g: r.g, note: pad(r.id) })),
      { batchSize: 1024 },
    ),
    join(
      RIGHT.map((r) => ({ rid: r.id, k: r.k, g: r.g, memo: pad(r.id) })),
      { on: ['k', 'g'], how, dir: options.dir, ...(options.budget === undefined ? {} : { budget: options.budget }) },
    ),
    collect(),
    options.governor ? { governor: options.governor } : {},
  );
  const rows = result.output as Record<string, unknown>[];
  for (const row of rows.slice(0, 500))
    if (row.rid !== null && row.rid !== undefined) assert.equal(row.memo, pad(row.rid as number), 'right payload kept');
  return { rows, details: result.stats.stages.find((s: StageStats) => s.name === 'join')!.details };
}

describe('join with a build side several times its memory', () => {
  for (const how of ['inner', 'full'] as JoinHow[]) {
    it(`${how}: a 400 kB budget (right side ~3 MB) spills both sides and matches DuckDB`, async () => {
      const dir = tempDir();
      try {
        const { rows, details } = await run(how, { budget: 400_000, dir });
        assert.deepEqual(multiset(rows, ['lid', 'rid']), await expected(how));
        assert.ok(Number(details.partitionsSpilled) > 16, `partitions spilled: ${String(details.partitionsSpilled)}`);
        assert.ok(Number(details.bytesSpilled) > 500_000, `bytes spilled: ${String(details.bytesSpilled)}`);
        assert.deepEqual(readdirSync(dir), [], 'spill files removed');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a governor at its spill level makes it spill under its default budget, and it matches DuckDB', async () => {
    const dir = tempDir();
    const limit = 8e6;
    const probe: MemoryProbe = { sample: () => ({ rss: 0.65 * limit, heapUsed: 1e6, heapLimit: 4e9 }) };
    const governor = new MemoryGovernor({ limit, intervalMs: 10, probe, leak: false });
    try {
      const { rows, details } = await run('inner', { governor, dir });
      assert.equal(governor.level, 'spill');
      assert.equal(details.budget, 2e6, 'a quarter of the limit');
      assert.deepEqual(multiset(rows, ['lid', 'rid']), await expected('inner'));
      assert.ok(Number(details.partitionsSpilled) > 16, `partitions spilled: ${String(details.partitionsSpilled)}`);
      // read back after the build: the partitions that fit a quarter of the budget (what the spill
      // level lets a table hold), not a whole budget's worth that the level would make it drop
      const held = Number(details.partitionsInMemory);
      assert.ok(held >= 1 && held <= 4, `partitions held at the spill level: ${held}`);
      assert.deepEqual(readdirSync(dir), [], 'spill files removed');
    } finally {
      governor.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
