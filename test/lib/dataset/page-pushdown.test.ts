/**
 * Page-level pushdown (dataset/page-pushdown.ts, formats/parquet/read/page-selection.ts) on files
 * spillway writes with a page index: a sorted 200k-row file filtered on `ts > X` reads a small
 * share of the pages and bytes (locally and over HTTP range requests) and gives exactly DuckDB's
 * rows, on the rows and the Arrow outputs, with projected columns whose pages end at different
 * rows; the hard cases (nulls, NaN, all-null pages, strings longer than statistics keep, `or`,
 * `not`, `in`, `isNull`) give DuckDB's rows and those of a full read filtered by the same
 * predicate (fast-check); a file without a page index reads as before.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { pipeline, collect, fromIterable, fromParquet, toParquet } from '../../../index.ts';
import { TRUE, compilePredicate, type Predicate, type PredicateValue } from '../../../lib/dataset/predicate.ts';
import { CORPUS, corpusSkip, tempDir } from '../../helpers.ts';
import { predicateArbitrary } from './predicate-arbitrary.ts';
import { rangeResponse } from './remote/range-response.ts';
import { duckRows, duckRun, fromDuck, fromSpillway, sqlString } from '../formats/parquet/duckdb.ts';

const dir = tempDir('spillway-page-pushdown-');
const sorted = join(dir, 'sorted.parquet');
const hard = join(dir, 'hard.parquet');
const plain = join(dir, 'duckdb.parquet');
const N = 200_000;
const T0 = Date.UTC(2026, 0, 1);

type Row = Record<string, unknown>;
type Details = Record<string, unknown>;

function hardRow(i: number): Row {
  return {
    id: i,
    // nulls, NaN, and in rows 6000-6999 NaN only
    f: i % 11 === 0 ? null : i % 13 === 0 || (i >= 6000 && i < 7000) ? Number.NaN : ((i * 7919) % 2000) / 8 - 100,
    // rows 2000-3999: all null
    s: i >= 2000 && i < 4000 ? null : `k-${String(Math.floor(i / 7)).padStart(5, '0')}`,
    // values longer than statistics keep in rows 9000-9499
    long: i >= 9000 && i < 9500 ? `${'z'.repeat(1100)}${i}` : `m-${String(i % 500).padStart(4, '0')}`,
  };
}
const hardRows = Array.from({ length: 12_000 }, (_, i) => hardRow(i));

before(async () => {
  await pipeline(
    fromIterable(
      Array.from({ length: N }, (_, i) => ({
        ts: new Date(T0 + i * 1000),
        id: (i * 7) % 100_003,
        s: `${'payload-'.repeat(1 + (i % 5))}${i}`,
      })),
    ),
    toParquet(sorted, { schema: { ts: 'timestamp', id: 'int32', s: 'string' }, pageBytes: 16_384 }),
  );
  await pipeline(
    fromIterable(hardRows),
    toParquet(hard, {
      schema: { id: 'int32', f: 'double', s: 'string', long: 'string' },
      rowGroupSize: 4000,
      pageBytes: 1024,
    }),
  );
  await duckRun(`COPY (SELECT * FROM '${sorted}') TO '${plain}' (FORMAT parquet, ROW_GROUP_SIZE 50000)`);
});

async function read(
  path: string,
  options: Parameters<typeof fromParquet>[1],
): Promise<{ rows: Row[]; details: Details }> {
  const result = await pipeline(fromParquet(path, options), collect());
  return { rows: result.output as Row[], details: result.stats.stages[0]!.details };
}

function normalise(rows: readonly Row[], cols: readonly string[], fromWhere: (v: unknown) => unknown): unknown[][] {
  return rows.map((r) => cols.map((c) => fromWhere(r[c])));
}

const CUT = new Date(T0 + 187_654 * 1000);

test('a sorted file filtered on ts > X skips most pages and gives DuckDB rows, rows and Arrow output', async () => {
  const cols = ['ts', 'id', 's'];
  const want = await duckRows(
    `SELECT ts, id, s FROM '${sorted}' WHERE ts > TIMESTAMP '${CUT.toISOString().slice(0, 19).replace('T', ' ')}' ORDER BY ts`,
  );
  assert.equal(want.rows.length, N - 187_655);
  const full = await read(sorted, { columns: cols });
  for (const output of ['rows', 'arrow'] as const) {
    const got = await read(sorted, { columns: cols, output, where: { col: 'ts', op: '>', value: CUT } });
    const rows = got.rows.map((r) => ({ ...r, ts: r.ts instanceof Date ? r.ts : new Date(Number(r.ts)) }));
    assert.deepEqual(normalise(rows, cols, fromSpillway), normalise(want.rows, cols, fromDuck), output);
    const d = got.details;
    assert.ok((d.pagesSkipped as number) > 0, `${output}: pages skipped ${String(d.pagesSkipped)}`);
    assert.ok((d.pagesRead as number) > 0);
    assert.ok(
      (d.pagesSkipped as number) > 4 * (d.pagesRead as number),
      `${output}: ${String(d.pagesRead)} pages read, ${String(d.pagesSkipped)} skipped`,
    );
    assert.ok(
      (d.bytesRead as number) * 8 < (full.details.bytesRead as number),
      `${output}: ${String(d.bytesRead)} bytes read, ${String(full.details.bytesRead)} in a full scan`,
    );
  }
});

test('the projected columns page differently: a selection inside pages keeps them aligned', async () => {
  // a narrow window: pages of the three columns start at different rows around it
  const lo = new Date(T0 + 150_001 * 1000);
  const hi = new Date(T0 + 150_377 * 1000);
  const where: Predicate = {
    and: [
      { col: 'ts', op: '>=', value: lo },
      { col: 'ts', op: '<', value: hi },
    ],
  };
  const got = await read(sorted, { columns: ['s', 'id', 'ts'], where });
  assert.equal(got.rows.length, 376);
  for (const [k, r] of got.rows.entries()) {
    const i = 150_001 + k;
    assert.equal((r.ts as Date).getTime(), T0 + i * 1000);
    assert.equal(r.id, (i * 7) % 100_003);
    assert.equal(r.s, `${'payload-'.repeat(1 + (i % 5))}${i}`);
  }
  assert.ok((got.details.pagesSkipped as number) > 0);
});

/** [predicate, the same filter in DuckDB's SQL (NaN: spillway's comparisons are false on it)]. */
const CASES: [string, Predicate, string][] = [
  ['f > 100 (NaN, nulls)', { col: 'f', op: '>', value: 100 }, 'f > 100 AND NOT isnan(f)'],
  ['f <= -90', { col: 'f', op: '<=', value: -90 }, 'f <= -90 AND NOT isnan(f)'],
  ['f != 0', { col: 'f', op: '!=', value: 0 }, 'f != 0'],
  [
    'or with isNull',
    {
      or: [
        { col: 'id', op: '<', value: 300 },
        { col: 's', op: 'isNull' },
      ],
    },
    'id < 300 OR s IS NULL',
  ],
  ['not', { not: { col: 'id', op: '>=', value: 500 } }, 'NOT (id >= 500)'],
  ['in', { col: 's', op: 'in', values: ['k-00042', 'k-01500', null] }, "s IN ('k-00042', 'k-01500', NULL)"],
  ['isNull on all-null pages', { col: 's', op: 'isNull' }, 's IS NULL'],
  ['isNotNull', { col: 's', op: 'isNotNull' }, 's IS NOT NULL'],
  ['not isNull', { not: { col: 's', op: 'isNull' } }, 'NOT (s IS NULL)'],
  ['f isNull', { col: 'f', op: 'isNull' }, 'f IS NULL'],
  ['long string >', { col: 'long', op: '>', value: 'z' }, "long > 'z'"],
  [
    'long string =',
    { col: 'long', op: '=', value: `${'z'.repeat(1100)}9123` },
    `long = ${sqlString(`${'z'.repeat(1100)}9123`)}`,
  ],
  [
    'and across columns',
    {
      and: [
        { col: 'id', op: '>', value: 8000 },
        { col: 's', op: '<', value: 'k-01200' },
      ],
    },
    "id > 8000 AND s < 'k-01200'",
  ],
  [
    'not or',
    {
      not: {
        or: [
          { col: 'id', op: '<', value: 11_000 },
          { col: 'f', op: '>', value: 0 },
        ],
      },
    },
    'NOT (id < 11000 OR (f > 0 AND NOT isnan(f)))',
  ],
];

test('hard cases give DuckDB rows and those of a full read filtered alike, skipping pages where they can', async () => {
  const skippedBy: Record<string, number> = {};
  for (const [name, where, sql] of CASES) {
    const want = (await duckRows(`SELECT id FROM '${hard}' WHERE ${sql} ORDER BY id`)).rows.map((r) => Number(r.id));
    const test = compilePredicate(where);
    const reference = hardRows.filter((r) => test((c) => r[c]) === TRUE).map((r) => r.id);
    assert.deepEqual(reference, want, `${name}: the reference filter agrees with DuckDB`);
    for (const output of ['rows', 'arrow'] as const) {
      const got = await read(hard, { where, output });
      assert.deepEqual(
        got.rows.map((r) => Number(r.id)),
        want,
        `${name} (${output})`,
      );
      skippedBy[name] = got.details.pagesSkipped as number;
    }
  }
  for (const name of ['or with isNull', 'not', 'in', 'and across columns', 'not or'])
    assert.ok(skippedBy[name]! > 0, `${name}: pages skipped ${skippedBy[name]}`);
});

const COLS = ['id', 'f', 's', 'long'] as const;
function pick(col: string, i: number): PredicateValue {
  return (hardRows[i % hardRows.length]![col] ?? null) as PredicateValue;
}
const predicate = predicateArbitrary(COLS, pick);

test('random predicates: the rows of a full read filtered by the same predicate (fast-check)', async () => {
  let skippedSome = 0;
  await fc.assert(
    fc.asyncProperty(predicate, async (where) => {
      const test = compilePredicate(where);
      const want = hardRows.filter((r) => test((c) => r[c]) === TRUE).map((r) => r.id);
      const got = await read(hard, { where, columns: ['id', 'long'] });
      if ((got.details.pagesSkipped as number) > 0) skippedSome++;
      assert.deepEqual(
        got.rows.map((r) => r.id),
        want,
      );
    }),
    { numRuns: 60, seed: 20261202 },
  );
  assert.ok(skippedSome > 5, `pages skipped for ${skippedSome} of 60 predicates`);
});

test('a file without a page index (DuckDB writes none) reads as before', async () => {
  const where: Predicate = { col: 'ts', op: '>', value: CUT };
  const got = await read(plain, { where, columns: ['id'] });
  assert.equal(got.rows.length, N - 187_655);
  assert.equal(got.details.pagesSkipped, 0);
  assert.equal(got.details.pagesRead, 0);
  assert.ok((got.details.rowGroupsSkipped as number) > 0);
});

let server: Server | undefined;
after(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

test('over HTTP, only the byte ranges of the pages needed are fetched', async () => {
  const bytes = readFileSync(sorted);
  let served = 0;
  server = createServer((req, res) => {
    const partial = rangeResponse(req.headers.range, bytes);
    if (!partial) {
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      served += bytes.length;
      return;
    }
    res.writeHead(206, partial.headers);
    served += partial.body.length;
    res.end(partial.body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sorted.parquet`;
  const where: Predicate = { col: 'ts', op: '>', value: CUT };
  const local = await read(sorted, { where, columns: ['id', 's'] });
  served = 0;
  const remote = await read(url, { where, columns: ['id', 's'] });
  assert.deepEqual(remote.rows, local.rows);
  assert.ok((remote.details.pagesSkipped as number) > 0);
  assert.ok(served * 8 < bytes.length, `${served} of ${bytes.length} bytes fetched`);
});

test('a page index that contradicts itself is not used (corpus: null pages of a REQUIRED column, null counts of -1)', {
  skip: corpusSkip,
}, async () => {
  const file = join(CORPUS!, 'parquet', 'datapage_v1-snappy-compressed-checksum.parquet');
  const all = (await pipeline(fromParquet(file), collect())).output as Array<{ b: number }>;
  for (const where of [
    { col: 'b', op: '>=', value: 0 },
    { col: 'b', op: 'isNotNull' },
  ] as Predicate[]) {
    const want = all.filter((r) => compilePredicate(where)((c) => r[c as 'b']) === TRUE).length;
    assert.ok(want > 0);
    const { output } = await pipeline(fromParquet(file, { where }), collect());
    assert.equal(output.length, want, JSON.stringify(where));
  }
  assert.equal((await pipeline(fromParquet(file, { where: { col: 'b', op: 'isNull' } }), collect())).output.length, 0);
});
