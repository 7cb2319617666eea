import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import {
  rowsToRecordBatch,
  recordBatchToRows,
  unifySchemas,
  castRecordBatch,
  inferSchema,
} from '../../../../lib/formats/arrow/convert.ts';
import { ArrowFileWriter } from '../../../../lib/formats/arrow/ipc-writer.ts';
import { openArrowFile, readArrowStream } from '../../../../lib/formats/arrow/ipc-reader.ts';
import { registerArrowCodecs } from '../../../../lib/formats/arrow/codecs.ts';
import { ErrorCodes } from '../../../../lib/core/errors.ts';
import type { Row } from '../../../../lib/core/batch.ts';

const column = fc.oneof(
  fc.constant('int'),
  fc.constant('float'),
  fc.constant('bigint'),
  fc.constant('string'),
  fc.constant('bool'),
  fc.constant('date'),
  fc.constant('null'),
);
const valueOf: Record<string, fc.Arbitrary<unknown>> = {
  int: fc.integer(),
  float: fc.oneof(fc.double(), fc.constant(NaN), fc.constant(-0), fc.constant(Infinity)),
  bigint: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  string: fc.oneof(fc.string({ unit: 'grapheme' }), fc.constant('')),
  bool: fc.boolean(),
  date: fc.date({ noInvalidDate: true }),
  null: fc.constant(null),
};
const batches = fc
  .array(column, { minLength: 1, maxLength: 6 })
  .chain((kinds) =>
    fc
      .array(
        fc.array(fc.tuple(...kinds.map((k) => fc.option(valueOf[k]!, { freq: 5 }))), { minLength: 0, maxLength: 40 }),
        { minLength: 1, maxLength: 4 },
      )
      .map((groups) =>
        groups.map((rows) => rows.map((values) => Object.fromEntries(values.map((v, i) => [`c${i}`, v])))),
      ),
  );

let dir: string;
test.before(async () => {
  registerArrowCodecs();
  dir = await mkdtemp(path.join(os.tmpdir(), 'spillway-arrow-'));
});
test.after(async () => rm(dir, { recursive: true, force: true }));

for (const compression of [null, 'lz4', 'zstd'] as const) {
  for (const format of ['file', 'stream'] as const) {
    test(`property: rows -> Arrow -> IPC ${format} (${compression ?? 'none'}) -> rows`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(batches, async (groups) => {
          const target = path.join(dir, `p-${compression}-${format}-${n++}.arrow`);
          // one schema for all groups of a file, as a sink would keep it
          let schema = inferSchema(groups[0]!);
          for (const g of groups.slice(1)) schema = unifySchemas(schema, inferSchema(g));
          const writer = await ArrowFileWriter.open(target, { schema, compression, format });
          for (const rows of groups) await writer.write(rowsToRecordBatch(rows, { schema }));
          const { bytes } = await writer.commit();
          assert.equal((await stat(target)).size, bytes);
          const back: Row[] = [];
          const handle = await openArrowFile(target);
          try {
            assert.equal(handle.numRows, groups.flat().length);
            for await (const batch of handle.batches()) back.push(...recordBatchToRows(batch, { int64: 'bigint' }));
          } finally {
            await handle.close();
          }
          assert.deepEqual(back, groups.flat());
          await rm(target);
        }),
        { numRuns: 40 },
      );
    });
  }
}

test('int column widens to float across batches; new columns are added', async () => {
  const a = rowsToRecordBatch([{ x: 1 }, { x: 2 }]);
  const b = rowsToRecordBatch([{ x: 1.5, y: 'new' }]);
  const schema = unifySchemas(a.schema, b.schema);
  assert.deepEqual(
    schema.fields.map((f) => `${f.name}:${String(f.type)}`),
    ['x:Float64', 'y:Utf8'],
  );
  assert.deepEqual(recordBatchToRows(castRecordBatch(a, schema)), [
    { x: 1, y: null },
    { x: 2, y: null },
  ]);
  assert.throws(() => unifySchemas(a.schema, rowsToRecordBatch([{ x: 'text' }]).schema), {
    code: ErrorCodes.UNSUPPORTED,
  });
});

test('int64 modes: auto gives bigint only when unsafe; number refuses unsafe', () => {
  const batch = rowsToRecordBatch([{ v: 5n }, { v: 2n ** 60n }]);
  assert.deepEqual(recordBatchToRows(batch, { int64: 'auto' }), [{ v: 5 }, { v: 2n ** 60n }]);
  // with no mode given, a column built from bigints alone reads back as bigints (int64-mark.test.ts)
  assert.deepEqual(recordBatchToRows(batch), [{ v: 5n }, { v: 2n ** 60n }]);
  assert.throws(() => recordBatchToRows(batch, { int64: 'number' }), { code: ErrorCodes.UNSUPPORTED });
});

test('nested values round-trip as JSON; mixed types are refused naming the column', () => {
  const rows = [{ o: { a: [1, 'x'] } }, { o: [true, null] }];
  assert.deepEqual(recordBatchToRows(rowsToRecordBatch(rows)), rows);
  assert.throws(
    () => rowsToRecordBatch([{ m: 1 }, { m: 'one' }]),
    (e: Error & { code?: string }) => e.code === ErrorCodes.UNSUPPORTED && /"m"/.test(e.message),
  );
});

test('array rows come back as arrays', () => {
  const rows = [
    [1, 'a', null],
    [2, 'b', true],
  ];
  assert.deepEqual(recordBatchToRows(rowsToRecordBatch(rows)), rows);
});

test('writer refuses a batch with another schema instead of dropping it, and keeps writing', async () => {
  const target = path.join(dir, 'drift.arrow');
  const first = rowsToRecordBatch([{ a: 1 }]);
  const writer = await ArrowFileWriter.open(target, { schema: first.schema, compression: 'lz4' });
  await writer.write(first);
  const other = rowsToRecordBatch([{ a: 'x' }]);
  assert.equal(writer.schemaMatches(other), false);
  await assert.rejects(writer.write(other), { code: ErrorCodes.SCHEMA_MISMATCH });
  await writer.write(rowsToRecordBatch([{ a: 2 }]));
  await writer.commit();
  const handle = await openArrowFile(target);
  const rows: Row[] = [];
  for await (const b of handle.batches()) rows.push(...recordBatchToRows(b));
  await handle.close();
  assert.deepEqual(rows, [{ a: 1 }, { a: 2 }]);
});

test('abort removes the temporary file and nothing appears under the final name', async () => {
  const sub = await mkdtemp(path.join(dir, 'abort-'));
  const batch = rowsToRecordBatch([{ a: 1 }]);
  const writer = await ArrowFileWriter.open(path.join(sub, 'x.arrow'), { schema: batch.schema });
  await writer.write(batch);
  assert.equal((await readdir(sub)).length, 1);
  await writer.abort();
  assert.deepEqual(await readdir(sub), []);
});

test('readBatch reads any batch by index; stream format reads via readArrowStream', async () => {
  const target = path.join(dir, 'idx.arrows');
  const schema = rowsToRecordBatch([{ i: 0 }]).schema;
  for (const format of ['file', 'stream'] as const) {
    const writer = await ArrowFileWriter.open(target, { schema, format, compression: 'zstd' });
    for (let i = 0; i < 5; i++) await writer.write(rowsToRecordBatch([{ i }, { i: i + 100 }], { schema }));
    await writer.commit();
    const handle = await openArrowFile(target);
    assert.equal(handle.format, format);
    assert.equal(handle.numBatches, 5);
    assert.deepEqual(recordBatchToRows(await handle.readBatch(3)), [{ i: 3 }, { i: 103 }]);
    await assert.rejects(handle.readBatch(5), RangeError);
    await handle.close();
    const streamed: Row[] = [];
    for await (const b of readArrowStream(createReadStream(target))) streamed.push(...recordBatchToRows(b));
    assert.equal(streamed.length, 10);
  }
});

test('a truncated file fails with FormatError naming it', async () => {
  const { writeFile, readFile } = await import('node:fs/promises');
  const target = path.join(dir, 'trunc.arrow');
  const batch = rowsToRecordBatch([{ a: 'hello' }]);
  const writer = await ArrowFileWriter.open(target, { schema: batch.schema });
  await writer.write(batch);
  await writer.commit();
  const bytes = await readFile(target);
  await writeFile(target, bytes.subarray(0, bytes.length - 20));
  await assert.rejects(
    openArrowFile(target),
    (e: Error & { code?: string }) => e.code === ErrorCodes.FORMAT && e.message.includes(target),
  );
});

test('rows to Arrow keep the sub-millisecond digits of a PreciseDate, and refuse what the unit cannot hold', async () => {
  const { Schema, Field, TimestampMicrosecond, TimestampNanosecond, TimestampMillisecond } = await import(
    'apache-arrow'
  );
  const { PreciseDate } = await import('../../../../lib/formats/values.ts');
  const at = new PreciseDate(Date.UTC(2026, 0, 2, 3, 4, 23, 765), 572_000);
  const us = new Schema([new Field('t', new TimestampMicrosecond(), true)]);
  const micros = rowsToRecordBatch([{ t: at }, { t: null }], { schema: us }).getChild('t')!.data[0]!.values;
  assert.equal(micros[0], BigInt(Date.UTC(2026, 0, 2, 3, 4, 23, 765)) * 1000n + 572n);
  const ns = new Schema([new Field('t', new TimestampNanosecond(), true)]);
  const nanos = rowsToRecordBatch([{ t: new PreciseDate(0, 123_456) }], { schema: ns }).getChild('t')!.data[0]!.values;
  assert.equal(nanos[0], 123_456n);
  // nanoseconds into microseconds, and sub-millisecond digits into milliseconds: refused, never rounded
  assert.throws(() => rowsToRecordBatch([{ t: new PreciseDate(0, 1) }], { schema: us }), {
    code: ErrorCodes.UNSUPPORTED,
  });
  const ms = new Schema([new Field('t', new TimestampMillisecond(), true)]);
  assert.throws(() => rowsToRecordBatch([{ t: at }], { schema: ms }), { code: ErrorCodes.UNSUPPORTED });
});

test('inferred schemas keep sub-millisecond digits: PreciseDate infers us or ns, and batches widen to the finer unit', async () => {
  const { PreciseDate } = await import('../../../../lib/formats/values.ts');
  const plain = new Date(Date.UTC(2026, 0, 1));
  const micro = new PreciseDate(Date.UTC(2026, 0, 1), 572_000);
  const nano = new PreciseDate(Date.UTC(2026, 0, 1), 572_001);
  // a Date is an instant: zone UTC (a Timestamp without a zone is a wall-clock time)
  assert.equal(String(inferSchema([{ t: plain }]).fields[0]!.type), 'Timestamp<MILLISECOND, UTC>');
  assert.equal(String(inferSchema([{ t: plain }, { t: micro }]).fields[0]!.type), 'Timestamp<MICROSECOND, UTC>');
  assert.equal(String(inferSchema([{ t: micro }, { t: nano }]).fields[0]!.type), 'Timestamp<NANOSECOND, UTC>');
  const back = recordBatchToRows(rowsToRecordBatch([{ t: plain }, { t: nano }]), { timestamps: 'date' }) as {
    t: Date;
  }[];
  assert.equal((back[1]!.t as InstanceType<typeof PreciseDate>).nanos, 572_001);
  assert.equal((back[0]!.t as Date).getTime(), plain.getTime());
  const wide = unifySchemas(inferSchema([{ t: plain }]), inferSchema([{ t: micro }]));
  assert.equal(String(wide.fields[0]!.type), 'Timestamp<MICROSECOND, UTC>');
  const cast = castRecordBatch(rowsToRecordBatch([{ t: plain }]), wide);
  assert.equal(cast.getChild('t')!.data[0]!.values[0], BigInt(plain.getTime()) * 1000n);
});
