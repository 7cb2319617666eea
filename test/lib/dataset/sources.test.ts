import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  pipeline,
  collect,
  map,
  fromCsv,
  fromParquet,
  fromArrow,
  toArrow,
  toCsv,
  toParquet,
  fromIterable,
  ErrorCodes,
  SpillwayError,
} from '../../../index.ts';
import type { Predicate } from '../../../lib/dataset/predicate.ts';
import { openFds, tempDir } from '../../helpers.ts';

const dir = tempDir('spillway-dataset-');
let db: DuckDBInstance;
let con: DuckDBConnection;
const tree = join(dir, 'trades');
const flat = join(dir, 'flat');

before(async () => {
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  con = await db.connect();
  // 60k rows, 9 partitions, row groups of 2048 rows; price rises with id, so row groups have disjoint ranges
  await con.run(`COPY (
    SELECT i::BIGINT AS id, i / 10.0 AS price, CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || i END AS name,
           (DATE '2026-11-28' + (i % 3)::INTEGER) AS date, ['A', 'B', 'C'][(i // 7) % 3 + 1] AS symbol
    FROM range(60000) t(i)
  ) TO '${tree}' (FORMAT parquet, PARTITION_BY (date, symbol), ROW_GROUP_SIZE 2048)`);
  // two larger files of ~20 row groups each, for bytes read with and without pushdown
  mkdirSync(flat, { recursive: true });
  for (const k of [0, 1]) {
    await con.run(`COPY (SELECT i::BIGINT AS id, i / 10.0 AS price, 'n' || i AS name FROM range(${k * 200000}, ${(k + 1) * 200000}) t(i))
      TO '${join(flat, `part-${k}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE 10240)`);
  }
});
after(() => {
  con?.closeSync();
  db?.closeSync();
});

interface Trade {
  id: number;
  price: number;
  name: string | null;
  date: string;
  symbol: string;
}

function normal(row: Record<string, unknown>): Trade {
  const d = row.date;
  return {
    id: Number(row.id),
    price: Number(row.price),
    name: (row.name as string | null) ?? null,
    date: d instanceof Date ? d.toISOString().slice(0, 10) : String(d),
    symbol: row.symbol as string,
  };
}

async function duck(sqlWhere: string): Promise<Trade[]> {
  const reader = await con.runAndReadAll(
    `SELECT id, price, name, strftime(date, '%Y-%m-%d') AS date, symbol FROM read_parquet('${tree}/**/*.parquet', hive_partitioning = true) WHERE ${sqlWhere} ORDER BY id`,
  );
  return reader.getRowObjectsJS().map((r) => normal(r as Record<string, unknown>));
}

async function spill(
  where: Predicate | undefined,
  extra: Record<string, unknown> = {},
): Promise<{ rows: Trade[]; details: Record<string, unknown> }> {
  const result = await pipeline(
    fromParquet(join(tree, '**/*.parquet'), { ...(where ? { where } : {}), ...extra }),
    collect(),
  );
  const rows = (result.output as Record<string, unknown>[]).map(normal).sort((a, b) => a.id - b.id);
  return { rows, details: result.stats.stages[0]!.details };
}

test('a DuckDB PARTITION_BY tree reads as the same rows, with typed partition columns', async () => {
  const { rows, details } = await spill(undefined);
  assert.equal(rows.length, 60000);
  assert.deepEqual(rows, await duck('true'));
  assert.equal(details.files, 9);
});

test('where on a partition column prunes files before they are opened; same rows as DuckDB', async () => {
  const where: Predicate = {
    and: [
      { col: 'date', op: '=', value: '2026-11-29' },
      { col: 'symbol', op: 'in', values: ['A', 'C'] },
    ],
  };
  const { rows, details } = await spill(where);
  assert.deepEqual(rows, await duck(`date = DATE '2026-11-29' AND symbol IN ('A', 'C')`));
  assert.ok(rows.length > 0);
  assert.equal(details.filesPruned, 7);
});

test('where on a column with statistics skips row groups and reads fewer bytes; rows still filtered exactly', async () => {
  const where: Predicate = {
    or: [
      { col: 'price', op: '<', value: 300 },
      { col: 'price', op: '>=', value: 5900.05 },
    ],
  };
  const pushed = await spill(where);
  assert.deepEqual(pushed.rows, await duck('price < 300 OR price >= 5900.05'));
  assert.ok((pushed.details.rowGroupsSkipped as number) > 0, `skipped ${String(pushed.details.rowGroupsSkipped)}`);
  assert.ok((pushed.details.bytesSkipped as number) > 0);
  // on larger files the bytes read drop with the row groups skipped
  const read = async (w: Predicate | undefined): Promise<{ rows: number; details: Record<string, unknown> }> => {
    const result = await pipeline(fromParquet(flat, w ? { where: w } : {}), collect());
    return { rows: result.output.length, details: result.stats.stages[0]!.details };
  };
  const narrow = await read({
    and: [
      { col: 'id', op: '>=', value: 195000 },
      { col: 'id', op: '<', value: 205000 },
    ],
  });
  const full = await read(undefined);
  assert.equal(narrow.rows, 10000);
  assert.equal(full.rows, 400000);
  assert.equal(full.details.rowGroupsSkipped, undefined);
  assert.ok((narrow.details.rowGroupsSkipped as number) >= 30, `skipped ${String(narrow.details.rowGroupsSkipped)}`);
  assert.ok(
    (narrow.details.bytesRead as number) < (full.details.bytesRead as number) / 4,
    `${String(narrow.details.bytesRead)} vs ${String(full.details.bytesRead)}`,
  );
});

test('nulls, not and isNull filter as in DuckDB (three-valued logic)', async () => {
  const where: Predicate = {
    and: [{ not: { col: 'name', op: '=', value: 'n5' } }, { col: 'price', op: '<', value: 10 }],
  };
  const { rows } = await spill(where);
  assert.deepEqual(rows, await duck(`NOT (name = 'n5') AND price < 10`));
  const nulls = await spill({
    and: [
      { col: 'name', op: 'isNull' },
      { col: 'id', op: '<', value: 100 },
    ],
  });
  assert.deepEqual(nulls.rows, await duck('name IS NULL AND id < 100'));
});

test('columns projection with partition and file-name columns, where on a column not projected', async () => {
  const result = await pipeline(
    fromParquet(join(tree, '**/*.parquet'), {
      columns: ['id', 'symbol', 'file'],
      fileColumn: 'file',
      where: { col: 'price', op: '<', value: 1 },
    }),
    collect(),
  );
  const rows = (result.output as Record<string, unknown>[]).sort((a, b) => Number(a.id) - Number(b.id));
  assert.equal(rows.length, 10);
  assert.deepEqual(Object.keys(rows[0]!), ['id', 'symbol', 'file']);
  assert.match(rows[0]!.file as string, /date=2026-11-28[/\\]symbol=A[/\\]/);
});

test('arrow output: partition columns are Arrow columns, filtered on the buffers', async () => {
  const result = await pipeline(
    fromParquet(join(tree, '**/*.parquet'), { output: 'arrow', where: { col: 'id', op: '<', value: 50 } }),
    collect(),
  );
  const rows = (result.output as Record<string, unknown>[]).map(normal).sort((a, b) => a.id - b.id);
  assert.deepEqual(rows, await duck('id < 50'));
});

test('progress totals cover every file before the first batch', async () => {
  const source = fromParquet(join(tree, '**/*.parquet'));
  let firstTotal: number | undefined;
  await pipeline(
    source,
    map((row) => {
      firstTotal ??= source.progress().totalRows;
      return row;
    }),
    collect(),
  );
  assert.equal(firstTotal, 60000);
  assert.equal(source.progress().rows, 60000);
});

test('fromCsv over a directory: sorted order, file column, missing columns null', async () => {
  const csv = join(dir, 'csv');
  mkdirSync(csv, { recursive: true });
  writeFileSync(join(csv, 'b.csv'), 'id,x\n3,c\n');
  writeFileSync(join(csv, 'a.csv'), 'id,x,y\n1,a,10\n2,b,20\n');
  writeFileSync(join(csv, '_SUCCESS'), '');
  const result = await pipeline(fromCsv(csv, { cast: true, fileColumn: 'src' }), collect());
  assert.deepEqual(result.output, [
    { id: 1, x: 'a', y: 10, src: join(csv, 'a.csv') },
    { id: 2, x: 'b', y: 20, src: join(csv, 'a.csv') },
    { id: 3, x: 'c', src: join(csv, 'b.csv'), y: null },
  ]);
});

test('a column whose type changes between files is a SchemaMismatchError naming both files', async () => {
  const csv = join(dir, 'csv-bad');
  mkdirSync(csv, { recursive: true });
  writeFileSync(join(csv, 'a.csv'), 'id,x\n1,1\n');
  writeFileSync(join(csv, 'b.csv'), 'id,x\n2,hello\n');
  await assert.rejects(pipeline(fromCsv(join(csv, '*.csv'), { cast: true }), collect()), (e: unknown) => {
    assert.ok(e instanceof SpillwayError);
    assert.equal(e.code, ErrorCodes.SCHEMA_MISMATCH);
    assert.match(e.message, /a\.csv/);
    assert.match(e.message, /b\.csv/);
    return true;
  });
});

test('fromArrow over an array of files widens Int32 to Float64 across files', async () => {
  const a = join(dir, 'a.arrow');
  const b = join(dir, 'b.arrow');
  await pipeline(fromIterable([{ v: 1 }, { v: 2 }]), toArrow(a));
  await pipeline(fromIterable([{ v: 2.5 }]), toArrow(b));
  const result = await pipeline(fromArrow([b, a]), collect());
  assert.deepEqual(result.output, [{ v: 1 }, { v: 2 }, { v: 2.5 }]);
  // the wider file in several record batches, Float64 and Int64 (a partitioned toArrow tree does
  // this): its second batch was "Float64 to Float64, which cannot widen" (apache-arrow tells the
  // `new Float64()` the widening made from the Float(DOUBLE) its reader makes)
  const c = join(dir, 'c.arrow');
  const d = join(dir, 'd.arrow');
  await pipeline(fromIterable([{ v: 1.5 }, { v: 2.5 }, { v: 3.5 }], { batchSize: 1 }), toArrow(c));
  await pipeline(fromIterable([{ v: 2n ** 60n }, { v: 3n }], { batchSize: 1 }), toArrow(d));
  const floats = await pipeline(fromArrow([a, c]), collect());
  assert.deepEqual(floats.output, [{ v: 1 }, { v: 2 }, { v: 1.5 }, { v: 2.5 }, { v: 3.5 }]);
  const ints = await pipeline(fromArrow([a, d]), collect());
  assert.deepEqual(ints.output, [{ v: 1 }, { v: 2 }, { v: 2n ** 60n }, { v: 3 }]);
});

test('dataset options are validated at once', () => {
  const invalid = (e: unknown): boolean => e instanceof SpillwayError && e.code === ErrorCodes.INVALID_OPTION;
  assert.throws(() => fromParquet(join(tree, '**/*.parquet'), { where: { col: 'x', op: '~' } as never }), invalid);
  assert.throws(() => fromParquet([join(tree, 'x.parquet')], { batchSize: 0 }), invalid);
  assert.throws(() => fromCsv([], {}), invalid);
  assert.throws(() => fromCsv(dir, { hive: 'yes' as never }), invalid);
});

test('one file is open at a time: descriptors do not grow with the number of files', async () => {
  const many = join(dir, 'many');
  mkdirSync(many, { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(many, `f${String(i).padStart(2, '0')}.csv`), `id\n${i}\n`);
  const before = openFds();
  let most = 0;
  const result = await pipeline(
    fromCsv(many, { cast: true, batchSize: 1 }),
    map((row) => {
      most = Math.max(most, openFds());
      return row;
    }),
    collect(),
  );
  assert.deepEqual(
    (result.output as Array<{ id: number }>).map((r) => r.id),
    Array.from({ length: 40 }, (_, i) => i),
  );
  assert.ok(most - before <= 4, `${most - before} more descriptors while reading 40 files`);
});

test('where naming a column no Parquet file has is a ValidationError before any row', async () => {
  await assert.rejects(
    pipeline(fromParquet(join(tree, '**/*.parquet'), { where: { col: 'pricee', op: '>', value: 1 } }), collect()),
    (e: unknown) => {
      assert.ok(e instanceof SpillwayError);
      assert.equal(e.code, ErrorCodes.INVALID_OPTION);
      assert.match(e.message, /pricee/);
      return true;
    },
  );
});

test('a partition or file-name column that replaces a file column is not pruned by that column statistics', async () => {
  // the files also hold a column `p` (a stale copy) and `src`, whose statistics say 99 and 'zzz'
  const shadow = join(dir, 'shadow');
  for (const p of [1, 2]) {
    mkdirSync(join(shadow, `p=${p}`), { recursive: true });
    await con.run(
      `COPY (SELECT ${p} AS id, 99 AS p, 'zzz' AS src) TO '${join(shadow, `p=${p}`, 'part-0.parquet')}' (FORMAT parquet)`,
    );
  }
  const ids = async (options: Parameters<typeof fromParquet>[1]): Promise<unknown[]> =>
    ((await pipeline(fromParquet(shadow, options), collect())).output as Record<string, unknown>[]).map((r) =>
      Number(r.id),
    );
  const duckIds = (
    await con.runAndReadAll(
      `SELECT id FROM read_parquet('${shadow}/*/*.parquet', hive_partitioning = true) WHERE p = 1 ORDER BY id`,
    )
  )
    .getRowObjectsJS()
    .map((r) => Number(r.id));
  assert.deepEqual(await ids({ where: { col: 'p', op: '=', value: 1 } }), duckIds);
  assert.deepEqual(duckIds, [1]);
  const file = join(shadow, 'p=2', 'part-0.parquet');
  assert.deepEqual(await ids({ fileColumn: 'src', where: { col: 'src', op: '=', value: file } }), [2]);
});

test('files that add columns read as DuckDB union_by_name reads them: a column a file lacks is null in its rows', async () => {
  const evolving = join(dir, 'evolving');
  mkdirSync(evolving, { recursive: true });
  await con.run(`COPY (SELECT i AS id FROM range(3) t(i)) TO '${join(evolving, '2026-01.parquet')}' (FORMAT parquet)`);
  await con.run(
    `COPY (SELECT i AS id, 's' || i AS s FROM range(3, 6) t(i)) TO '${join(evolving, '2026-02.parquet')}' (FORMAT parquet)`,
  );
  await con.run(
    `COPY (SELECT i AS id, 's' || i AS s, i * 10 AS n FROM range(6, 9) t(i)) TO '${join(evolving, '2026-03.parquet')}' (FORMAT parquet)`,
  );
  const want = (
    await con.runAndReadAll(
      `SELECT id, s, n FROM read_parquet('${evolving}/*.parquet', union_by_name = true) ORDER BY id`,
    )
  )
    .getRowObjectsJS()
    .map((r) => ({ id: Number(r.id), s: r.s ?? null, n: r.n === null ? null : Number(r.n) }));
  const norm = (rows: Record<string, unknown>[]) =>
    rows.map((r) => ({ id: Number(r.id), s: r.s ?? null, n: r.n == null ? null : Number(r.n) }));
  // rows, Arrow, and through each sink
  const rows = (await pipeline(fromParquet(evolving), collect())).output as Record<string, unknown>[];
  assert.deepEqual(Object.keys(rows[0]!), ['id', 's', 'n']);
  assert.deepEqual(norm(rows), want);
  const arrow = await pipeline(fromParquet(evolving, { output: 'arrow' }), collect());
  assert.deepEqual(norm(arrow.output as Record<string, unknown>[]), want);
  const parquet = join(dir, 'evolving.parquet');
  await pipeline(fromParquet(evolving), toParquet(parquet));
  assert.deepEqual(norm((await pipeline(fromParquet(parquet), collect())).output as Record<string, unknown>[]), want);
  const csv = join(dir, 'evolving.csv');
  await pipeline(fromParquet(evolving), toCsv(csv));
  assert.equal(readFileSync(csv, 'utf8').split('\n')[0], 'id,s,n');
  // a column some file has can be projected and filtered on
  const some = await pipeline(
    fromParquet(evolving, { columns: ['n', 'id'], where: { col: 's', op: 'isNull' } }),
    collect(),
  );
  const projected = some.output as Record<string, unknown>[];
  assert.deepEqual(Object.keys(projected[0]!), ['n', 'id']);
  assert.deepEqual(
    projected.map((r) => [r.n, Number(r.id)]),
    [
      [null, 0],
      [null, 1],
      [null, 2],
    ],
  );
  await assert.rejects(pipeline(fromParquet(evolving, { columns: ['id', 'nope'] }), collect()), /nope.*is in no file/);
});
