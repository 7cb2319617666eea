/**
 * Fast by default (issue 17) for the operators: `fromCsv -> sort | topK | groupBy | distinct | limit ->
 * toParquet` as a user writes it gets Arrow batches from the reader (format negotiation), and
 * must write the values the same pipeline writes from row objects (`output: 'rows'` forced), read
 * back by DuckDB, in memory and when the operator spills. Column types: an operator that passes
 * rows through (sort, topK, distinct) writes the types `fromCsv -> toParquet` writes with nothing
 * between (one inference, whatever stands between source and sink); groupBy's columns are the
 * same on both paths. The file mixes integers and fractions, nulls, booleans, bigints beyond
 * 2^53, empty and non-ASCII text and quoted text with commas and newlines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import {
  pipeline,
  fromCsv,
  toParquet,
  sort,
  topK,
  groupBy,
  distinct,
  join,
  limit,
  agg,
  collect,
  type Aggregate,
} from '../../index.ts';
import { tempDir } from '../helpers.ts';
import { rowsToRecordBatch } from '../../lib/formats/arrow/convert.ts';
import { parquetReadBack } from '../lib/formats/parquet/duckdb.ts';

const dir = tempDir();
const ROWS = 6000;
const SYMBOLS = ['AAPL', 'é', '', 'Zürich', '😀', 'b', 'B', 'a,b'];

function line(i: number): string {
  const price = i % 17 === 0 ? '' : i < 4000 ? String(i % 700) : `${(i % 700) + 0.25}`;
  const note = i % 7 === 0 ? '' : i % 5 === 0 ? `"a, ""b""\nc${i}"` : `n${i % 300}`;
  const symbol = SYMBOLS[i % SYMBOLS.length]!;
  const flag = i % 3 === 0 ? 'true' : 'false';
  const big = String(9007199254740993n + BigInt(i % 50));
  return `${i},${symbol.includes(',') ? `"${symbol}"` : symbol},${price},${i % 13 === 0 ? '' : (i % 40) - 20},${flag},${note},${big}`;
}
const csv = joinPath(dir, 'mixed.csv');
writeFileSync(
  csv,
  `id,symbol,price,qty,flag,note,big\n${Array.from({ length: ROWS }, (_, i) => line(i)).join('\n')}\n`,
);

const longestNote: Aggregate<string | null, string | null> = {
  init: () => null,
  add: (state, row) => {
    const note = (row as { note: string | null }).note ?? '';
    return state === null || note.length > state.length ? note : state;
  },
  merge: (a, b) => (a === null || (b !== null && b.length > a.length) ? b : a),
  finish: (state) => state,
};

/** A join's right side: numbers, text (some notes of the file), booleans and nulls; every third id, some twice. */
const JOIN_RIGHT = Array.from({ length: 2600 }, (_, i) => ({
  id: i < 2500 ? i * 3 : (i - 2500) * 6,
  label: i % 4 === 0 ? `n${i % 300}` : i % 11 === 0 ? '' : `r${i}`,
  weight: i % 9 === 0 ? null : i / 4,
  ok: i % 2 === 0,
  price: -i,
}));

/** Each operator as a user writes it; `budget` small enough to make the spilling ones spill. */
const OPERATORS = {
  sort: (budget?: string) => sort(['price', { column: 'symbol', order: 'desc', nulls: 'first' }, 'id'], { budget }),
  topK: () => topK(250, [{ column: 'note', order: 'desc' }, 'id']),
  groupBy: (budget?: string) =>
    groupBy(
      ['symbol', 'flag'],
      {
        n: agg.count(),
        priced: agg.count('price'),
        total: agg.sum('qty'),
        bigTotal: agg.sum('big'),
        mean: agg.mean('price'),
        lo: agg.min('note'),
        hi: agg.max('price'),
        first: agg.first('note'),
        last: agg.last('id'),
        notes: agg.countDistinct('note'),
        ids: agg.collect('id', { limit: 5 }),
      },
      { budget },
    ),
  // order-free aggregates over ~2,900 groups of 6,000 rows: the first tables written out hold a group
  // per row, so later Arrow rows skip the table, and meet their groups' earlier rows in the merge
  'groupBy, high cardinality': (budget?: string) =>
    groupBy(
      ['price', 'flag', 'symbol'],
      { n: agg.count(), total: agg.sum('qty'), mean: agg.mean('price'), lo: agg.min('note'), hi: agg.max('big') },
      { budget },
    ),
  'groupBy, user-defined aggregate': (budget?: string) => groupBy('symbol', { longestNote }, { budget }),
  'distinct, whole rows': (budget?: string) => distinct(undefined, { budget }),
  'distinct, keys': (budget?: string) => distinct(['symbol', 'qty', 'big'], { budget }),
  // passes batches on in the form it received (an Arrow batch crossing the limit is sliced)
  limit: () => limit(4321),
  // Arrow probed by column (inner, left, semi, anti on one key), in memory or partitioned; the text
  // key joins have null keys on the left (empty notes), which a partitioned probe meets in partition 0
  'join, inner': (budget?: string) => join(JOIN_RIGHT, { on: 'id', budget }),
  'join, inner, text key': (budget?: string) => join(JOIN_RIGHT, { on: { left: 'note', right: 'label' }, budget }),
  'join, left, text key': (budget?: string) =>
    join(JOIN_RIGHT, { on: { left: 'note', right: 'label' }, how: 'left', budget }),
  'join, semi': (budget?: string) => join(JOIN_RIGHT, { on: 'id', how: 'semi', budget }),
  'join, anti': (budget?: string) => join(JOIN_RIGHT, { on: 'id', how: 'anti', budget }),
  'join, anti, text key': (budget?: string) =>
    join(JOIN_RIGHT, { on: { left: 'note', right: 'label' }, how: 'anti', budget }),
  'join, full': (budget?: string) => join(JOIN_RIGHT, { on: 'id', how: 'full', budget }),
} as const;
const ORDERED = new Set(['sort', 'topK', 'limit']);
const PASSES_ROWS = new Set([
  'sort',
  'topK',
  'distinct, whole rows',
  'distinct, keys',
  'limit',
  'join, semi',
  'join, anti',
  'join, anti, text key',
]);
/** User-defined aggregates are handed plain rows (they may keep them): the reader makes rows for them. */
const READS_ROWS = new Set(['groupBy, user-defined aggregate']);

/** The column types of the file written with no stage between source and sink. */
const direct = (async () => {
  const path = joinPath(dir, 'direct.parquet');
  await pipeline(fromCsv(csv, { cast: true, batchSize: 500 }), toParquet(path));
  return (await parquetReadBack(path)).types;
})();
// topK holds n rows and never spills, limit holds nothing
const SPILLS = new Set(Object.keys(OPERATORS).filter((name) => name !== 'topK' && name !== 'limit'));

for (const [name, make] of Object.entries(OPERATORS)) {
  for (const budget of SPILLS.has(name) ? [undefined, '64kB'] : [undefined]) {
    test(`${name}${budget ? `, spilling (budget ${budget})` : ''}: the negotiated form and forced rows write the same values`, async () => {
      const viaArrow = joinPath(dir, `${name}-${budget}-arrow.parquet`);
      const viaRows = joinPath(dir, `${name}-${budget}-rows.parquet`);
      const arrow = await pipeline(fromCsv(csv, { cast: true, batchSize: 500 }), make(budget), toParquet(viaArrow));
      const rows = await pipeline(
        fromCsv(csv, { cast: true, batchSize: 500, output: 'rows' }),
        make(budget),
        toParquet(viaRows),
      );
      const negotiated = READS_ROWS.has(name) ? 'rows' : 'arrow';
      assert.equal(arrow.stats.stages[1]!.details.input, negotiated, 'the form the operator received, unasked');
      assert.equal(rows.stats.stages[1]!.details.input, 'rows');
      if (budget !== undefined) {
        const spilled = (d: Record<string, unknown>): unknown => d.runsSpilled ?? d.partitionsSpilled;
        assert.ok(Number(spilled(arrow.stats.stages[1]!.details)) > 0, 'the Arrow run spilled');
        assert.ok(Number(spilled(rows.stats.stages[1]!.details)) > 0, 'the rows run spilled');
        if (name === 'groupBy, high cardinality')
          assert.ok(Number(arrow.stats.stages[1]!.details.passedRows) > 0, 'Arrow rows skipped the table');
      }
      assert.ok(arrow.output.rows > 0);
      // sort and topK: the file's order; the others' order is unspecified
      const order = ORDERED.has(name) ? undefined : 'ALL';
      const a = await parquetReadBack(viaArrow, order);
      const r = await parquetReadBack(viaRows, order);
      assert.deepEqual(a.types, PASSES_ROWS.has(name) ? await direct : r.types);
      assert.equal(a.rows, r.rows);
    });
  }
}

test('a join reads a CSV left side as Arrow, and its integers still meet an Arrow Int32 right key', async () => {
  // the reader gives the join Float64 for the integer `id` column; the key check takes a float
  // column holding only integers as a number of either kind, so an Int32 right side is no error
  const right = rowsToRecordBatch(Array.from({ length: 50 }, (_, i) => ({ id: i * 2, half: i })));
  assert.equal(String(right.schema.fields[0]!.type), 'Int32');
  const result = await pipeline(fromCsv(csv, { cast: true }), join([right], { on: 'id' }), collect());
  assert.equal(result.stats.stages[1]!.details.input, 'arrow');
  assert.equal(result.output.length, 50);
});

test('without cast, and into collect(): each operator returns the same rows, or the same error, from either form', async () => {
  const key = (row: unknown): string => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  /** The rows collected (sorted unless the operator orders them) and the input form, or the error's message. */
  const outcome = async (
    name: string,
    output?: 'rows',
  ): Promise<{ rows?: string[]; input?: unknown; error?: string }> => {
    try {
      const make = OPERATORS[name as keyof typeof OPERATORS];
      const { output: got, stats } = await pipeline(fromCsv(csv, { batchSize: 700, output }), make(), collect());
      const rows = got.map(key);
      if (!ORDERED.has(name)) rows.sort();
      return { rows, input: stats.stages[1]!.details.input };
    } catch (error) {
      // text columns: a sum over the empty cells of `qty` fails, as it must on both paths
      return { error: (error as Error).message };
    }
  };
  let errors = 0;
  for (const name of Object.keys(OPERATORS)) {
    const arrow = await outcome(name);
    const rows = await outcome(name, 'rows');
    assert.deepEqual(arrow.rows, rows.rows, name);
    assert.equal(arrow.error, rows.error, name);
    if (arrow.error === undefined) {
      assert.equal(arrow.input, READS_ROWS.has(name) ? 'rows' : 'arrow', name);
      assert.ok(arrow.rows!.length > 0, name);
    } else errors++;
  }
  // the two groupBys summing text, and the four joins on `id` (text against the right side's numbers)
  assert.equal(errors, 6, 'only the groupBys summing qty and the joins on id fail');
});
