/**
 * Arrow columns the Parquet writer takes in their plain form (lib/formats/parquet/write/plain-arrow.ts):
 * string and binary views, as Polars writes them to Arrow IPC, and fixed-size binary (UUIDs), as
 * VARCHAR and BLOB, read back by DuckDB with the same values. Before, toParquet refused them
 * ("has Arrow type Utf8View, which the Parquet writer cannot write").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  BinaryView,
  Dictionary,
  FixedSizeBinary,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  RecordBatch,
  Utf8,
  Utf8View,
  makeData,
  makeVector,
  vectorFromArray,
  type Data,
} from 'apache-arrow';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { Batch } from '../../../../lib/core/batch.ts';
import { BatchSource } from '../../../../lib/core/source.ts';
import { toParquet } from '../../../../sinks/toParquet.ts';
import { duckRows, sqlString } from './duckdb.ts';
import { tempDir } from '../../../helpers.ts';

test('string views, binary views, fixed-size binary and dictionaries of numbers are written as VARCHAR, BLOB and the types of their values, sliced batches too', async () => {
  const texts = ['short', null, 'a string longer than the twelve inline bytes', '', 'é😀'];
  const bins = [new Uint8Array([1, 2]), new Uint8Array(0), null, new Uint8Array(20).fill(7), new Uint8Array([255])];
  const uuids = [
    new Uint8Array(16).fill(1),
    null,
    new Uint8Array(16).fill(2),
    new Uint8Array(16).fill(3),
    new Uint8Array(16),
  ];
  const whole = new RecordBatch({
    id: vectorFromArray([0, 1, 2, 3, 4], new Int32()).data[0]!,
    text: vectorFromArray(texts, new Utf8View()).data[0]!,
    bin: vectorFromArray(bins, new BinaryView()).data[0]!,
    uuid: vectorFromArray(uuids, new FixedSizeBinary(16)).data[0]!,
    big: vectorFromArray([5n, 5n, null, 2n ** 60n, 5n], new Dictionary(new Int64(), new Int16())).data[0]!,
    score: vectorFromArray([1.5, null, 1.5, -0.25, 1.5], new Dictionary(new Float64(), new Int8())).data[0]!,
  });
  const file = path.join(tempDir(), 'views.parquet');
  // two batches, the second a slice starting past the first row (offsets into its buffers)
  const batches = [whole.slice(0, 1), whole.slice(1)].map((b, index) =>
    Batch.fromArrow(b, { source: 'test', index, rowStart: index }),
  );
  const source = new BatchSource({
    name: 'views',
    async *open() {
      yield* batches;
    },
  });
  await pipeline(source, toParquet(file), { governor: false });
  const types = (await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).rows.map(
    (r) => `${String(r.column_name)}:${String(r.column_type)}`,
  );
  assert.deepEqual(types, ['id:INTEGER', 'text:VARCHAR', 'bin:BLOB', 'uuid:BLOB', 'big:BIGINT', 'score:DOUBLE']);
  const { rows } = await duckRows(
    `SELECT id, text, hex(bin) AS bin, hex(uuid) AS uuid, big::VARCHAR AS big, score FROM read_parquet(${sqlString(file)}) ORDER BY id`,
  );
  const hex = (b: Uint8Array | null): string | null =>
    b === null ? null : Buffer.from(b).toString('hex').toUpperCase();
  assert.deepEqual(
    rows,
    texts.map((text, id) => ({
      id,
      text,
      bin: hex(bins[id]!),
      uuid: hex(uuids[id]!),
      big: [String(5), String(5), null, String(2n ** 60n), String(5)][id],
      score: [1.5, null, 1.5, -0.25, 1.5][id],
    })),
  );
});

test('a dictionary whose dictionary holds nulls writes those rows as null, strings and numbers alike (they were "" and 0)', async () => {
  const dir = tempDir();
  // indices 0..2 into a dictionary with a null entry at 1; row 4's index itself is null
  const indices = Int32Array.from([0, 1, 2, 1, 0]);
  const validity = Uint8Array.from([0b01111]);
  const column = (values: Data) =>
    makeData({
      type: new Dictionary(values.type, new Int32()),
      length: 5,
      nullCount: 1,
      data: indices,
      nullBitmap: validity,
      dictionary: makeVector(values),
    });
  const batch = new RecordBatch({
    s: column(vectorFromArray(['x', null, 'y'], new Utf8()).data[0]!),
    n: column(vectorFromArray([7.5, null, -1], new Float64()).data[0]!),
  });
  const file = path.join(dir, 'dict-nulls.parquet');
  const source = new BatchSource({
    name: 'dict',
    async *open() {
      yield Batch.fromArrow(batch, { source: 'test', index: 0, rowStart: 0 });
    },
  });
  await pipeline(source, toParquet(file), { governor: false });
  const rows = await duckRows(`SELECT s, n FROM read_parquet(${sqlString(file)})`);
  assert.deepEqual(rows.rows, [
    { s: 'x', n: 7.5 },
    { s: null, n: null },
    { s: 'y', n: -1 },
    { s: null, n: null },
    { s: null, n: null },
  ]);
});
