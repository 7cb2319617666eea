/**
 * Projection pushdown: `fromCsv -> groupBy` as a user writes it fills only the columns the groupBy
 * reads (its keys and its built-in aggregates' columns). What comes out must be what the same
 * groupBy gives when every column is read (a `map` first keeps the reader on rows), on a file with
 * quoted commas, `""` escapes, newlines in quotes, non-ASCII text, blank cells and records of the
 * wrong length (the same dead letters, with the same lines); on parser threads as on one; and a
 * projection that cannot apply (a user-defined aggregate, a key the file lacks) changes nothing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, fromCsv, groupBy, map, agg, collect, type Aggregate, type Row } from '../../../../../index.ts';
import { FastCsvReader } from '../../../../../lib/formats/csv/fast/reader.ts';
import { PARALLEL_CSV } from '../../../../../lib/formats/csv/parallel/settings.ts';
import { tempDir } from '../../../../helpers.ts';

const dir = tempDir();

function line(i: number): string {
  const note = i % 5 === 0 ? `"a, ""b""\nc${i % 3}"` : i % 7 === 0 ? '' : `n${i % 4}`;
  const symbol = ['AAPL', 'é', '"x,y"', 'Zürich', '😀', ''][i % 6]!;
  // every 401st record has a field too many: a bad record whether or not its columns are filled
  const extra = i % 401 === 400 ? ',oops' : '';
  return `${i},${note},${symbol},${i % 9 === 0 ? '' : (i % 50) / 4},${i % 13},${i % 2 ? 'B' : 'S'}${extra}`;
}
const csv = join(dir, 'messy.csv');
writeFileSync(csv, `id,note,symbol,price,qty,side\n${Array.from({ length: 9000 }, (_, i) => line(i)).join('\n')}\n`);

const aggregates = () => ({
  n: agg.count(),
  priced: agg.count('price'),
  total: agg.sum('qty'),
  mean: agg.mean('price'),
  hi: agg.max('price'),
  first: agg.first('price'),
  notes: agg.countDistinct('qty'),
});
const sorted = (rows: Row[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

/** The groupBy's rows and dead letters, reading every column (`map` first) or as a user writes it. */
async function run(name: string, make: () => ReturnType<typeof groupBy>, allColumns: boolean) {
  const deadLetter = join(dir, `${name}-${allColumns ? 'all' : 'projected'}.jsonl`);
  const source = fromCsv(csv, { cast: true, batchSize: 700, onError: { deadLetter } });
  const result = allColumns
    ? await pipeline(
        source,
        map((row: Row) => row),
        make(),
        collect(),
      )
    : await pipeline(source, make(), collect());
  const dead = readFileSync(deadLetter, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { line: at, raw } = JSON.parse(l) as { line: number; raw: string };
      return `${at}:${raw}`;
    });
  return { rows: sorted(result.output), dead, details: result.stats.stages[0]!.details };
}

test('fromCsv -> groupBy fills only the columns the groupBy reads, and gives what reading them all gives', async () => {
  const make = (): ReturnType<typeof groupBy> => groupBy(['side', 'symbol'], aggregates());
  const projected = await run('builtin', make, false);
  const all = await run('builtin', make, true);
  // the file's order
  assert.equal(projected.details.projection, 'symbol, price, qty, side');
  assert.equal(all.details.projection, undefined);
  assert.equal(projected.rows.length, 6);
  assert.deepEqual(projected.rows, all.rows);
  assert.ok(projected.dead.length > 0);
  assert.deepEqual(projected.dead, all.dead);
});

test('no projection where it cannot apply: a user-defined aggregate, or a key the file lacks', async () => {
  const longest: Aggregate<number, number> = {
    init: () => 0,
    add: (s, row) => Math.max(s, String((row as { note: unknown }).note ?? '').length),
    merge: (a, b) => Math.max(a, b),
    finish: (s) => s,
  };
  const udf = await run('udf', () => groupBy('symbol', { longest }), false);
  assert.equal(udf.details.projection, undefined);
  assert.deepEqual(udf.rows, (await run('udf', () => groupBy('symbol', { longest }), true)).rows);
  // a key the file lacks: refused, naming it, projected or not (every row fell in a null group
  // until 2026-12-07)
  for (const projected of [false, true])
    await assert.rejects(
      run('missing', () => groupBy(['venue', 'side'], { n: agg.count() }), projected),
      /groupBy key .*"venue".* not a column of its input/,
    );
});

test('on parser threads, the projected read gives the rows one thread gives', async () => {
  const saved = { ...PARALLEL_CSV };
  Object.assign(PARALLEL_CSV, { minBytes: 0, chunkBytes: 16 * 1024, threads: 2 });
  after(() => Object.assign(PARALLEL_CSV, saved));
  const make = (): ReturnType<typeof groupBy> => groupBy(['symbol'], aggregates());
  const threaded = await run('threads', make, false);
  Object.assign(PARALLEL_CSV, saved);
  const single = await run('threads', make, true);
  assert.equal(threaded.details.parserThreads, 2);
  assert.ok(threaded.details.projection);
  assert.deepEqual(threaded.rows, single.rows);
  assert.deepEqual(threaded.dead, single.dead);
});

test('the reader fills the projected columns in the file order, with given names too', () => {
  for (const columns of [true, ['a', 'b', 'c', 'd']] as const) {
    const reader = new FastCsvReader({
      columns,
      infer: true,
      fail: true,
      raw: false,
      onBad: () => {},
      onCastFailure: () => {},
      output: 'arrow',
      project: ['d', 'b'],
    });
    const header = columns === true ? 'a,b,c,d\n' : '';
    reader.push(Buffer.from(`${header}1,"x, ""y""",z,4.5\n2,é,w,\n`));
    reader.end();
    const batch = reader.ready[0]!.arrow!;
    assert.deepEqual(reader.projected, ['b', 'd']);
    assert.deepEqual(
      batch.schema.fields.map((f) => f.name),
      ['b', 'd'],
    );
    assert.deepEqual(
      batch.toArray().map((r) => ({ ...r.toJSON() })),
      [
        { b: 'x, "y"', d: 4.5 },
        { b: 'é', d: null },
      ],
    );
  }
});
