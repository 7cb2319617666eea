import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, collect, map, ErrorCodes, SpillwayError, type ValidationError } from '../../index.ts';
import type { AbortError, Row } from '../../index.ts';
import type { Batch } from '../../lib/entry/extend.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { parquetWriteFile } from 'hyparquet-writer';
import { CORPUS, corpusSkip, openFds, settledFds, tempDir } from '../helpers.ts';
import type { TruthFile } from '../lib/formats/parquet/corpusNormalize.ts';

const dir = tempDir('spillway-fromparquet-');

/** Resolves once a stream has emitted 'close' (whatever error it was destroyed with). */
function closed(stream: NodeJS.EventEmitter & { closed: boolean }): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve()));
}

/** A Parquet file of `n` rows in row groups of `group` rows, written with hyparquet-writer (not toParquet, whose format is changing). */
async function makeFile(name: string, n: number, group: number): Promise<string> {
  const file = join(dir, name);
  parquetWriteFile({
    filename: file,
    rowGroupSize: group,
    schema: [
      { name: 'root', num_children: 4 },
      { name: 'id', type: 'INT32', repetition_type: 'OPTIONAL' },
      { name: 'big', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      {
        name: 'at',
        type: 'INT64',
        repetition_type: 'OPTIONAL',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      },
    ],
    columnData: [
      { name: 'id', data: Int32Array.from({ length: n }, (_, i) => i) },
      { name: 'big', data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 10n ** 14n) },
      { name: 'name', data: Array.from({ length: n }, (_, i) => `n${i}`) },
      { name: 'at', data: BigInt64Array.from({ length: n }, (_, i) => BigInt(Date.UTC(2024, 0, 1) + i * 1000)) },
    ],
  });
  return file;
}

test('fromParquet yields batches with their position, and progress with totals from the footer', async () => {
  const file = await makeFile('pos.parquet', 2500, 1000);
  const source = fromParquet(file, { batchSize: 400 });
  const positions: Batch['position'][] = [];
  const { output } = await pipeline(
    source,
    map((r) => r),
    collect(),
  );
  assert.equal(output.length, 2500);
  assert.deepEqual(output[1234], {
    id: 1234,
    big: 1234n * 10n ** 14n,
    name: 'n1234',
    at: new Date(Date.UTC(2024, 0, 1) + 1234_000),
  });
  // batches never straddle a row group: 400, 400, 200 per group of 1000
  const again = fromParquet(file, { batchSize: 400 });
  for await (const batch of again as AsyncIterable<Batch>) positions.push(batch.position);
  assert.deepEqual(
    positions.map((p) => [p.index, p.rowStart]),
    [
      [0, 0],
      [1, 400],
      [2, 800],
      [3, 1000],
      [4, 1400],
      [5, 1800],
      [6, 2000],
      [7, 2400],
    ],
  );
  assert.ok(positions.every((p) => p.source === file));
  const progress = source.progress();
  assert.equal(progress.rows, 2500);
  assert.equal(progress.totalRows, 2500);
  assert.equal(progress.totalBytes, readFileSync(file).length);
  assert.equal(progress.bytes, progress.totalBytes);
});

test('fromParquet projects columns and maps int64 as asked', async () => {
  const file = await makeFile('proj.parquet', 10, 5);
  const { output } = await pipeline(fromParquet(file, { columns: ['name', 'big'], int64: 'bigint' }), collect());
  assert.deepEqual(output[2], { name: 'n2', big: 2n * 10n ** 14n });
  const { output: numbers } = await pipeline(fromParquet(file, { columns: ['big'], int64: 'number' }), collect());
  assert.deepEqual(numbers[3], { big: 3e14 });
  await assert.rejects(
    pipeline(fromParquet(file, { columns: ['nope'] }), collect()),
    (e: ValidationError) => e.code === ErrorCodes.INVALID_OPTION && /options\.columns\[0\]/.test(e.message),
  );
  assert.throws(
    () => fromParquet(file, { columns: ['big', 'name', 'big'] }),
    (e: ValidationError) => e.code === ErrorCodes.INVALID_OPTION && /`"big"` \(string\) is named twice/.test(e.message),
  );
});

test("fromParquet output: 'arrow' yields Arrow-only batches equal to the rows", async () => {
  const file = await makeFile('arrow.parquet', 2500, 1000);
  const source = fromParquet(file, { batchSize: 400, output: 'arrow', columns: ['at', 'name', 'big'] });
  const positions: [number, number][] = [];
  const rows: Row[] = [];
  for await (const batch of source as AsyncIterable<Batch>) {
    assert.ok(batch.hasArrow && !batch.hasRows, 'holds only Arrow');
    assert.deepEqual(
      batch.arrow.schema.fields.map((f) => String(f.type)),
      ['Timestamp<MILLISECOND, UTC>', 'Utf8', 'Int64'],
    );
    positions.push([batch.position.index, batch.position.rowStart]);
    rows.push(...batch.rows);
  }
  assert.deepEqual(positions.slice(0, 4), [
    [0, 0],
    [1, 400],
    [2, 800],
    [3, 1000],
  ]);
  const { output } = await pipeline(fromParquet(file, { columns: ['at', 'name', 'big'] }), collect());
  assert.deepEqual(rows, output);
  assert.equal(source.progress().rows, 2500);
  assert.throws(() => fromParquet(file, { output: 'columns' as never }), /options\.output/);
});

test('fromParquet validates options synchronously, before touching the file', () => {
  const missing = join(dir, 'missing.parquet');
  assert.throws(() => fromParquet(missing, { batchSize: 0 }), /options\.batchSize/);
  assert.throws(() => fromParquet(missing, { int64: 'string' as never }), /options\.int64/);
  assert.throws(() => fromParquet(missing, { columns: 'a' as never }), /options\.columns/);
  assert.throws(() => fromParquet(42 as never), /`path`/);
  assert.doesNotThrow(() => fromParquet(missing).destroy());
});

test('fromParquet errors carry the stage and the file', async () => {
  const missing = join(dir, 'missing.parquet');
  await assert.rejects(pipeline(fromParquet(missing), collect()), (e: SpillwayError) => {
    assert.equal(e.code, ErrorCodes.IO);
    assert.equal(e.context.stage, 'fromParquet');
    assert.equal(e.context.file, missing);
    return true;
  });
  const garbage = join(dir, 'garbage.parquet');
  writeFileSync(
    garbage,
    Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(100, 7), Buffer.from([50, 0, 0, 0]), Buffer.from('PAR1')]),
  );
  await assert.rejects(pipeline(fromParquet(garbage), collect()), (e: SpillwayError) => {
    assert.equal(e.code, ErrorCodes.FORMAT);
    assert.equal(e.context.stage, 'fromParquet');
    assert.equal(e.context.file, garbage);
    assert.ok(e.message.includes(garbage), e.message);
    return true;
  });
  // a CSV or an empty file said "parquet metadata length 858995253 exceeds the file"
  const csv = join(dir, 'really.csv');
  writeFileSync(csv, 'a,b\n1,2\n3,4\n');
  const empty = join(dir, 'empty.parquet');
  writeFileSync(empty, '');
  for (const [file, what] of [
    [csv, /Not a Parquet file: it does not end with the PAR1 magic bytes/],
    [empty, /Not a Parquet file: it is empty/],
  ] as const)
    await assert.rejects(pipeline(fromParquet(file), collect()), (e: SpillwayError) => {
      assert.equal(e.code, ErrorCodes.FORMAT);
      assert.equal(e.context.file, file);
      assert.match(e.message, what);
      return true;
    });
});

test('fromParquet closes its file when the pipeline is aborted mid-file or the source is destroyed early', async () => {
  const file = await makeFile('abort.parquet', 20_000, 1000);
  const before = openFds();
  const controller = new AbortController();
  let rows = 0;
  const aborted = fromParquet(file, { batchSize: 500 });
  const run = pipeline(
    aborted,
    map((r) => {
      if (++rows === 3000) controller.abort(new Error('user cancelled'));
      return r;
    }),
    collect(),
    { signal: controller.signal },
  );
  await assert.rejects(run, (e: AbortError) => e.code === ErrorCodes.ABORTED);
  await closed(aborted);
  assert.ok(rows < 20_000, 'stopped before the end of the file');
  assert.ok((await settledFds(before)) <= before, 'no file descriptor left open after abort');

  const source = fromParquet(file, { batchSize: 500 });
  for await (const batch of source as AsyncIterable<Batch<Row>>) {
    assert.equal(batch.numRows, 500);
    break; // destroys the source
  }
  await closed(source);
  assert.ok((await settledFds(before)) <= before, 'no file descriptor left open after an early stop');
});

const truth: TruthFile[] = corpusSkip
  ? []
  : (JSON.parse(readFileSync(join(CORPUS, 'truth.json'), 'utf8')) as { files: TruthFile[] }).files.filter(
      (f) => f.format === 'parquet',
    );
// Readable per truth.json, but no JS reader decodes it: must fail with a clear error (as in test/lib/parquet/reader.test.ts).
const MUST_ERROR = new Set(['parquet/ARROW-17100.parquet']);

test('every corpus Parquet file gives its row count through the public API, or a clear error naming it', {
  skip: corpusSkip,
}, async (t) => {
  assert.ok(truth.length >= 20, `expected the corpus Parquet files, found ${truth.length}`);
  for (const f of truth) {
    await t.test(f.path, async () => {
      const file = join(CORPUS, f.path);
      const run = pipeline(fromParquet(file, { batchSize: 1000 }), collect());
      if (f.expect === 'reject' || MUST_ERROR.has(f.path)) {
        await assert.rejects(run, (e: unknown) => {
          assert.ok(e instanceof SpillwayError, String(e));
          assert.ok([ErrorCodes.FORMAT, ErrorCodes.UNSUPPORTED, ErrorCodes.IO].includes(e.code as never), e.code);
          assert.equal(e.context.stage, 'fromParquet');
          assert.equal(e.context.file, file);
          assert.ok(e.message.includes(file), e.message);
          return true;
        });
        return;
      }
      const { output } = await run;
      if (f.rows !== undefined) assert.equal(output.length, f.rows);
    });
  }
});
