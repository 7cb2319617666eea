import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SpillwayError } from '../../../index.ts';
import { expandDataset, globToRegExp, splitGlob } from '../../../lib/dataset/expand.ts';
import { castHiveValue, readHivePartitions, inferHiveType } from '../../../lib/dataset/hive.ts';
import { tempDir } from '../../helpers.ts';

const dir = tempDir('spillway-expand-');
const touch = (rel: string): void => {
  const full = join(dir, rel);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, 'x');
};
for (const rel of [
  'data/date=2026-11-30/symbol=B/part-0.parquet',
  'data/date=2026-11-30/symbol=A/part-0.parquet',
  'data/date=2026-11-29/symbol=A%2FB/part-1.parquet',
  'data/date=__HIVE_DEFAULT_PARTITION__/symbol=A/part-0.parquet',
  'data/date=2026-11-30/symbol=A/part-0.csv',
  'data/_SUCCESS',
  'data/.part-0.parquet.crc',
  'data/_temporary/x.parquet',
])
  touch(rel);

test('glob segments: * stays within a segment, ** spans directories, braces and classes', () => {
  assert.equal(splitGlob('data/**/*.parquet').base, 'data');
  assert.equal(splitGlob('/abs/x/*.csv').base, '/abs/x');
  const re = globToRegExp('**/*.{parquet,csv}');
  assert.ok(re.test('a/b/c.parquet'));
  assert.ok(re.test('c.csv'));
  assert.ok(!re.test('a/.c.csv'));
  assert.ok(!re.test('a/c.arrow'));
  assert.ok(globToRegExp('part-[0-9].csv').test('part-3.csv'));
  assert.ok(!globToRegExp('part-[0-9].csv').test('part-x.csv'));
  assert.ok(!globToRegExp('*.csv').test('a/b.csv'));
});

test('a glob expands to sorted files, leaving out hidden and marker entries', async () => {
  const files = await expandDataset(join(dir, 'data/**/*.parquet'));
  assert.deepEqual(
    files.map((f) => f.path.slice(dir.length + 1)),
    [
      'data/date=2026-11-29/symbol=A%2FB/part-1.parquet',
      'data/date=2026-11-30/symbol=A/part-0.parquet',
      'data/date=2026-11-30/symbol=B/part-0.parquet',
      'data/date=__HIVE_DEFAULT_PARTITION__/symbol=A/part-0.parquet',
    ],
  );
  assert.equal(files[0]!.root, join(dir, 'data'));
});

test('a directory expands to every visible file under it; an array is merged, deduplicated and sorted', async () => {
  const all = await expandDataset(join(dir, 'data'));
  assert.equal(all.length, 5);
  assert.ok(
    all.every((f) => !f.path.includes('_SUCCESS') && !f.path.includes('_temporary') && !f.path.includes('.crc')),
  );
  const two = await expandDataset([
    join(dir, 'data/date=2026-11-30/symbol=B/part-0.parquet'),
    join(dir, 'data/date=2026-11-30/**/*.parquet'),
  ]);
  assert.equal(two.length, 2);
  assert.ok(two[0]!.path < two[1]!.path);
});

test('a glob that matches nothing is an IoError, not an empty read', async () => {
  await assert.rejects(
    expandDataset(join(dir, 'data/**/*.nothing')),
    (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO,
  );
  await assert.rejects(
    expandDataset(join(dir, 'missing/*.csv')),
    (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO,
  );
});

test('hive partitions are typed, URL-decoded, and the default partition is null', async () => {
  const files = await expandDataset(join(dir, 'data/**/*.parquet'));
  const parts = readHivePartitions(files, 'auto')!;
  assert.deepEqual(parts.keys, ['date', 'symbol']);
  assert.deepEqual(parts.types, { date: 'date', symbol: 'string' });
  const first = parts.values.get(files[0]!.path)!;
  assert.deepEqual(first, { date: new Date('2026-11-29T00:00:00Z'), symbol: 'A/B' });
  assert.equal(parts.values.get(files[3]!.path)!.date, null);
  const forced = readHivePartitions(files, true, { date: 'string' })!;
  assert.equal(forced.values.get(files[1]!.path)!.date, '2026-11-30');
});

test('hive type inference as DuckDB infers (int, date, string: never a value that would not read back as its text); auto mode gives up when keys differ', async () => {
  assert.equal(inferHiveType(['1', '-20', '0']), 'int');
  // DuckDB 1.5 reads each of these as VARCHAR: 501, 5, 1.1 and 1.5 would not be the text
  for (const text of ['007', '00501', '+5', '1.10', '1.5', '1e3', '99999999999999999999'])
    assert.equal(inferHiveType(['1', text]), 'string', text);
  assert.equal(inferHiveType(['2026-02-30']), 'string');
  assert.equal(inferHiveType(['2026-02-28', '2024-1-5']), 'date');
  assert.deepEqual(castHiveValue('2024-1-5', 'date', 'd', 'f'), new Date('2024-01-05T00:00:00Z'));
  assert.ok(Object.is(castHiveValue('-0', 'int', 'n', 'f'), 0));
  // asked for, a double still reads
  assert.equal(castHiveValue('1.10', 'double', 'v', 'f'), 1.1);
  const files = [
    { path: join(dir, 'a=1/x.csv'), root: dir },
    { path: join(dir, 'b=1/x.csv'), root: dir },
  ];
  assert.equal(readHivePartitions(files, 'auto'), undefined);
  assert.throws(
    () => readHivePartitions(files, true),
    (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.INVALID_OPTION,
  );
  const big = readHivePartitions([{ path: join(dir, 'n=9007199254740993/x.csv'), root: dir }], 'auto')!;
  assert.equal(big.values.get(join(dir, 'n=9007199254740993/x.csv'))!.n, 9007199254740993n);
});
