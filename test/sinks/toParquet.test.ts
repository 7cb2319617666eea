import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { pipeline, fromCsv, fromIterable, collect, map, ErrorCodes } from '../../index.ts';
import type { AbortError, SpillwayError } from '../../index.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { fromArrow } from '../../sources/fromArrow.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import type { ParquetCompression } from '../../lib/formats/parquet/writer.ts';
import { tempDir } from '../helpers.ts';
import { PreciseDate } from '../../lib/formats/values.ts';

const dir = tempDir('spillway-toparquet-');
const csv = join(dir, 'in.csv');
const lines = ['id,price,symbol,ok,note'];
for (let i = 0; i < 3000; i++)
  lines.push(
    `${i},${(i * 1.25).toFixed(2)},${['AAPL', 'ÄÖÜ', '日本', '🚀'][i % 4]},${i % 3 === 0},${i % 5 ? `"say ""hi"", ${i}"` : ''}`,
  );
writeFileSync(csv, lines.join('\n') + '\n');

for (const compression of ['snappy', 'gzip', 'zstd', 'uncompressed'] as ParquetCompression[]) {
  test(`CSV -> Parquet (${compression}) -> rows equals the input, read by fromParquet and by plain hyparquet`, async () => {
    const out = join(dir, `rt-${compression}.parquet`);
    const { output: expected } = await pipeline(fromCsv(csv, { cast: true, batchSize: 700 }), collect());
    const { output } = await pipeline(
      fromCsv(csv, { cast: true, batchSize: 700 }),
      toParquet(out, { compression, rowGroupSize: 1000 }),
    );
    assert.deepEqual(output, { path: out, rows: 3000, bytes: statSync(out).size, rowGroups: 3 });
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    const { output: back } = await pipeline(fromParquet(out), collect());
    assert.deepEqual(back, expected);
    const second = await parquetReadObjects({ file: await asyncBufferFromFile(out), compressors });
    assert.deepEqual(second, expected);
  });
}

test('toParquet ends row groups at rowGroupBytes before rowGroupSize', async () => {
  const out = join(dir, 'bytes.parquet');
  const rows = Array.from({ length: 5000 }, (_, i) => ({ i, s: 'x'.repeat(200) }));
  const { output } = await pipeline(fromIterable(rows), toParquet(out, { rowGroupBytes: '250kB' }));
  assert.equal(output.rows, 5000);
  assert.ok(output.rowGroups >= 4, `${output.rowGroups} row groups`);
  const { output: back } = await pipeline(fromParquet(out), collect());
  assert.deepEqual(back, rows);
});

test('toParquet leaves nothing under the final name when the pipeline fails', async () => {
  const sub = tempDir('spillway-toparquet-fail-');
  const out = join(sub, 'out.parquet');
  const rows = Array.from({ length: 50_000 }, (_, i) => ({ i }));
  await assert.rejects(
    pipeline(
      fromIterable(rows, { batchSize: 1000 }),
      map((r: { i: number }) => {
        if (r.i === 30_000) throw new Error('boom');
        return r;
      }),
      toParquet(out, { rowGroupSize: 5000 }),
    ),
    /boom/,
  );
  assert.deepEqual(readdirSync(sub), []);
  // a value that does not fit its column: a FormatError from the sink, and no file
  await assert.rejects(
    pipeline(fromIterable([{ n: 1 }, { n: 'two' }]), toParquet(out, { schema: { n: 'int32' } })),
    (e: SpillwayError) => {
      assert.equal(e.code, ErrorCodes.FORMAT);
      assert.equal(e.context.stage, 'toParquet');
      assert.equal(e.context.file, out);
      return true;
    },
  );
  // a column the inferred schema lacks is refused, not dropped
  await assert.rejects(
    pipeline(fromIterable([{ a: 1 }, { a: 2, b: 3 }], { batchSize: 1 }), toParquet(out)),
    (e: SpillwayError) => e.code === ErrorCodes.FORMAT && /`b`/.test(e.message),
  );
  // also when it stands in for a column the row lacks (as many keys as columns)
  await assert.rejects(
    pipeline(
      fromIterable(
        [
          { a: 1, b: 2 },
          { a: 2, c: 3 },
        ],
        { batchSize: 1 },
      ),
      toParquet(out),
    ),
    (e: SpillwayError) => e.code === ErrorCodes.FORMAT && /`c`/.test(e.message),
  );
  assert.deepEqual(readdirSync(sub), []);
});

test('toParquet leaves nothing under the final name when the pipeline is aborted, and keeps a previous file', async () => {
  const sub = tempDir('spillway-toparquet-abort-');
  const out = join(sub, 'out.parquet');
  writeFileSync(out, 'previous');
  const controller = new AbortController();
  const rows = Array.from({ length: 50_000 }, (_, i) => ({ i, s: `row ${i}` }));
  const run = pipeline(
    fromIterable(rows, { batchSize: 1000 }),
    map((r: { i: number }) => {
      if (r.i === 25_000) controller.abort(new Error('user cancelled'));
      return r;
    }),
    toParquet(out, { rowGroupSize: 5000 }),
    { signal: controller.signal },
  );
  await assert.rejects(run, (e: AbortError) => e.code === ErrorCodes.ABORTED);
  assert.equal(readFileSync(out, 'utf8'), 'previous');
  assert.deepEqual(readdirSync(sub), ['out.parquet']);
});

test('toParquet validates options synchronously and creates no file for them', () => {
  const out = join(dir, 'never.parquet');
  assert.throws(() => toParquet(out, { compression: 'lzo' as never }), /options\.compression/);
  assert.throws(() => toParquet(out, { rowGroupSize: 0 }), /options\.rowGroupSize/);
  assert.throws(() => toParquet(out, { rowGroupBytes: 'lots' }), /options\.rowGroupBytes/);
  assert.throws(() => toParquet(out, { schema: { a: 'int128' as never } }), /options\.schema\.a/);
  assert.throws(() => toParquet(undefined as never), /`path`/);
  assert.equal(
    readdirSync(dir).some((f) => f.includes('never')),
    false,
  );
});

test('toParquet refuses array rows with a clear error', async () => {
  await assert.rejects(
    pipeline(fromIterable([[1, 2]]), toParquet(join(dir, 'arrays.parquet'))),
    (e: SpillwayError) => e.code === ErrorCodes.FORMAT && /object rows/.test(e.message),
  );
});

test('Arrow batches (fromCsv output: arrow) are written column by column and read back as the rows path gives them', async () => {
  const out = join(dir, 'arrow-path.parquet');
  const { output: expected } = await pipeline(fromCsv(csv, { cast: true, batchSize: 700 }), collect());
  const { output } = await pipeline(
    fromCsv(csv, { cast: true, batchSize: 700, output: 'arrow' }),
    toParquet(out, { rowGroupSize: 1000 }),
  );
  assert.deepEqual(output, { path: out, rows: 3000, bytes: statSync(out).size, rowGroups: 3 });
  const { output: back } = await pipeline(fromParquet(out), collect());
  assert.deepEqual(back, expected);
  const second = await parquetReadObjects({ file: await asyncBufferFromFile(out), compressors });
  assert.deepEqual(second, expected);
});

test('CSV type drift between Arrow batches: widened within the first row group, a SchemaMismatchError naming the fix after it', async () => {
  const drift = join(dir, 'drift.csv');
  const text = ['id,v'];
  for (let i = 0; i < 100; i++) text.push(`${i},${i < 50 ? i : i + 0.5}`);
  writeFileSync(drift, text.join('\n') + '\n');
  const out = join(dir, 'drift.parquet');
  await pipeline(
    fromCsv(drift, { cast: true, batchSize: 20, output: 'arrow' }),
    toParquet(out, { rowGroupSize: 1000 }),
  );
  const { output: back } = await pipeline(fromParquet(out), collect());
  assert.deepEqual(
    back,
    Array.from({ length: 100 }, (_, i) => ({ id: i, v: i < 50 ? i : i + 0.5 })),
  );
  const sub = tempDir('spillway-toparquet-drift-');
  await assert.rejects(
    pipeline(
      fromCsv(drift, { cast: true, batchSize: 20, output: 'arrow' }),
      toParquet(join(sub, 'd.parquet'), { rowGroupSize: 30 }),
    ),
    (e: SpillwayError) => {
      assert.equal(e.code, ErrorCodes.SCHEMA_MISMATCH);
      assert.equal(e.context.stage, 'toParquet');
      assert.match(
        e.message,
        /`v` is int32 in the Parquet file but double in batch 2.*declare the column types \(`cast` or `types` in fromCsv, `schema` in toParquet\)/,
      );
      return true;
    },
  );
  assert.deepEqual(readdirSync(sub), []);
});

test('a timestamp past 2262 in a nanosecond column is a coded error, never wrapped (9999-12-31 was written as 1816-03-29); microseconds hold it', async () => {
  const precise = (iso: string, nanos: number) => new PreciseDate(Date.parse(iso), nanos);
  const sub = tempDir('spillway-toparquet-ns-');
  // the first value has a nanosecond digit: the column is TIMESTAMP(NANOS)
  const rows = [{ a: precise('2024-01-01T00:00:00.000Z', 1) }, { a: precise('9999-12-31T00:00:00.000Z', 0) }];
  await assert.rejects(pipeline(fromIterable(rows), toParquet(join(sub, 'ns.parquet'))), (e: SpillwayError) => {
    assert.equal(e.code, ErrorCodes.FORMAT);
    assert.match(
      e.message,
      /Column `a` has type timestamp_ns but got .*9999-12-31.*nanoseconds hold only the years 1677-2262/,
    );
    return true;
  });
  assert.deepEqual(readdirSync(sub), []);
  // whole microseconds: the column is TIMESTAMP(MICROS), which holds year 9999
  const out = join(dir, 'us.parquet');
  const micros = [{ a: precise('2024-01-01T00:00:00.000Z', 1000) }, { a: precise('9999-12-31T00:00:00.000Z', 0) }];
  await pipeline(fromIterable(micros), toParquet(out));
  const { output } = await pipeline(fromParquet(out, { output: 'rows' }), collect());
  assert.deepEqual(
    output.map((row) => (row as { a: Date }).a.toISOString()),
    ['2024-01-01T00:00:00.000001Z', '9999-12-31T00:00:00.000Z'],
  );
});

test("a CSV column of text and numbers through the README's pipeline: a coded error naming the column and the fix, no file; cast: 'auto' writes it as text", async () => {
  // cast: true casts cell by cell ("ha" stays text, "4" becomes 4); DuckDB sniffs the column as VARCHAR
  const mixed = join(dir, 'mixed.csv');
  writeFileSync(mixed, 'a,b\n1,ha\n3,4\n');
  const sub = tempDir('spillway-toparquet-mixed-');
  await assert.rejects(
    pipeline(fromCsv(mixed, { cast: true }), toParquet(join(sub, 'm.parquet'))),
    (e: SpillwayError) => {
      assert.equal(e.code, ErrorCodes.FORMAT);
      assert.match(
        e.message,
        /Column `b` has type string but got `4` \(number\); declare the column's type \(`cast: 'auto'`/,
      );
      return true;
    },
  );
  assert.deepEqual(readdirSync(sub), []);
  const out = join(dir, 'mixed.parquet');
  await pipeline(fromCsv(mixed, { cast: 'auto' }), toParquet(out));
  const { output } = await pipeline(fromParquet(out), collect());
  assert.deepEqual(output, [
    { a: 1, b: 'ha' },
    { a: 3, b: '4' },
  ]);
});

test('a bigint after a first batch of numbers (int64 auto over a large INT64) is refused with the fixes that work, which do', async () => {
  const rows = [...Array.from({ length: 10 }, (_, i) => ({ id: i })), { id: 2n ** 60n }];
  await assert.rejects(
    pipeline(fromIterable(rows, { batchSize: 5 }), toParquet(join(dir, 'a.parquet'))),
    (e: Error) => /typed DOUBLE from its first rows/.test(e.message) && /schema: \{ "id": 'int64' \}/.test(e.message),
  );
  const declared = join(dir, 'b.parquet');
  await pipeline(fromIterable(rows, { batchSize: 5 }), toParquet(declared, { schema: { id: 'int64' } }));
  const { output } = await pipeline(fromParquet(declared), collect());
  assert.deepEqual(output.at(-1), { id: 2n ** 60n });
});

test('a bigint past int64 in rows (a UBIGINT past 2^63) is refused with what to do, and no file is left', async () => {
  // the hint said to declare a schema type, and toParquet has no unsigned one
  const dir = tempDir();
  const out = join(dir, 'u.parquet');
  await assert.rejects(
    pipeline(fromIterable([{ u: 1n }, { u: 2n ** 64n - 1n }]), toParquet(out)),
    (error: SpillwayError) =>
      error.code === ErrorCodes.FORMAT &&
      /past int64's range/.test(error.message) &&
      /only Arrow batches write it/.test(error.message),
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('an Arrow DECIMAL with a negative scale is refused, naming the column and why; no file is left', async () => {
  // it was written as DECIMAL(6, -2), which DuckDB and pyarrow refuse to read
  const { Decimal, Field, RecordBatch, Schema, Struct, makeData } = await import('apache-arrow');
  const type = new Decimal(-2, 6, 128);
  const column = makeData({ type, length: 2, data: new Uint32Array([123, 0, 0, 0, 5, 0, 0, 0]) });
  const fields = [new Field('d', type, true)];
  const batch = new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length: 2, nullCount: 0, children: [column] }),
  );
  const { Table, tableToIPC } = await import('apache-arrow');
  const src = join(tempDir(), 'neg.arrow');
  writeFileSync(src, tableToIPC(new Table([batch]), 'file'));
  const dir = tempDir();
  const out = join(dir, 'neg.parquet');
  await assert.rejects(
    pipeline(fromArrow(src), toParquet(out)),
    (error: SpillwayError) =>
      error.code === ErrorCodes.UNSUPPORTED && /`d`/.test(error.message) && /scale -2/.test(error.message),
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('a declared date column refuses a Date with a time of day (it was cut to the day without a word)', async () => {
  const dir = tempDir();
  const out = join(dir, 'd.parquet');
  await assert.rejects(
    pipeline(
      fromIterable([{ a: new Date('2024-01-01T00:00:00Z') }, { a: new Date('2024-01-01T12:00:00Z') }]),
      toParquet(out, { schema: { a: 'date' } }),
    ),
    (error: SpillwayError) => error.code === ErrorCodes.FORMAT && /`a` has type date/.test(error.message),
  );
  assert.deepEqual(readdirSync(dir), []);
  // midnights, before and after 1970, are days as before
  await pipeline(
    fromIterable([{ a: new Date('1969-12-31T00:00:00Z') }, { a: new Date('2024-02-29T00:00:00Z') }]),
    toParquet(out, { schema: { a: 'date' } }),
  );
  const { output } = await pipeline(fromParquet(out), collect());
  assert.deepEqual(
    (output as { a: Date }[]).map((r) => r.a.toISOString().slice(0, 10)),
    ['1969-12-31', '2024-02-29'],
  );
});

test('a row with a column the declared schema lacks is refused, as an Arrow batch is: a misspelt name dropped the data', async () => {
  const dir = tempDir();
  await assert.rejects(
    pipeline(
      fromIterable([{ id: 1, price: 2.5 }]),
      toParquet(join(dir, 'typo.parquet'), { schema: { id: 'int32', prcie: 'double' } }),
    ),
    (error: SpillwayError) =>
      error.code === ErrorCodes.FORMAT &&
      /column `price`, which the declared `options.schema` lacks/.test(error.message),
  );
  assert.deepEqual(readdirSync(dir), []);
  // a column the rows lack is written as nulls, as before
  const out = join(dir, 'ok.parquet');
  await pipeline(fromIterable([{ id: 1 }]), toParquet(out, { schema: { id: 'int32', note: 'string' } }));
  assert.deepEqual((await pipeline(fromParquet(out), collect())).output, [{ id: 1, note: null }]);
});

test("a declared 'timestamp' given a microsecond value says the declaration holds milliseconds (it blamed the years 1677-2262)", async () => {
  const { PreciseDate } = await import('../../lib/formats/values.ts');
  const out = join(tempDir(), 'us.parquet');
  await assert.rejects(
    pipeline(
      fromIterable([{ ts: new PreciseDate(Date.UTC(2024, 2, 10, 2, 30), 123_000) }]),
      toParquet(out, { schema: { ts: 'timestamp' } }),
    ),
    (error: SpillwayError) => {
      assert.equal(error.code, ErrorCodes.FORMAT);
      assert.match(error.message, /a declared `timestamp` holds milliseconds/);
      assert.doesNotMatch(error.message, /1677-2262/);
      return true;
    },
  );
});
