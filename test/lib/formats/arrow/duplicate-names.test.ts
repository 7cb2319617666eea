/**
 * An Arrow file whose columns share a name (valid Arrow: Arrow C++'s generated_duplicate_fieldnames
 * has an Int8 `ints` and an Int32 `ints`) is read with the repeats renamed, as the Parquet reader
 * and DuckDB name them (`ints`, `ints_1`), and every column keeps its type and values through
 * toArrow, sort, filter and toSpill. Before, apache-arrow's `new RecordBatch(schema, data)` merged
 * the fields by name: the batch said Int32 for both, and toArrow wrote a file its own reader
 * refused as corrupt ("column `ints` holds 0 values for 1 rows").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Field, Int8, Int32, Schema, Struct, Utf8, makeData, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { makeRecordBatchFast } from '../../../../lib/formats/arrow/record-batch.ts';
import { ArrowFileWriter } from '../../../../lib/formats/arrow/ipc-writer.ts';
import type { Batch } from '../../../../lib/entry/extend.ts';
import { filter, fromArrow, fromIterable, openSpill, pipeline, sort, toArrow, toSpill } from '../../../../index.ts';
import { CORPUS, corpusSkip, tempDir } from '../../../helpers.ts';

const N = 50;
const fields = [
  new Field('ints', new Int8(), true),
  new Field('ints', new Int32(), true),
  new Field('s', new Utf8(), true),
];
/** Rows [from, to) (built directly: apache-arrow's own slice() would merge the repeated names). */
function twin(from: number, to: number): RecordBatch {
  const ids = Array.from({ length: to - from }, (_, k) => from + k);
  return makeRecordBatchFast(
    new Schema(fields),
    makeData({
      type: new Struct(fields),
      length: ids.length,
      nullCount: 0,
      children: [
        vectorFromArray(ids, new Int8()).data[0]!,
        vectorFromArray(
          ids.map((i) => 0 - i * 3),
          new Int32(),
        ).data[0]!,
        vectorFromArray(
          ids.map((i) => (i % 7 === 0 ? null : `r${i}`)),
          new Utf8(),
        ).data[0]!,
      ],
    }),
  );
}

/** The columns of `batches` by position: `name: type` and the values. */
function columns(batches: RecordBatch[]): [string, unknown[]][] {
  return batches[0]!.schema.fields.map((f, c) => [
    `${f.name}: ${String(f.type)}`,
    batches.flatMap((b) => Array.from({ length: b.numRows }, (_, i) => b.getChildAt(c)!.get(i))),
  ]);
}

async function arrowBatches(file: string): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of fromArrow(file) as AsyncIterable<Batch>) out.push(b.arrow);
  return out;
}

const dir = tempDir();
const input = path.join(dir, 'twin.arrow');
const written = (async () => {
  const w = await ArrowFileWriter.open(input, { schema: new Schema(fields) });
  await w.write(twin(0, 20));
  await w.write(twin(20, N));
  await w.commit();
})();

const want: [string, unknown[]][] = [
  ['ints: Int8', Array.from({ length: N }, (_, i) => i)],
  ['ints_1: Int32', Array.from({ length: N }, (_, i) => 0 - i * 3)],
  ['s: Utf8', Array.from({ length: N }, (_, i) => (i % 7 === 0 ? null : `r${i}`))],
];

test('repeated names are read renamed, each column with its own type and values, and written back so', async () => {
  await written;
  assert.deepEqual(columns(await arrowBatches(input)), want);
  const copy = path.join(dir, 'copy.arrow');
  await pipeline(fromArrow(input), toArrow(copy));
  assert.deepEqual(columns(await arrowBatches(copy)), want);
});

test('sort, filter and toSpill keep every column', async () => {
  await written;
  const sorted = path.join(dir, 'sorted.arrow');
  await pipeline(fromArrow(input), sort([{ column: 'ints_1', order: 'desc' }], { budget: '1kB' }), toArrow(sorted));
  assert.deepEqual(columns(await arrowBatches(sorted)), want);
  const kept = path.join(dir, 'kept.arrow');
  await pipeline(
    fromArrow(input),
    filter((row: { s: string | null }) => row.s !== null),
    toArrow(kept),
  );
  assert.deepEqual(
    columns(await arrowBatches(kept)),
    want.map(([name, values]) => [name, values.filter((_, i) => i % 7 !== 0)]),
  );
  const spill = path.join(dir, 'spill');
  await pipeline(fromArrow(input), toSpill({ dir: spill, budget: '1kB', keep: true }));
  const replay: RecordBatch[] = [];
  for await (const b of (await openSpill(spill)).batches()) replay.push(b);
  assert.deepEqual(columns(replay), want);
});

test('the corpus file with repeated names reads as its integration JSON says, and converts', {
  skip: corpusSkip,
}, async () => {
  const src = path.join(CORPUS!, 'arrow', 'cpp-21.0.0', 'generated_duplicate_fieldnames.arrow_file');
  const out = path.join(tempDir(), 'dup.arrow');
  const { stats } = await pipeline(fromArrow(src), toArrow(out));
  assert.equal(stats.stages[0]!.details.renamedColumns, 'ints -> ints_1');
  for (const file of [src, out]) {
    const [ints, ints1] = columns(await arrowBatches(file));
    // an Int8 `ints` (93), then an Int32 `ints` (null)
    assert.deepEqual(
      [ints, ints1],
      [
        ['ints: Int8', [93]],
        ['ints_1: Int32', [null]],
      ],
      file,
    );
  }
});

test('empty field names come back empty through toArrow, fromArrow and toSpill (apache-arrow read them as null)', async () => {
  const child = [new Field('', new Int32(), true), new Field('x', new Utf8(), true)];
  const outer = [new Field('s', new Struct(child), true)];
  const batch = makeRecordBatchFast(
    new Schema(outer),
    makeData({
      type: new Struct(outer),
      length: 2,
      nullCount: 0,
      children: [
        makeData({
          type: new Struct(child),
          length: 2,
          nullCount: 0,
          children: [vectorFromArray([1, 2], new Int32()).data[0]!, vectorFromArray(['a', 'b'], new Utf8()).data[0]!],
        }),
      ],
    }),
  );
  const file = path.join(dir, 'empty-names.arrow');
  const w = await ArrowFileWriter.open(file, { schema: batch.schema });
  await w.write(batch);
  await w.commit();
  const read = await arrowBatches(file);
  assert.equal(String(read[0]!.schema.fields[0]!.type), 'Struct<{:Int32, x:Utf8}>');
  assert.deepEqual(read[0]!.getChildAt(0)!.get(1)!.toJSON(), { '': 2, x: 'b' });
  // from rows: a top-level "" key and a nested one, through a spill file and back
  const rows = [{ '': 1, o: { '': [2] } }];
  const { output } = await pipeline(fromIterable(rows), toSpill({ budget: 0 }));
  try {
    const back: unknown[] = [];
    for await (const row of output.rows()) back.push(row);
    assert.deepEqual(back, rows);
    for await (const b of output.batches()) assert.equal(b.schema.fields[0]!.name, '');
  } finally {
    await output.dispose();
  }
  const spilled = path.join(dir, 'empty-names-spill');
  await pipeline(fromArrow(file), toSpill({ dir: spilled, budget: 0, keep: true }));
  for await (const b of (await openSpill(spilled)).batches())
    assert.equal(String(b.schema.fields[0]!.type), 'Struct<{:Int32, x:Utf8}>');
});
