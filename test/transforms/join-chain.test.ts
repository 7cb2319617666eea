/**
 * join's right input given as a chain `[source, ...transforms]` (lib/core/source-chain.ts): the
 * SQL subquery `JOIN (SELECT id, price AS p2 FROM read_csv(f) WHERE id % 2 = 0)` written with
 * spillway's own stages. Its result must equal DuckDB's, in memory and spilled; the reader must
 * fill only the columns `select` names (projection pushdown, as in a pipeline); a failing or
 * aborted chain must fail the run with the chain's own coded error and leave no file behind.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  pipeline,
  fromCsv,
  fromIterable,
  select,
  filter,
  map,
  join,
  collect,
  toParquet,
  type StageStats,
} from '../../index.ts';
import { tempDir } from '../helpers.ts';
import { duck, entries, multiset, query } from './operators-helpers.ts';

let db: { conn: DuckDBConnection; close: () => void };
before(async () => {
  db = await duck();
});
after(() => db.close());

const dir = tempDir();
const ROWS = 5000;
/** Ids, prices with nulls and fractions, and text DuckDB and spillway must both read past: quotes, commas, newlines, non-ASCII. */
function line(i: number): string {
  const price = i % 23 === 0 ? '' : `${(i * 7) % 1000}.${i % 4 === 0 ? '0' : '25'}`;
  const note = i % 5 === 0 ? `"a, ""q""\nline ${i}"` : i % 7 === 0 ? '' : `Zürich 😀 ${i % 40}`;
  return `${i},s${i % 37},${price},${note}`;
}
const csv = joinPath(dir, 'trades.csv');
writeFileSync(csv, `id,symbol,price,note\n${Array.from({ length: ROWS }, (_, i) => line(i)).join('\n')}\n`);

/** The right side as a chain: the two columns the join needs, even ids, price renamed. */
const evenPrices = () =>
  [
    fromCsv(csv, { cast: true }),
    select(['id', 'price']),
    filter((row: { id: number }) => row.id % 2 === 0),
    map((row: { id: number; price: number | null }) => ({ id: row.id, p2: row.price })),
  ] as const;

/** This process's descriptors open on `file`. */
function filesOpen(file: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // closed meanwhile
    }
  });
}

const SQL = `SELECT t.id, t.symbol, t.price, t.note, h.p2 FROM read_csv('${csv}') t
  JOIN (SELECT id, price AS p2 FROM read_csv('${csv}') WHERE id % 2 = 0) h ON t.id = h.id`;
const COLUMNS = ['id', 'symbol', 'price', 'note', 'p2'];

describe('join with a chain as its right input', () => {
  for (const budget of [undefined, '20kB']) {
    it(`equals DuckDB's join to the subquery (${budget === undefined ? 'in memory' : 'spilled'}), reading two columns`, async () => {
      const result = await pipeline(
        fromCsv(csv, { cast: true }),
        join(evenPrices(), { on: 'id', ...(budget === undefined ? {} : { budget }) }),
        collect(),
      );
      const expected = await query(db.conn, SQL);
      assert.equal(result.output.length, ROWS / 2);
      assert.deepEqual(multiset(result.output, COLUMNS), multiset(expected, COLUMNS));
      const stats = result.stats.stages.find((s: StageStats) => s.name === 'join')!;
      // the chain's reader made Arrow for the filter and filled only what select reads
      assert.match(
        String(stats.details.right),
        /^fromCsv \(arrow: [^;]+; columns id, price\) -> select -> filter -> map$/,
      );
      assert.equal(stats.details.rightRowsIn, ROWS / 2);
      if (budget !== undefined) assert.ok((stats.details.partitionsSpilled as number) > 0, 'the tiny budget spilled');
    });
  }

  it('a source stage alone on the right is negotiated as a chain: it reads Arrow, and the join equals DuckDB', async () => {
    // the right columns the left lacks keep their names (note), a shared one is renamed (symbol_right)
    const sql = `SELECT t.id, t.symbol, h.symbol AS symbol_right, h.note FROM read_csv('${csv}') t JOIN read_csv('${csv}') h ON t.id = h.id`;
    const expected = multiset(await query(db.conn, sql), ['id', 'symbol', 'symbol_right', 'note']);
    for (const budget of [undefined, '20kB']) {
      const result = await pipeline(
        fromCsv(csv, { cast: true }),
        select(['id', 'symbol']),
        join(fromCsv(csv, { cast: true }), { on: 'id', ...(budget === undefined ? {} : { budget }) }),
        collect(),
      );
      assert.deepEqual(multiset(result.output, ['id', 'symbol', 'symbol_right', 'note']), expected);
      const stats = result.stats.stages.find((s: StageStats) => s.name === 'join')!;
      assert.match(String(stats.details.right), /^fromCsv \(arrow: /);
      assert.equal(stats.details.rightRowsIn, ROWS);
    }
  });

  it('runs per-row functions as a pipeline does, and a chain of a source alone', async () => {
    const symbols = Array.from({ length: 10 }, (_, i) => ({ symbol: `s${i}`, n: i }));
    const left = Array.from({ length: 100 }, (_, i) => ({ sym: `s${i % 20}`, i }));
    for (const right of [
      [
        fromIterable(symbols),
        (row: { symbol: string; n: number }) => (row.n % 2 === 0 ? { ...row, even: true } : undefined),
      ],
      [fromIterable(symbols.filter((s) => s.n % 2 === 0).map((s) => ({ ...s, even: true })))],
    ] as const) {
      const { output } = await pipeline(
        fromIterable(left),
        join(right, { on: { left: 'sym', right: 'symbol' } }),
        collect(),
      );
      // s0, s2 ... s8: five symbols, five left rows each
      assert.equal(output.length, 25);
      for (const row of output as { sym: string; symbol: string; even: boolean }[]) {
        assert.equal(row.symbol, row.sym);
        assert.equal(row.even, true);
      }
    }
  });

  it("a bad record in the chain's file fails the run with the reader's coded error, and leaves no file", async () => {
    const bad = joinPath(dir, 'bad.csv');
    writeFileSync(bad, 'id,price\n1,2\n2,"open quote\n');
    const scratch = tempDir('join-chain-bad-');
    const out = joinPath(scratch, 'out.parquet');
    await assert.rejects(
      pipeline(
        fromCsv(csv, { cast: true }),
        join([fromCsv(bad, { cast: true }), select(['id', 'price'])], { on: 'id', dir: scratch }),
        toParquet(out),
      ),
      (error: Error & { code?: string; context?: { file?: string } }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_CSV_PARSE');
        assert.equal(error.context?.file, bad);
        return true;
      },
    );
    assert.deepEqual(entries(scratch), []);
  });

  it('an abort while the chain reads its file ends the run with the file closed', async () => {
    const controller = new AbortController();
    const scratch = tempDir('join-chain-abort-');
    await assert.rejects(
      pipeline(
        fromIterable([{ id: 1 }]),
        join(
          [
            fromCsv(csv, { cast: true, batchSize: 100 }),
            filter((row: { id: number }) => {
              if (row.id === 1000) controller.abort(new Error('stop'));
              return true;
            }),
          ],
          { on: 'id', budget: 20_000, dir: scratch },
        ),
        collect(),
        { signal: controller.signal },
      ),
      { code: 'ERR_SPILLWAY_ABORTED' },
    );
    assert.deepEqual(filesOpen(csv), [], "the chain's reader closed its file before the run settled");
    assert.deepEqual(entries(scratch), []);
  });

  // the join's step waits for its right input; a destroy waits for the step (operator-transform.ts)
  it("an abort while the right input (a caller's async iterable) stalls ends the run, its scratch removed", async () => {
    const controller = new AbortController();
    const scratch = tempDir('join-stalled-right-');
    const stalled: AsyncIterable<{ id: number }[]> = {
      [Symbol.asyncIterator]() {
        let first = true;
        return {
          next: () => {
            if (!first) return new Promise<never>(() => undefined);
            first = false;
            setImmediate(() => controller.abort(new Error('stop')));
            return Promise.resolve({ done: false, value: [{ id: 1 }, { id: 2 }] });
          },
        };
      },
    };
    await assert.rejects(
      pipeline(fromIterable([{ id: 1 }]), join(stalled, { on: 'id', dir: scratch }), collect(), {
        signal: controller.signal,
      }),
      { code: 'ERR_SPILLWAY_ABORTED' },
    );
    assert.deepEqual(entries(scratch), []);
  });

  it('a key type mismatch found in the chain fails with both columns named, the file closed', async () => {
    await assert.rejects(
      pipeline(
        fromIterable([{ id: 'x1' }, { id: 'x2' }]),
        join([fromCsv(csv, { cast: true, batchSize: 100 }), select(['id', 'price'])], { on: 'id' }),
        collect(),
      ),
      { code: 'ERR_SPILLWAY_JOIN_KEY_MISMATCH', message: /left column "id" is string, right column "id" is number/ },
    );
    assert.deepEqual(filesOpen(csv), [], "the chain's reader closed its file before the run settled");
  });

  it('validates the chain when join is called: a sink, or a value that is no stage, is an error', () => {
    assert.throws(() => join([fromIterable([]), toParquet(joinPath(dir, 'never.parquet'))] as never, { on: 'k' }), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
      message: /join\(right\): the last stage must produce batches/,
    });
    assert.throws(() => join([fromIterable([]), 42] as never, { on: 'k' }), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
      message: /join\(right\): stage 1 must be a stream/,
    });
  });
});
