import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  BinaryView,
  Field,
  Float64,
  Int32,
  RecordBatchReader,
  Schema,
  Table,
  Utf8,
  Utf8View,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type RecordBatch,
} from 'apache-arrow';
import {
  pipeline,
  fromIterable,
  fromCsv,
  collect,
  map,
  limit,
  toSpill,
  ErrorCodes,
  type SpillwayError,
  type ValidationError,
} from '../../index.ts';
import { type Batch, BatchTransform } from '../../lib/entry/extend.ts';
import { fromArrow } from '../../sources/fromArrow.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { registerArrowCodecs } from '../../lib/formats/arrow/codecs.ts';
import { CORPUS, corpusSkip, tempDir } from '../helpers.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { mapBatch } from '../../transforms/mapBatch.ts';

/** A CSV with ints, floats, strings with quotes and newlines, booleans, empty cells and a late-typed column. */
function csvText(rows: number): string {
  const lines = ['id,name,price,active,comment,late'];
  for (let i = 0; i < rows; i++) {
    const comment = i % 5 === 0 ? '' : i % 7 === 0 ? `"says ""hi"",\nthen leaves"` : `plain ${i % 13}`;
    // `late` is empty for the first 1500 rows, then integers, then (from row 2500) fractions
    const late = i < 1500 ? '' : i < 2500 ? String(i) : String(i / 8);
    lines.push(`${i},name ${i % 17},${(i * 1.25).toFixed(2)},${i % 2 === 0},${comment},${late}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads an Arrow file with apache-arrow directly (a second reader, not fromArrow). */
function readWithApacheArrow(file: string): { schema: Schema; batches: RecordBatch[] } {
  registerArrowCodecs();
  const reader = RecordBatchReader.from(readFileSync(file));
  const batches = [...(reader as Iterable<RecordBatch>)];
  return { schema: reader.schema ?? batches[0]?.schema, batches };
}

for (const format of ['file', 'stream'] as const) {
  for (const compression of ['lz4', 'zstd', null] as const) {
    test(`CSV -> Arrow (${format}, ${compression ?? 'none'}) -> rows equals the input`, async () => {
      const dir = tempDir();
      const csv = join(dir, 'in.csv');
      writeFileSync(csv, csvText(3000));
      const out = join(dir, `out.${format === 'file' ? 'arrow' : 'arrows'}`);
      const expected = (await pipeline(fromCsv(csv, { cast: true }), collect(), { governor: false })).output;
      const { output } = await pipeline(
        // rows: the sink infers each batch's types (negotiated Arrow would bring Float64 already)
        fromCsv(csv, { cast: true, batchSize: 1000, output: 'rows' }),
        toArrow(out, { format, compression }),
        { governor: false },
      );
      assert.equal(output.path, out);
      assert.equal(output.rows, 3000);
      assert.equal(output.batches, 3);
      assert.equal(output.bytes, statSync(out).size);
      assert.equal(output.format, format);
      assert.equal(output.compression, compression);
      // `late` widened from null to int32 to float64: the file was rewritten, not broken
      assert.equal(output.rewrites, 2);
      assert.deepEqual(
        readdirSync(dir).sort(),
        ['in.csv', `out.${format === 'file' ? 'arrow' : 'arrows'}`],
        'no temporary files left',
      );
      const back = (await pipeline(fromArrow(out), collect(), { governor: false })).output;
      assert.deepEqual(back, expected);
      const independent = readWithApacheArrow(out);
      assert.equal(String(independent.schema.fields.find((f) => f.name === 'late')?.type), 'Float64');
      assert.equal(
        independent.batches.reduce((n, b) => n + b.numRows, 0),
        3000,
      );
    });
  }
}

test('toArrow compresses: zstd < lz4 < none on repetitive data; the default is lz4 in the file format', async () => {
  const dir = tempDir();
  const rows = Array.from({ length: 20_000 }, (_, i) => ({
    id: i,
    city: ['Paris', 'Lyon', 'Nice'][i % 3],
    amount: (i % 100) * 1.5,
  }));
  const sizes: Record<string, number> = {};
  for (const compression of ['lz4', 'zstd', null] as const) {
    const out = join(dir, `${compression}.arrow`);
    sizes[String(compression)] = (
      await pipeline(fromIterable(rows, { batchSize: 5000 }), toArrow(out, { compression }), { governor: false })
    ).output.bytes;
  }
  const dflt = (
    await pipeline(fromIterable(rows, { batchSize: 5000 }), toArrow(join(dir, 'default.arrow')), { governor: false })
  ).output;
  assert.equal(dflt.compression, 'lz4');
  assert.equal(dflt.format, 'file');
  assert.equal(readFileSync(join(dir, 'default.arrow')).subarray(0, 6).toString(), 'ARROW1');
  assert.ok(sizes.zstd! < sizes.lz4! && sizes.lz4! < sizes.null!, JSON.stringify(sizes));
  const stream = (await pipeline(fromIterable(rows), toArrow(join(dir, 'x.arrows')), { governor: false })).output;
  assert.equal(stream.format, 'stream', '.arrows means the stream format');
});

test('Arrow -> map -> Arrow; Arrow batches pass through toArrow without becoming rows', async () => {
  const dir = tempDir();
  const src = join(dir, 'src.arrow');
  const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, amount: i / 2 }));
  await pipeline(fromIterable(rows, { batchSize: 30 }), toArrow(src), { governor: false });
  const mapped = join(dir, 'mapped.arrow');
  await pipeline(
    fromArrow(src),
    map((r: { id: number; amount: number }) => ({ ...r, amount: r.amount * 100 })),
    toArrow(mapped),
    { governor: false },
  );
  const back = (await pipeline(fromArrow(mapped), collect(), { governor: false })).output;
  assert.deepEqual(
    back,
    rows.map((r) => ({ ...r, amount: r.amount * 100 })),
  );

  const seen: Batch[] = [];
  const spy = new BatchTransform({
    name: 'spy',
    transform: (batch, push) => {
      seen.push(batch);
      push(batch);
    },
  });
  const copy = join(dir, 'copy.arrow');
  const { output } = await pipeline(fromArrow(src), spy, toArrow(copy), { governor: false });
  assert.equal(output.rows, 100);
  assert.equal(seen.length, 4);
  assert.ok(
    seen.every((b) => b.hasArrow && !b.hasRows),
    'no batch was converted to rows',
  );
  assert.deepEqual((await pipeline(fromArrow(copy), collect(), { governor: false })).output, rows);
});

test('toArrow refuses a batch whose schema cannot be unified with SchemaMismatchError naming the batch, and leaves nothing', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.arrow');
  writeFileSync(out, 'previous');
  const rows = [{ a: 1 }, { a: 2 }, { a: 'three' }];
  await assert.rejects(
    pipeline(fromIterable(rows, { batchSize: 1 }), toArrow(out), { governor: false }),
    (e: SpillwayError) => {
      assert.equal(e.code, ErrorCodes.SCHEMA_MISMATCH);
      assert.equal(e.context.batch, 2);
      assert.equal(e.context.file, out);
      assert.equal(e.context.stage, 'toArrow');
      assert.match(e.message, /"a"/);
      return true;
    },
  );
  assert.deepEqual(readdirSync(dir), ['out.arrow']);
  assert.equal(readFileSync(out, 'utf8'), 'previous', 'the previous file is untouched');
  // int64 then float64 would lose precision: refused, not silently converted
  await assert.rejects(
    pipeline(fromIterable([{ a: 2n ** 60n }, { a: 0.5 }], { batchSize: 1 }), toArrow(join(dir, 'x.arrow')), {
      governor: false,
    }),
    (e: SpillwayError) => e.code === ErrorCodes.SCHEMA_MISMATCH && e.context.batch === 1,
  );
  assert.deepEqual(readdirSync(dir), ['out.arrow']);
});

test('toArrow conforms narrower batches (missing or all-null columns, ints into floats) and widens with new columns', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.arrow');
  const rows = [{ a: 1.5, b: 'x' }, { a: 2 }, { a: null, b: null }, { b: 'y', c: true }];
  const { output } = await pipeline(fromIterable(rows, { batchSize: 1 }), toArrow(out), { governor: false });
  assert.equal(output.rewrites, 1, 'only the new column widened');
  const back = (await pipeline(fromArrow(out), collect(), { governor: false })).output;
  assert.deepEqual(back, [
    { a: 1.5, b: 'x', c: null },
    { a: 2, b: null, c: null },
    { a: null, b: null, c: null },
    { a: null, b: 'y', c: true },
  ]);
});

test('toArrow writes to a Writable (stream format by default) with a fixed schema', async () => {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const rows = [{ a: 1.5 }, { a: 2 }, { a: null }];
  const { output } = await pipeline(fromIterable(rows, { batchSize: 1 }), toArrow(sink, { compression: 'zstd' }), {
    governor: false,
  });
  assert.equal(output.path, undefined);
  assert.equal(output.format, 'stream');
  const bytes = Buffer.concat(chunks);
  assert.equal(output.bytes, bytes.byteLength);
  const back = (await pipeline(fromArrow(PassThrough.from([bytes])), collect(), { governor: false })).output;
  assert.deepEqual(back, rows);
  // a Writable cannot be rewritten: a batch needing a wider schema fails and names it
  // as with toCsv, the Writable is destroyed with the pipeline's error: its owner listens for it
  const target = new PassThrough().resume();
  const destroyedWith = new Promise((resolve) => target.once('error', resolve));
  await assert.rejects(
    pipeline(fromIterable([{ a: 1 }, { a: 1.5 }], { batchSize: 1 }), toArrow(target), { governor: false }),
    (e: SpillwayError) =>
      e.code === ErrorCodes.SCHEMA_MISMATCH && e.context.batch === 1 && /options\.schema/.test(e.message),
  );
  assert.equal(((await destroyedWith) as SpillwayError).code, ErrorCodes.SCHEMA_MISMATCH);
});

test('toArrow with a declared schema casts every batch to it and refuses what does not fit', async () => {
  const dir = tempDir();
  const schema = new Schema([new Field('a', new Float64(), true), new Field('b', new Utf8(), true)]);
  const out = join(dir, 'declared.arrow');
  await pipeline(fromIterable([{ a: 1 }, { a: 2, b: 'x' }], { batchSize: 1 }), toArrow(out, { schema }), {
    governor: false,
  });
  const { schema: written } = readWithApacheArrow(out);
  assert.deepEqual(
    written.fields.map((f) => `${f.name}:${String(f.type)}`),
    ['a:Float64', 'b:Utf8'],
  );
  await assert.rejects(
    pipeline(
      fromIterable([{ a: 1, c: 3 }]),
      toArrow(join(dir, 'bad.arrow'), { schema: new Schema([new Field('a', new Int32(), true)]) }),
      { governor: false },
    ),
    (e: SpillwayError) => e.code === ErrorCodes.SCHEMA_MISMATCH && e.context.batch === 0,
  );
  assert.deepEqual(readdirSync(dir), ['declared.arrow']);
});

test('toArrow leaves nothing when the pipeline is aborted mid-run, also after a rewrite', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.arrow');
  const controller = new AbortController();
  async function* rows(): AsyncGenerator<Record<string, unknown>> {
    for (let i = 0; i < 100; i++) {
      if (i === 60) controller.abort(new Error('enough'));
      // the float at 50 forces a rewrite of everything written before it
      yield { i: i === 50 ? 0.5 : i };
    }
  }
  await assert.rejects(
    pipeline(fromIterable(rows(), { batchSize: 10 }), toArrow(out), { signal: controller.signal, governor: false }),
    (e: SpillwayError) => e.code === ErrorCodes.ABORTED,
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('toArrow with no rows writes a valid empty file', async () => {
  const dir = tempDir();
  const out = join(dir, 'empty.arrow');
  const { output } = await pipeline(fromIterable([]), toArrow(out), { governor: false });
  assert.equal(output.rows, 0);
  assert.deepEqual((await pipeline(fromArrow(out), collect(), { governor: false })).output, []);
});

test('toArrow validates options synchronously', () => {
  assert.throws(
    () => toArrow(''),
    (e: ValidationError) => e.code === ErrorCodes.INVALID_OPTION && /target/.test(e.message),
  );
  assert.throws(() => toArrow('x.arrow', { compression: 'gzip' as never }), /options\.compression/);
  assert.throws(() => toArrow('x.arrow', { format: 'parquet' as never }), /options\.format/);
  assert.throws(() => toArrow('x.arrow', { schema: {} as never }), /options\.schema/);
  assert.equal(typeof toArrow('x.arrow', { compression: 'none' }).write, 'function');
});

test('sliced string and binary view columns (re-batched by fromArrow or cut by limit) write files that read back, in toArrow and toSpill', async () => {
  // apache-arrow cut a sliced view column's views a second time when writing: the file could not be read
  const dir = tempDir();
  const n = 40;
  const strings = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? null : `${i}: ${'long text '.repeat(i % 4)}`));
  const bytes = Array.from({ length: n }, (_, i) => (i % 5 === 2 ? null : new Uint8Array(i % 30).fill(i)));
  const table = new Table({
    s: vectorFromArray(strings, new Utf8View()),
    b: vectorFromArray(bytes, new BinaryView()),
  });
  const input = join(dir, 'views.arrow');
  writeFileSync(input, tableToIPC(table, 'file'));
  const expected = strings.map((s, i) => ({ s, b: bytes[i] }));
  const check = (rows: unknown[], label: string): void =>
    assert.deepEqual(
      rows.map((r) => ({
        ...(r as object),
        b: (r as { b: Uint8Array | null }).b && Uint8Array.from((r as { b: Uint8Array }).b),
      })),
      expected.slice(0, rows.length),
      label,
    );
  for (const compression of ['none', 'lz4'] as const) {
    const out = join(dir, `out-${compression}.arrow`);
    await pipeline(fromArrow(input, { batchSize: 3 }), toArrow(out, { compression }));
    // apache-arrow reads every value back, and so does spillway
    const back = tableFromIPC(readFileSync(out));
    assert.equal(back.numRows, n);
    for (let i = 0; i < n; i++) assert.equal(back.getChild('s')!.get(i), strings[i], `${compression}: row ${i}`);
    check((await pipeline(fromArrow(out), collect())).output, `toArrow ${compression}`);
  }
  const cut = join(dir, 'limit.arrow');
  await pipeline(fromArrow(input, { batchSize: 7 }), limit(25), toArrow(cut));
  check((await pipeline(fromArrow(cut), collect())).output, 'limit');
  const { output: spilled } = await pipeline(fromArrow(input, { batchSize: 3 }), toSpill({ budget: 0 }));
  try {
    check((await pipeline(spilled.toSource(), collect())).output, 'toSpill');
  } finally {
    await spilled.dispose();
  }
});

test('a timestamp past the nanosecond range (an INT96 of the year 9999) is refused naming the range, not as a type mismatch', {
  skip: corpusSkip,
}, async () => {
  const dir = tempDir();
  await assert.rejects(
    pipeline(
      fromParquet(join(CORPUS, 'parquet', 'int96_from_spark.parquet')),
      mapBatch((rows) => rows),
      toArrow(join(dir, 'out.arrow')),
    ),
    (e: Error) => /nanoseconds hold only the years 1677-2262/.test(e.message) && !/holds a PreciseDate/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('toArrow into a path that is a directory fails with IoError and leaves no .part file beside it', async () => {
  // the rename failed after the whole output was written, and the intermediate file stayed
  const dir = tempDir();
  mkdirSync(join(dir, 'target.arrow'));
  await assert.rejects(
    pipeline(fromIterable([{ a: 1 }, { a: 2 }]), toArrow(join(dir, 'target.arrow'))),
    (error: unknown) => (error as { code?: string }).code === ErrorCodes.IO,
  );
  assert.deepEqual(readdirSync(dir), ['target.arrow']);
});
