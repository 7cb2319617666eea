/** `spillway convert` and `spillway inspect` on datasets, run as real processes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, collect, fromParquet } from '../../../index.ts';
import { listTree } from '../../../lib/dataset/partitioned-writer.ts';
import { runCli, tempDir } from '../../helpers.ts';

const cli = runCli;

const dir = tempDir('spillway-dataset-cli-');
const raw = join(dir, 'raw');
mkdirSync(join(raw, 'b'), { recursive: true });
writeFileSync(join(raw, 'a.csv'), 'id,date,symbol,price\n1,2026-11-29,ABC,10.5\n2,2026-11-30,ABC,11\n');
writeFileSync(join(raw, 'b', 'c.csv'), 'id,date,symbol,price\n3,2026-11-30,XYZ,12\n4,2026-11-29,XYZ,13\n');

test('convert a glob of CSV files into a partitioned Parquet tree, with --where; inspect lists it', async () => {
  const out = join(dir, 'trades');
  const run = await cli(
    'convert',
    join(raw, '**/*.csv'),
    out,
    '--to',
    'parquet',
    '--partition-by',
    'date,symbol',
    '--where',
    '{"col":"price","op":">","value":10.5}',
    '--no-progress',
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /3 rows/);
  assert.deepEqual(await listTree(out), [
    join('date=2026-11-29', 'symbol=XYZ', 'part-0.parquet'),
    join('date=2026-11-30', 'symbol=ABC', 'part-0.parquet'),
    join('date=2026-11-30', 'symbol=XYZ', 'part-0.parquet'),
  ]);
  const back = await pipeline(fromParquet(out), collect());
  assert.deepEqual((back.output as Array<{ id: number }>).map((r) => r.id).sort(), [2, 3, 4]);

  const text = await cli('inspect', out);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /3 files, .*3 rows/);
  assert.match(text.stdout, /partitions: date \(date, 2 values\), symbol \(string, 2 values\)/);
  assert.match(text.stdout, /columns: id: /);
  const json = JSON.parse((await cli('inspect', out, '--json')).stdout) as {
    totalRows: number;
    files: Array<{ partition: Record<string, string> }>;
  };
  assert.equal(json.totalRows, 3);
  assert.deepEqual(json.files[0]!.partition, { date: '2026-11-29', symbol: 'XYZ' });
});

test('convert takes a directory (format from its files) and refuses a bad --where', async () => {
  const out = join(dir, 'all.jsonl');
  const run = await cli('convert', raw, out, '--no-progress');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /4 rows/);
  const bad = await cli('convert', raw, join(dir, 'x.parquet'), '--where', '{"col":"price","op":"~"}');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--where.*ERR_SPILLWAY_INVALID_OPTION/);
});

test('--where compares an integer past 2^53 exactly (JSON.parse rounded 9007199254740993 to ...992)', async () => {
  const input = join(dir, 'big-ids.csv');
  writeFileSync(input, 'id,tag\n9007199254740992,wrong\n9007199254740993,right\n');
  const out = join(dir, 'big-ids.jsonl');
  const run = await cli(
    'convert',
    input,
    out,
    '--where',
    '{"col":"id","op":"=","value":9007199254740993}',
    '--no-progress',
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(readFileSync(out, 'utf8'), '{"id":9007199254740993,"tag":"right"}\n');
});
