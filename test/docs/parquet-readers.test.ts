/**
 * What docs/sinks.md says other readers make of toParquet's files, checked against the readers:
 * parquetjs-lite 0.8 reads most column types but fails on TIMESTAMP_MILLIS (its statistics
 * decoding, on its own files too) and DECIMAL, so the page must say so beside its name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pipeline, fromIterable, fromParquet, toParquet } from '../../index.ts';
import { PreciseDate } from '../../lib/entry/parquet.ts';
import { CORPUS, ROOT, corpusSkip, tempDir } from '../helpers.ts';

type Cursor = { next(): Promise<Record<string, unknown> | null> };
interface Reader {
  getCursor(): Cursor;
  close(): Promise<void>;
}
const require = createRequire(import.meta.url);
const parquetjs = require('parquetjs-lite') as {
  ParquetReader: { openFile(p: string): Promise<Reader> };
  ParquetSchema: new (fields: Record<string, { type: string }>) => unknown;
  ParquetWriter: {
    openFile(schema: unknown, p: string): Promise<{ appendRow(r: object): Promise<void>; close(): Promise<void> }>;
  };
};

/** Every row parquetjs-lite reads from `file`. */
async function readParquetjs(file: string): Promise<Record<string, unknown>[]> {
  const reader = await parquetjs.ParquetReader.openFile(file);
  try {
    const rows: Record<string, unknown>[] = [];
    const cursor = reader.getCursor();
    for (let row = await cursor.next(); row; row = await cursor.next()) rows.push(row);
    return rows;
  } finally {
    await reader.close();
  }
}

/** The docs/sinks.md paragraph that names parquetjs-lite (the toParquet section). */
function sinksClaim(): string {
  const page = readFileSync(join(ROOT, 'docs/sinks.md'), 'utf8');
  const paragraph = page.split('\n\n').find((p) => p.includes('parquetjs-lite') && p.includes('read'));
  assert.ok(paragraph, 'docs/sinks.md says which readers read its Parquet files');
  return paragraph.replace(/\s+/g, ' ');
}

test('parquetjs-lite reads the column types docs/sinks.md says it reads', async () => {
  const dir = tempDir();
  const rows = [
    { s: 'a', n: 1.5, b: true, bin: new Uint8Array([1, 2]), j: { k: 1 }, us: new PreciseDate(1e12, 5000) },
    { s: 'b', n: 2, b: false, bin: new Uint8Array([3]), j: [1], us: new PreciseDate(0, 1000) },
  ];
  const file = join(dir, 'types.parquet');
  await pipeline(fromIterable(rows), toParquet(file));
  const got = await readParquetjs(file);
  assert.deepEqual(
    got.map((r) => [r.s, r.n, r.b, [...(r.bin as Buffer)], r.j, (r.us as Date).toISOString()]),
    [
      ['a', 1.5, true, [1, 2], { k: 1 }, '2001-09-09T01:46:40.000Z'],
      ['b', 2, false, [3], [1], '1970-01-01T00:00:00.000Z'],
    ],
  );
  const dates = join(dir, 'date.parquet');
  await pipeline(fromIterable([{ d: new Date(Date.UTC(2024, 0, 2)) }]), toParquet(dates, { schema: { d: 'date' } }));
  assert.equal(((await readParquetjs(dates))[0]!.d as Date).toISOString(), '2024-01-02T00:00:00.000Z');
  const claim = sinksClaim();
  for (const named of ['strings', 'numbers', 'booleans', 'binary', 'JSON', 'dates', 'microsecond timestamps'])
    assert.ok(claim.includes(named), `the page names ${named}: ${claim}`);
});

test('parquetjs-lite fails on TIMESTAMP_MILLIS, its own files too, and docs/sinks.md says so', async () => {
  const dir = tempDir();
  const ours = join(dir, 'ms.parquet');
  await pipeline(fromIterable([{ t: new Date(1e12) }]), toParquet(ours));
  await assert.rejects(readParquetjs(ours), /Cannot convert a BigInt value to a number/);
  const schema = new parquetjs.ParquetSchema({ t: { type: 'TIMESTAMP_MILLIS' } });
  const theirs = join(dir, 'theirs.parquet');
  const writer = await parquetjs.ParquetWriter.openFile(schema, theirs);
  await writer.appendRow({ t: new Date(1e12) });
  await writer.close();
  await assert.rejects(readParquetjs(theirs), /Cannot convert a BigInt value to a number/, 'its own file');
  const claim = sinksClaim();
  assert.match(claim, /TIMESTAMP_MILLIS/);
  assert.match(claim, /Cannot convert a BigInt value to a number/);
  assert.match(claim, /its own bug/);
  assert.doesNotMatch(claim, /read back with hyparquet, parquetjs-lite/, 'no unqualified claim');
});

test('parquetjs-lite fails on a DECIMAL column, and docs/sinks.md says so', { skip: corpusSkip }, async () => {
  const dir = tempDir();
  const file = join(dir, 'decimal.parquet');
  // Arrow batches keep the decimal type (rows carry exact decimal strings, written as text)
  const source = fromParquet(join(CORPUS, 'parquet/int32_decimal.parquet'), { output: 'arrow' });
  await pipeline(source, toParquet(file));
  await assert.rejects(readParquetjs(file), /invalid parquet type: DECIMAL/);
  assert.match(sinksClaim(), /no DECIMAL column/);
});
