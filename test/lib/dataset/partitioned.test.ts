import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  pipeline,
  collect,
  map,
  fromIterable,
  fromParquet,
  fromCsv,
  fromArrow,
  toParquet,
  toCsv,
  toArrow,
  ErrorCodes,
  SpillwayError,
} from '../../../index.ts';
import { listTree, partitionSegment } from '../../../lib/dataset/partitioned-writer.ts';
import { tempDir } from '../../helpers.ts';
import { idsByPartition } from './tree-ids.ts';

const dir = tempDir('spillway-partitioned-');
let db: DuckDBInstance;
let con: DuckDBConnection;
before(async () => {
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  con = await db.connect();
});
after(() => {
  con?.closeSync();
  db?.closeSync();
});

const SYMBOLS = ['A', 'B/C', 'D E', null];
function rows(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    price: i / 4,
    date: new Date(Date.UTC(2026, 10, 28 + (i % 3))),
    symbol: SYMBOLS[Math.floor(i / 5) % 4],
  }));
}
const key = (r: Record<string, unknown>): string =>
  JSON.stringify([Number(r.id), Number(r.price), (r.date as Date).toISOString().slice(0, 10), r.symbol ?? null]);

test('partition segments: URL-encoded, dates as YYYY-MM-DD, null as the hive default partition', () => {
  assert.equal(partitionSegment('symbol', 'B/C'), 'symbol=B%2FC');
  assert.equal(partitionSegment('date', new Date('2026-11-30T00:00:00Z')), 'date=2026-11-30');
  assert.equal(partitionSegment('s', null), 's=__HIVE_DEFAULT_PARTITION__');
  assert.equal(partitionSegment('n', 10), 'n=10');
});

test('values that spell a null marker (__HIVE_DEFAULT_PARTITION__, NULL) stay text in spillway and DuckDB; null stays null', async () => {
  // they were written as the marker itself: read back as null (DuckDB also reads k=NULL as null)
  assert.equal(partitionSegment('k', '__HIVE_DEFAULT_PARTITION__'), 'k=%5F_HIVE_DEFAULT_PARTITION__');
  assert.equal(partitionSegment('k', 'NULL'), 'k=%4EULL');
  const target = join(dir, 'markers');
  const input = [
    { id: 1, k: '__HIVE_DEFAULT_PARTITION__' },
    { id: 2, k: 'NULL' },
    { id: 3, k: null },
    { id: 4, k: 'null' },
  ];
  await pipeline(fromIterable(input), toParquet(target, { partitionBy: ['k'] }));
  const back = await pipeline(fromParquet(target), collect());
  const byId = (a: { id: unknown }, b: { id: unknown }) => Number(a.id) - Number(b.id);
  assert.deepEqual(
    (back.output as { id: number; k: unknown }[]).map((r) => ({ id: Number(r.id), k: r.k })).sort(byId),
    input,
  );
  const duck = (
    await con.runAndReadAll(
      `SELECT id::INTEGER AS id, k FROM read_parquet('${target}/**/*.parquet', hive_partitioning = true) ORDER BY id`,
    )
  ).getRowObjectsJson();
  assert.deepEqual(duck, input);
});

test('a partition value too long for a directory name is a coded error naming the column; nothing is left', async () => {
  const dir = tempDir();
  // 50 'é' are 100 bytes of UTF-8 and 300 URL-encoded: past the 255 bytes of a file name
  await assert.rejects(
    pipeline(fromIterable([{ id: 1, k: 'é'.repeat(50) }]), toParquet(join(dir, 'tree'), { partitionBy: ['k'] })),
    (e: SpillwayError) => e.code === ErrorCodes.UNSUPPORTED && /`k`.*255 bytes/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(partitionSegment('k', 'x'.repeat(253)).length, 255);
});

test('toParquet partitionBy writes a hive tree that DuckDB reads to the same rows', async () => {
  const target = join(dir, 'pq');
  const { output } = await pipeline(fromIterable(rows(2000)), toParquet(target, { partitionBy: ['date', 'symbol'] }));
  assert.equal(output.rows, 2000);
  assert.equal(output.partitions, 12);
  assert.deepEqual(await listTree(target), output.files);
  assert.ok(output.files.includes(join('date=2026-11-28', 'symbol=B%2FC', 'part-0.parquet')));
  const reader = await con.runAndReadAll(
    `SELECT id, price, date, symbol FROM read_parquet('${target}/**/*.parquet', hive_partitioning = true) ORDER BY id`,
  );
  const duck = reader.getRowObjectsJS().map((r) => ({
    ...r,
    date: new Date(`${String(r.date instanceof Date ? r.date.toISOString().slice(0, 10) : r.date)}T00:00:00Z`),
  }));
  assert.deepEqual(duck.map(key), rows(2000).map(key));
  // and spillway reads it back the same
  const back = await pipeline(fromParquet(target), collect());
  assert.deepEqual((back.output as Array<Record<string, unknown>>).map(key).sort(), rows(2000).map(key).sort());
  // no temporary directory is left beside the target
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('.')),
    [],
  );
});

test('a bounded number of open files: the least recently used writer is closed, the partition goes on in part-1', async () => {
  const target = join(dir, 'lru');
  const { output } = await pipeline(
    fromIterable(rows(600), { batchSize: 7 }),
    toCsv(target, { partitionBy: ['symbol'], maxOpenFiles: 2 }),
  );
  assert.ok(output.rotations > 0);
  assert.ok(output.files.some((f) => f.endsWith('part-1.csv')));
  const back = await pipeline(fromCsv(target, { cast: true }), collect());
  assert.equal(back.output.length, 600);
  const ids = (back.output as Array<Record<string, unknown>>).map((r) => Number(r.id)).sort((a, b) => a - b);
  assert.deepEqual(
    ids,
    rows(600).map((r) => r.id),
  );
  const nulls = (back.output as Array<Record<string, unknown>>).filter((r) => r.symbol === null).length;
  assert.equal(nulls, 150);
});

test('a bound on buffered bytes closes the largest writer first', async () => {
  const target = join(dir, 'bytes');
  const { output } = await pipeline(
    fromIterable(rows(3000), { batchSize: 100 }),
    toArrow(target, { partitionBy: ['date'], maxBufferedBytes: 20_000 }),
  );
  assert.ok(output.rotations > 0);
  const back = await pipeline(fromArrow(join(target, '**/*.arrow')), collect());
  assert.equal(back.output.length, 3000);
});

/** Rows of `n` partitions (`p` = i % n: every batch holds them all) with ids ascending. */
function interleaved(count: number, n: number): Array<{ id: number; p: string; x: number }> {
  return Array.from({ length: count }, (_, i) => ({ id: i, p: `k${i % n}`, x: i / 8 }));
}

test('more partitions than maxOpenFiles in input not ordered by them: one file a partition while the rows fit the byte bound, rows in order', async () => {
  // closing the least recently used writer for every new partition made 45,092 files of about 22
  // rows from the 1M-row bench CSV's 500 symbols; rows now wait for a writer to fall idle
  const data = interleaved(6000, 60);
  for (const [name, source] of [
    ['rows', () => fromIterable(data, { batchSize: 200 })],
    ['arrow', () => fromArrow(join(dir, 'interleaved.arrow'), { batchSize: 200 })],
  ] as const) {
    if (name === 'arrow') await pipeline(fromIterable(data), toArrow(join(dir, 'interleaved.arrow')));
    const target = join(dir, `held-${name}`);
    const { output } = await pipeline(source(), toCsv(target, { partitionBy: ['p'], maxOpenFiles: 4 }));
    assert.equal(output.files.length, 60, name);
    assert.equal(output.rotations, 0, name);
    const back = await pipeline(fromCsv(target, { cast: true }), collect<{ id: number; p: string; x: number }>());
    const text = (r: { id: number; p: string; x: number }): string => `${r.id}|${r.p}|${r.x}`;
    assert.deepEqual(back.output.map(text).sort(), data.map(text).sort(), `${name}: every column of every row`);
    const ids = await idsByPartition(target);
    for (let k = 0; k < 60; k++)
      assert.deepEqual(
        ids.get(`p=k${k}`),
        data.filter((r) => r.p === `k${k}`).map((r) => r.id),
        `${name} p=k${k}`,
      );
  }
});

test('held rows past the byte bound are written out, largest first, and read back in the order written (part-2 before part-10)', async () => {
  const data = interleaved(6000, 12);
  const target = join(dir, 'held-bound');
  const { output } = await pipeline(
    fromIterable(data, { batchSize: 120 }),
    toCsv(target, { partitionBy: ['p'], maxOpenFiles: 2, maxBufferedBytes: 8_000 }),
  );
  assert.ok(output.rotations > 0);
  assert.ok(output.files.includes('p=k5/part-10.csv'), 'some partition has more than ten files');
  const ids = await idsByPartition(target);
  for (let k = 0; k < 12; k++)
    assert.deepEqual(
      ids.get(`p=k${k}`),
      data.filter((r) => r.p === `k${k}`).map((r) => r.id),
      `p=k${k}`,
    );
  const back = await pipeline(fromCsv(target, { cast: true }), collect<{ id: number; p: string }>());
  assert.deepEqual(
    back.output.filter((r) => r.p === 'k5').map((r) => r.id),
    data.filter((r) => r.p === 'k5').map((r) => r.id),
    'fromCsv reads the files of a partition in the order written',
  );
});

test('input ordered by the partition columns streams: an idle writer is closed for the next partition, nothing is held', async () => {
  const data = Array.from({ length: 3000 }, (_, i) => ({ id: i, p: `k${Math.floor(i / 100)}` }));
  const target = join(dir, 'held-sorted');
  const { output } = await pipeline(
    fromIterable(data, { batchSize: 50 }),
    toCsv(target, { partitionBy: ['p'], maxOpenFiles: 2 }),
  );
  assert.equal(output.files.length, 30);
  assert.ok(output.rotations >= 28);
});

test('a failing pipeline leaves neither the target nor the temporary tree', async () => {
  const target = join(dir, 'failed');
  await assert.rejects(
    pipeline(
      fromIterable(rows(500), { batchSize: 50 }),
      map((r: Record<string, unknown>) => {
        if (r.id === 300) throw new Error('boom');
        return r;
      }),
      toParquet(target, { partitionBy: ['symbol'] }),
    ),
  );
  assert.equal(existsSync(target), false);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('failed')),
    [],
  );
});

test("existing: 'error' refuses, 'overwrite' replaces the whole tree, 'append' adds files", async () => {
  const target = join(dir, 'existing');
  mkdirSync(join(target, 'symbol=Z'), { recursive: true });
  writeFileSync(join(target, 'symbol=Z', 'old.csv'), 'id\n1\n');
  await assert.rejects(
    pipeline(fromIterable(rows(10)), toCsv(target, { partitionBy: ['symbol'] })),
    (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO,
  );
  assert.ok(existsSync(join(target, 'symbol=Z', 'old.csv')));
  await pipeline(fromIterable(rows(10)), toCsv(target, { partitionBy: ['symbol'], existing: 'overwrite' }));
  assert.equal(existsSync(join(target, 'symbol=Z')), false);
  const before = (await listTree(target)).length;
  await pipeline(fromIterable(rows(10)), toCsv(target, { partitionBy: ['symbol'], existing: 'append' }));
  assert.equal((await listTree(target)).length, before * 2);
  const back = await pipeline(fromCsv(target), collect());
  assert.equal(back.output.length, 20);
});

test('partition options are validated at once', () => {
  const invalid = (e: unknown): boolean => e instanceof SpillwayError && e.code === ErrorCodes.INVALID_OPTION;
  assert.throws(() => toParquet(join(dir, 'x'), { partitionBy: [] }), invalid);
  assert.throws(() => toParquet(join(dir, 'x'), { partitionBy: ['a'], fileName: 'part.parquet' }), invalid);
  assert.throws(() => toCsv(join(dir, 'x'), { partitionBy: ['a'], existing: 'replace' as never }), invalid);
  assert.throws(() => toParquet(join(dir, 'x'), { partitionBy: ['a'], compression: 'nope' as never }), invalid);
});

test('a DuckDB tree written with PARTITION_BY reads in spillway to the same rows (CSV)', async () => {
  const target = join(dir, 'duck-csv');
  await con.run(
    `COPY (SELECT i AS id, i % 4 AS k, 'x' || i AS s FROM range(100) t(i)) TO '${target}' (FORMAT csv, PARTITION_BY (k))`,
  );
  const back = await pipeline(fromCsv(join(target, '**/*.csv'), { cast: true }), collect());
  const got = (back.output as Array<Record<string, unknown>>)
    .map((r) => `${String(r.id)}|${String(r.k)}|${String(r.s)}`)
    .sort();
  const want = Array.from({ length: 100 }, (_, i) => `${i}|${i % 4}|x${i}`).sort();
  assert.deepEqual(got, want);
});

test('Arrow batches are split on their buffers (no row objects) and read back the same', async () => {
  const src = join(dir, 'arrow-src.parquet');
  await pipeline(fromIterable(rows(1000)), toParquet(src));
  const target = join(dir, 'from-arrow');
  const { output } = await pipeline(
    fromParquet(src, { output: 'arrow', batchSize: 128 }),
    toParquet(target, { partitionBy: ['symbol', 'date'] }),
  );
  assert.equal(output.rows, 1000);
  assert.equal(output.partitions, 12);
  const back = await pipeline(fromParquet(target), collect());
  assert.deepEqual((back.output as Array<Record<string, unknown>>).map(key).sort(), rows(1000).map(key).sort());
});

test("a typed file partitioned as the README writes it (no options) keeps every column's type, and the tree reads back", async () => {
  // the sink read rows: BIGINT became DOUBLE, DATE TIMESTAMPTZ, DECIMAL text, and a column all
  // null in one partition was text there and a double elsewhere, so fromParquet refused the tree
  const src = join(dir, 'typed-src.parquet');
  await con.run(
    `COPY (SELECT i AS id, (i % 3)::INTEGER AS part, DATE '2024-02-28' + (i % 2)::INTEGER AS day,
       (i * 0.5)::DECIMAL(9,2) AS price, (9007199254740993 + i)::BIGINT AS big,
       CASE WHEN i % 3 = 0 THEN NULL ELSE i END::INTEGER AS sparse
     FROM range(30) t(i)) TO '${src}'`,
  );
  const target = join(dir, 'typed-tree');
  const { stats } = await pipeline(fromParquet(src), toParquet(target, { partitionBy: ['part'] }));
  assert.equal(stats.stages[0]!.details.output, 'arrow');
  const describe = async (from: string) =>
    Object.fromEntries(
      (await (await con.run(`DESCRIBE SELECT * FROM ${from}`)).getRows()).map((r) => [String(r[0]), String(r[1])]),
    );
  const types = await describe(`read_parquet('${target}/**/*.parquet', hive_partitioning = true)`);
  assert.deepEqual(
    { id: types.id, day: types.day, price: types.price, big: types.big, sparse: types.sparse },
    { id: 'BIGINT', day: 'DATE', price: 'DECIMAL(9,2)', big: 'BIGINT', sparse: 'INTEGER' },
  );
  // spillway reads its own tree back, the hive `day` of a day-partitioned copy as a DATE
  const back = join(dir, 'typed-back.parquet');
  const read = await pipeline(fromParquet(target), toParquet(back));
  assert.equal(read.output.rows, 30);
  const byDay = join(dir, 'typed-by-day');
  await pipeline(fromParquet(src), toParquet(byDay, { partitionBy: ['day'] }));
  await pipeline(fromParquet(byDay), toParquet(join(dir, 'typed-by-day.parquet')));
  assert.equal((await describe(`'${join(dir, 'typed-by-day.parquet')}'`)).day, 'DATE');
  const diff = await con.run(
    `SELECT count(*) FROM (SELECT id, day, price, big, sparse FROM '${src}' EXCEPT SELECT id, day, price, big, sparse FROM '${back}')`,
  );
  assert.equal(Number((await diff.getRows())[0]![0]), 0);
});

test("a Parquet tree's files encode on the main thread unless asked (an encoder thread per open file took 1M rows from 318 to 535 MB)", async () => {
  const { perFileOptions } = await import('../../../lib/dataset/sinks.ts');
  assert.deepEqual(perFileOptions({ compression: 'zstd' }, 'parquet'), { compression: 'zstd', encoderThread: false });
  assert.deepEqual(perFileOptions({ encoderThread: true }, 'parquet'), { encoderThread: true });
  assert.deepEqual(perFileOptions({ gzip: true }, 'csv'), { gzip: true });
});
