/**
 * fromArrow refuses a batch whose offsets go backwards or whose dictionary indices point past
 * the dictionary, naming the file and the column. Arrow carries no checksum, so these are the
 * lies a reader can still catch; read as they were, a corrupt offset wrote a Parquet file no
 * reader could open (a page size past int32), or failed in a sink with Node's bare RangeError,
 * and a bad index failed in the sink, naming it, not the file (helper-74, 2026-12-07).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Dictionary,
  Field,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  makeVector,
  tableToIPC,
} from 'apache-arrow';
import { ErrorCodes, collect, fromArrow, pipeline, type SpillwayError } from '../../../../index.ts';
import { tempDir } from '../../../helpers.ts';

const dir = tempDir();
const bytes = new TextEncoder().encode('aabbbcddd');

/** An Arrow file holding one batch of `column` (3 rows) as column `c`. */
function fileOf(name: string, type: Utf8 | Dictionary, column: ReturnType<typeof makeData>): string {
  const schema = new Schema([new Field('c', type, true)]);
  const struct = makeData({ type: new Struct(schema.fields), length: 3, nullCount: 0, children: [column] });
  const path = join(dir, name);
  writeFileSync(path, tableToIPC(new Table([new RecordBatch(schema, struct)]), 'file'));
  return path;
}

async function refusal(path: string): Promise<SpillwayError> {
  try {
    await pipeline(fromArrow(path), collect());
  } catch (error) {
    return error as SpillwayError;
  }
  assert.fail(`${path} was read`);
}

test('offsets that go backwards are a FormatError naming the file and the column', async () => {
  const good = fileOf(
    'good.arrow',
    new Utf8(),
    makeData({ type: new Utf8(), length: 3, valueOffsets: new Int32Array([0, 2, 5, 9]), data: bytes }),
  );
  assert.deepEqual((await pipeline(fromArrow(good), collect())).output, [{ c: 'aa' }, { c: 'bbb' }, { c: 'cddd' }]);
  const backwards = makeData({ type: new Utf8(), length: 3, valueOffsets: new Int32Array([0, 7, 2, 9]), data: bytes });
  const path = fileOf('backwards.arrow', new Utf8(), backwards);
  const error = await refusal(path);
  assert.equal(error.code, ErrorCodes.FORMAT);
  assert.equal(error.context.file, path);
  assert.match(error.message, /column `c` has offsets that go backwards at row 1 \(7, then 2\)/);
});

test('a dictionary index past the dictionary is a FormatError; a null row may hold any index', async () => {
  const type = new Dictionary(new Utf8(), new Int32());
  const dictionary = makeData({ type: new Utf8(), length: 2, valueOffsets: new Int32Array([0, 2, 5]), data: bytes });
  const indices = (values: number[], nullBitmap?: Uint8Array) =>
    makeData({
      type,
      length: 3,
      nullCount: nullBitmap ? 1 : 0,
      nullBitmap,
      data: new Int32Array(values),
      dictionary: makeVector(dictionary),
    });
  // row 1 null (bit 1 clear) with a garbage index under it: read, as null
  const nulls = fileOf('null-index.arrow', type, indices([1, 99, 0], Uint8Array.of(0b101)));
  assert.deepEqual((await pipeline(fromArrow(nulls), collect())).output, [{ c: 'bbb' }, { c: null }, { c: 'aa' }]);
  const path = fileOf('bad-index.arrow', type, indices([1, 7, 0]));
  const error = await refusal(path);
  assert.equal(error.code, ErrorCodes.FORMAT);
  assert.equal(error.context.file, path);
  assert.match(error.message, /column `c` has dictionary index 7 at row 1, its dictionary 2 values/);
});
