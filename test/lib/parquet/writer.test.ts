import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ParquetFileWriter } from '../../../lib/parquet/writer.ts';
import type { ParquetCompression } from '../../../lib/parquet/writer.ts';
import { openParquet } from '../../../lib/parquet/reader.ts';

const require = createRequire(import.meta.url);
const parquetjs = require('parquetjs-lite') as { ParquetReader: { openFile(p: string): Promise<{ getCursor(): { next(): Promise<Record<string, unknown> | null> }; close(): Promise<void> }> } };

function rows(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    ts: new Date(Date.UTC(2024, 0, 1) + i * 1001),
    symbol: ['AAPL', 'ÄÖÜ', '日本', '🚀'][i % 4]!,
    price: i % 7 === 0 ? null : i / 3,
    qty: BigInt(i) * 3_000_000_000_000_000n - 9_000_000_000_000_000_000n,
    side: i % 2 ? 'buy' : 'sell',
    note: i % 5 ? `say "hi", ${i}\n` : null,
  }));
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'spillway-pq-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

for (const compression of ['snappy', 'gzip', 'zstd', 'uncompressed'] as ParquetCompression[]) {
  test(`round trip through ${compression}: own reader and hyparquet agree with the input`, () => withDir(async (dir) => {
    const file = path.join(dir, 'out.parquet');
    const input = rows(2500);
    const w = await ParquetFileWriter.open(file, { compression, rowGroupSize: 1000 });
    for (let i = 0; i < input.length; i += 300) await w.write(input.slice(i, i + 300));
    await w.commit();
    assert.deepEqual(await readdir(dir), ['out.parquet']); // temp file renamed, nothing left

    const r = await openParquet(file, { int64: 'bigint' });
    const got: Record<string, unknown>[] = [];
    try {
      assert.equal(r.numRows, 2500);
      assert.equal(r.numRowGroups, 3);
      for await (const b of r.batches()) got.push(...b.rows);
    } finally { await r.close(); }
    assert.deepEqual(got, input);

    const second = await parquetReadObjects({ file: await asyncBufferFromFile(file), compressors });
    assert.equal(second.length, 2500);
    assert.deepEqual(second[3], input[3]);
    assert.deepEqual(second[2499], input[2499]);
  }));
}

// hyparquet-writer stamps format version 2 (as pyarrow does); parquetjs-lite refuses every v2 footer,
// so it cannot be the second reader here: the hyparquet read-back above is.
test('parquetjs-lite refuses our (format v2) files, as it refuses pyarrow ones', () => withDir(async (dir) => {
  const file = path.join(dir, 'p.parquet');
  const w = await ParquetFileWriter.open(file, { schema: { id: { type: 'int32', nullable: false }, name: 'string' } });
  await w.write([{ id: 1, name: 'a' }]);
  await w.commit();
  await assert.rejects(parquetjs.ParquetReader.openFile(file), /invalid parquet version/);
}));

test('a value of the wrong type fails loudly; abort removes the temporary file', () => withDir(async (dir) => {
  const file = path.join(dir, 'bad.parquet');
  const w = await ParquetFileWriter.open(file, { schema: { n: 'int32' }, rowGroupSize: 2 });
  await assert.rejects(w.write([{ n: 1 }, { n: 1.5 }]), { code: 'ERR_SPILLWAY_FORMAT' });
  await w.abort();
  assert.deepEqual(await readdir(dir), []);
}));

test('options are validated synchronously', () => {
  assert.throws(() => ParquetFileWriter.open('x.parquet', { compression: 'lzo' as never }), /options\.compression/);
  assert.throws(() => ParquetFileWriter.open('x.parquet', { rowGroupSize: 0 }), /options\.rowGroupSize/);
  assert.throws(() => ParquetFileWriter.open('x.parquet', { schema: { a: 'int128' as never } }), /options\.schema\.a/);
});
