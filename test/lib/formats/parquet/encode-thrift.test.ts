import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { ThriftWriter, T } from '../../../../lib/formats/parquet/encode/thrift.ts';
import { pageHeader } from '../../../../lib/formats/parquet/encode/metadata.ts';

function read(bytes: Uint8Array): Record<string, unknown> {
  return deserializeTCompactProtocol({
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    offset: 0,
  }) as Record<string, unknown>;
}

test('compact protocol: ints, i64 beyond 2^53, negative values, binaries, lists, nested structs, long field deltas', () => {
  const w = new ThriftWriter(4);
  w.begin();
  w.i32(1, -5);
  w.i64(2, 2n ** 62n + 1n);
  w.i64(3, -1);
  w.string(4, 'héllo');
  w.list(5, T.I32, 20);
  for (let i = 0; i < 20; i++) w.rawI32(i - 10);
  w.struct(6);
  w.bool(1, true);
  w.bool(2, false);
  w.end();
  w.i32(40, 7); // a delta above 15: long form
  w.end();
  const got = read(w.result());
  assert.equal(got.field_1, -5);
  assert.equal(got.field_2, 2n ** 62n + 1n);
  assert.equal(got.field_3, -1n);
  assert.equal(new TextDecoder().decode(got.field_4 as Uint8Array), 'héllo');
  assert.deepEqual(
    got.field_5,
    Array.from({ length: 20 }, (_, i) => i - 10),
  );
  assert.deepEqual(got.field_6, { field_1: true, field_2: false });
  assert.equal(got.field_40, 7);
});

test('page headers decode to the DataPage V1 and dictionary page fields', () => {
  assert.deepEqual(read(pageHeader(0, 1_000_000, 4321, 77, 2, 0xdeadbeef)), {
    field_1: 0,
    field_2: 1_000_000,
    field_3: 4321,
    field_4: 0xdeadbeef | 0,
    field_5: { field_1: 77, field_2: 2, field_3: 3, field_4: 3 },
  });
  assert.deepEqual(read(pageHeader(2, 100, 90, 5, 2, 7)), {
    field_1: 2,
    field_2: 100,
    field_3: 90,
    field_4: 7,
    field_7: { field_1: 5, field_2: 2 },
  });
});
