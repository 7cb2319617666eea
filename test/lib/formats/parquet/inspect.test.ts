/** inspectParquet / inspectArrow and `spillway inspect FILE`: typed descriptions, also of files with no rows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Schema,
  Field,
  Int32,
  tableFromArrays,
  tableToIPC,
} from 'apache-arrow';
import { inspectParquet } from '../../../../lib/formats/parquet/inspect.ts';
import { inspectArrow } from '../../../../lib/formats/arrow/inspect.ts';
import { CORPUS, ROOT, corpusSkip, nodeScript, tempDir } from '../../../helpers.ts';
import { fromIterable, pipeline, toParquet } from '../../../../index.ts';
import { duckRun, sqlString } from './duckdb.ts';

const run = promisify(execFile);
const dir = tempDir('spillway-inspect-');

test('inspectParquet describes schema, row groups, exact statistics, codecs and key-value metadata', async () => {
  const file = join(dir, 'typed.parquet');
  await duckRun(`COPY (SELECT i AS id, (i / 8)::DECIMAL(38,9) + 9876543210.123456789 AS amount, [i, NULL] AS l, 'n' || i AS name
    FROM range(5000) t(i)) TO ${sqlString(file)} (ROW_GROUP_SIZE 2048, COMPRESSION zstd, KV_METADATA {owner: 'spillway'})`);
  const info = await inspectParquet(file);
  assert.equal(info.format, 'parquet');
  assert.equal(info.numRows, 5000);
  assert.deepEqual(
    info.columns.map((c) => [c.name, c.type]),
    [
      ['id', 'int64'],
      ['amount', 'decimal'],
      ['l', 'list'],
      ['name', 'string'],
    ],
  );
  assert.deepEqual(info.codecs, ['ZSTD']);
  assert.ok(info.rowGroups.length >= 2);
  assert.equal(
    info.rowGroups.reduce((n, g) => n + g.numRows, 0),
    5000,
  );
  assert.deepEqual(
    info.keyValueMetadata.find((kv) => kv.key === 'owner'),
    { key: 'owner', value: 'spillway' },
  );
  const amount = info.schema.find((n) => n.name === 'amount')!;
  assert.equal(amount.annotation, 'DECIMAL');
  assert.deepEqual(amount.details, { precision: 38, scale: 9 });
  const list = info.schema.find((n) => n.name === 'l')!;
  assert.equal(list.annotation, 'LIST');
  assert.equal(list.children?.[0]?.repetition, 'REPEATED');
  const first = info.rowGroups[0]!.columns.find((c) => c.path === 'amount')!;
  assert.equal(first.codec, 'ZSTD');
  // exact: a double would print 9876543210.123457
  assert.equal(first.statistics?.min, '9876543210.123456789');
  assert.equal(
    info.rowGroups[0]!.columns.find((c) => c.path === 'l.list.element')!.statistics?.nullCount,
    info.rowGroups[0]!.numRows,
  );
});

test('inspectParquet and `spillway inspect` show which chunks have a page index (toParquet writes one for every chunk)', async () => {
  const file = join(dir, 'paged.parquet');
  const rows = Array.from({ length: 3000 }, (_, i) => ({ id: i, tags: [i, i + 1] }));
  await pipeline(fromIterable(rows), toParquet(file, { pageBytes: '4KB' }), { governor: false });
  const chunks = (await inspectParquet(file)).rowGroups[0]!.columns;
  const id = chunks.find((c) => c.path === 'id')!;
  assert.ok(id.pageIndex && id.pageIndex.columnIndexBytes > 0 && id.pageIndex.offsetIndexBytes > 0, 'id has one');
  assert.ok(chunks.find((c) => c.path === 'tags.list.element')!.pageIndex, 'a nested leaf has one too');
  const { stdout } = await run(process.execPath, [...nodeScript('lib/cli/main.ts'), 'inspect', file], {
    cwd: ROOT,
  });
  assert.match(stdout, /\n\s+id: DOUBLE .* page index min\/max/);
});

test('inspectParquet: DATE, TIME and UUID statistics are the text the reader gives their values', async () => {
  const file = join(dir, 'temporal-stats.parquet');
  await duckRun(`COPY (SELECT * FROM (VALUES
      (DATE '-0044-03-15', TIME '00:00:00', TIME_NS '23:59:59.999999999', UUID '00000000-0000-0000-0000-000000000000'),
      (DATE '9999-12-31', TIME '12:00:00.5', TIME_NS '01:02:03', UUID '6f1a2b3c-0000-4000-8000-00000000abcd'))
    t(d, tm, tn, u)) TO ${sqlString(file)} (FORMAT parquet)`);
  const info = await inspectParquet(file);
  const stats = Object.fromEntries(
    info.rowGroups[0]!.columns.map((c) => [c.path, [c.statistics?.min, c.statistics?.max]]),
  );
  // a DATE before year 0 was cut to `-000044-03`, TIME was its integer, a UUID undashed hex
  assert.deepEqual(stats, {
    d: ['-000044-03-15', '9999-12-31'],
    tm: ['00:00:00', '12:00:00.5'],
    tn: ['01:02:03', '23:59:59.999999999'],
    u: ['00000000-0000-0000-0000-000000000000', '6f1a2b3c-0000-4000-8000-00000000abcd'],
  });
});

test('inspectParquet: a file with no rows still has its columns; bad statistics are flagged, not thrown', async () => {
  const empty = join(dir, 'empty.parquet');
  await duckRun(`COPY (SELECT 1::INT AS a, 'x' AS b WHERE false) TO ${sqlString(empty)}`);
  const info = await inspectParquet(empty);
  assert.equal(info.numRows, 0);
  assert.deepEqual(
    info.columns.map((c) => c.name),
    ['a', 'b'],
  );

  const bad = join(dir, 'bad-stats.parquet');
  await duckRun(
    `COPY (SELECT TIMESTAMP '2024-01-02 03:04:05.123456' AS ts) TO ${sqlString(bad)} (COMPRESSION uncompressed)`,
  );
  const bytes = readFileSync(bad);
  const footer = bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8);
  const value = Buffer.alloc(8);
  value.writeBigInt64LE(1_704_164_645_123_456n);
  for (let at = bytes.indexOf(value, footer); at >= 0; at = bytes.indexOf(value, at + 8))
    bytes.writeBigInt64LE(9_223_372_036_854_775_000n, at);
  writeFileSync(bad, bytes);
  const flagged = await inspectParquet(bad);
  assert.equal(flagged.rowGroups[0]!.columns[0]!.statistics?.invalid, true);

  await assert.rejects(inspectParquet(join(dir, 'missing.parquet')), { code: 'ERR_SPILLWAY_IO' });
  await assert.rejects(inspectParquet(empty, { verbose: true } as never), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
});

test('inspectParquet: a footer whose schema or statistics have the wrong shape is a FormatError or a flagged statistic (fuzz seed 42, cases 934 and 977)', async (t) => {
  if (corpusSkip) return t.skip(corpusSkip);
  const flipped = (name: string, flips: [number, number][]): string => {
    const bytes = readFileSync(join(CORPUS, 'parquet', name));
    for (const [at, mask] of flips) bytes[at]! ^= mask;
    const file = join(dir, `flipped-${name}`);
    writeFileSync(file, bytes);
    return file;
  };
  // a schema element's child count now runs past the schema's end
  const schema = flipped('nested_lists.snappy.parquet', [
    [258, 0x20],
    [545, 0x40],
  ]);
  await assert.rejects(inspectParquet(schema), { code: 'ERR_SPILLWAY_FORMAT', context: { file: schema } });
  // a statistic that is no longer bytes
  const stats = flipped('float16_nonzeros_and_nans.parquet', [
    [225, 0x10],
    [468, 0x40],
  ]);
  const info = await inspectParquet(stats);
  assert.ok(info.rowGroups.some((g) => g.columns.some((c) => c.statistics?.invalid === true)));
});

test('inspectArrow describes schema and batches, also of a file with no batches', async () => {
  const file = join(dir, 'data.arrow');
  const table = tableFromArrays({ a: Int32Array.from([1, 2, 3]), s: ['x', 'y', 'z'] });
  writeFileSync(file, tableToIPC(table, 'file'));
  const info = await inspectArrow(file);
  assert.equal(info.ipcFormat, 'file');
  assert.equal(info.numRows, 3);
  assert.deepEqual(
    info.fields.map((f) => [f.name, f.type]),
    [
      ['a', 'Int32'],
      ['s', 'Dictionary<Int32, Utf8>'],
    ],
  );
  assert.deepEqual(info.batches, [{ index: 0, rows: 3 }]);

  const none = join(dir, 'none.arrow');
  const empty = new RecordBatchFileWriter();
  empty.reset(undefined, new Schema([new Field('a', new Int32(), true)]));
  writeFileSync(none, await empty.finish().toUint8Array());
  const noRows = await inspectArrow(none);
  assert.equal(noRows.numRows, 0);
  assert.deepEqual(
    noRows.fields.map((f) => f.name),
    ['a'],
  );
  assert.deepEqual(noRows.batches, []);

  const stream = join(dir, 'data.arrows');
  writeFileSync(stream, await RecordBatchStreamWriter.writeAll(table).toUint8Array());
  assert.equal((await inspectArrow(stream)).ipcFormat, 'stream');
  // a directory is the file system's refusal, not corrupt bytes (it was "Corrupt or invalid Arrow file: EISDIR")
  await assert.rejects(inspectArrow(dir), (error: { code?: string; message: string }) => {
    assert.equal(error.code, 'ERR_SPILLWAY_IO');
    assert.match(error.message, /EISDIR/);
    return true;
  });
});

test('spillway inspect FILE prints the same description (text and --json)', async () => {
  const file = join(dir, 'cli.parquet');
  await duckRun(`COPY (SELECT 1 AS a, 2 AS a_1) TO ${sqlString(file)}`);
  const cli = [...nodeScript('lib/cli/main.ts'), 'inspect', file];
  const json = JSON.parse((await run(process.execPath, [...cli, '--json'], { cwd: ROOT })).stdout) as {
    format: string;
    numRows: number;
    columns: { name: string }[];
  };
  assert.equal(json.format, 'parquet');
  assert.equal(json.numRows, 1);
  assert.deepEqual(
    json.columns.map((c) => c.name),
    ['a', 'a_1'],
  );
  const text = (await run(process.execPath, cli, { cwd: ROOT })).stdout;
  assert.match(text, /^parquet .*cli\.parquet\n {2}1 rows in 1 row groups/);
  assert.match(text, /a_1: INT32/);
});
