/**
 * Regressions of issue 19 (declared sizes trusted before allocating), Arrow side: one bit flipped
 * in a vector length of the schema made apache-arrow loop over millions of phantom fields (a hang
 * with memory past 650 MB). The flatbuffers are now verified before apache-arrow reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SpillwayError, fromArrow, fromIterable, mapBatch, pipeline, toArrow } from '../../../../index.ts';
import { tempDir } from '../../../helpers.ts';

const dir = tempDir();
const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, name: `n${i}`, tags: i % 2 === 0 }));

/** Absolute position of field `i` of the flatbuffer table at `table`, or 0. */
function fieldAt(view: DataView, table: number, i: number): number {
  const vtable = table - view.getInt32(table, true);
  if (4 + 2 * i >= view.getUint16(vtable, true)) return 0;
  const offset = view.getUint16(vtable + 4 + 2 * i, true);
  return offset === 0 ? 0 : table + offset;
}

const deref = (view: DataView, at: number): number => at + view.getUint32(at, true);

/** Position (in the file) of the length word of the schema's `fields` vector, given the Schema table. */
function fieldsLengthAt(view: DataView, schema: number): number {
  return deref(view, fieldAt(view, schema, 1));
}

async function read(path: string): Promise<unknown> {
  try {
    await pipeline(
      fromArrow(path),
      mapBatch(() => []),
      { governor: false },
    );
    return undefined;
  } catch (error) {
    return error;
  }
}

test("a bit flip in the schema's field count of an Arrow file fails with a FormatError instead of hanging", {
  timeout: 120_000,
}, async () => {
  const original = join(dir, 'src.arrow');
  await pipeline(fromIterable(rows), toArrow(original, { format: 'file', compression: 'lz4' }), { governor: false });
  const bytes = new Uint8Array(readFileSync(original));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerLength = view.getInt32(bytes.length - 10, true);
  const footerStart = bytes.length - 10 - footerLength;
  const footer = new DataView(bytes.buffer, bytes.byteOffset + footerStart, footerLength);
  const schema = deref(footer, fieldAt(footer, deref(footer, 0), 1));
  const at = fieldsLengthAt(footer, schema);
  assert.equal(footer.getUint32(at, true), 3);
  footer.setUint32(at, 3 | (1 << 26), true); // one bit: 67 million fields
  const path = join(dir, 'flipped.arrow');
  writeFileSync(path, bytes);
  const error = await read(path);
  assert.ok(error instanceof SpillwayError, `a SpillwayError, got ${String(error)}`);
  assert.equal(error.code, ErrorCodes.FORMAT);
  assert.equal(error.context.file, path);
});

test("a bit flip in the schema's field count of an Arrow stream fails with a FormatError instead of hanging", {
  timeout: 120_000,
}, async () => {
  const original = join(dir, 'src.arrows');
  await pipeline(fromIterable(rows), toArrow(original, { format: 'stream' }), { governor: false });
  const bytes = new Uint8Array(readFileSync(original));
  const metadataLength = new DataView(bytes.buffer, bytes.byteOffset).getInt32(4, true);
  const message = new DataView(bytes.buffer, bytes.byteOffset + 8, metadataLength);
  const schema = deref(message, fieldAt(message, deref(message, 0), 2));
  const at = fieldsLengthAt(message, schema);
  assert.equal(message.getUint32(at, true), 3);
  message.setUint32(at, 3 | (1 << 26), true);
  const path = join(dir, 'flipped.arrows');
  writeFileSync(path, bytes);
  const error = await read(path);
  assert.ok(error instanceof SpillwayError, `a SpillwayError, got ${String(error)}`);
  assert.equal(error.code, ErrorCodes.FORMAT);
  assert.equal(error.context.file, path);
});

test('a record batch buffer pointing past its body is refused before apache-arrow reads it', async () => {
  const original = join(dir, 'src2.arrows');
  await pipeline(fromIterable(rows), toArrow(original, { format: 'stream' }), { governor: false });
  const bytes = new Uint8Array(readFileSync(original));
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  // skip the schema message; the next message is the record batch
  const first = 8 + view.getInt32(4, true);
  const metadataLength = view.getInt32(first + 4, true);
  const message = new DataView(bytes.buffer, bytes.byteOffset + first + 8, metadataLength);
  const root = deref(message, 0);
  assert.equal(message.getUint8(fieldAt(message, root, 1)), 3, 'a RecordBatch message');
  const batch = deref(message, fieldAt(message, root, 2));
  const buffers = deref(message, fieldAt(message, batch, 2));
  assert.ok(message.getUint32(buffers, true) > 0);
  message.setBigInt64(buffers + 4 + 8, 1n << 40n, true); // the first buffer's length
  const path = join(dir, 'buffer.arrows');
  writeFileSync(path, bytes);
  const error = await read(path);
  assert.ok(error instanceof SpillwayError, `a SpillwayError, got ${String(error)}`);
  assert.equal(error.code, ErrorCodes.FORMAT);
  assert.equal(error.context.file, path);
});

test('a record batch claiming more rows than its uncompressed body can hold is refused', async () => {
  const original = join(dir, 'src3.arrows');
  await pipeline(fromIterable(rows), toArrow(original, { format: 'stream' }), { governor: false });
  const bytes = new Uint8Array(readFileSync(original));
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const first = 8 + view.getInt32(4, true);
  const metadataLength = view.getInt32(first + 4, true);
  const message = new DataView(bytes.buffer, bytes.byteOffset + first + 8, metadataLength);
  const batch = deref(message, fieldAt(message, deref(message, 0), 2));
  const lengthAt = fieldAt(message, batch, 0);
  assert.equal(message.getBigInt64(lengthAt, true), 100n);
  message.setBigInt64(lengthAt, 1n << 40n, true);
  const path = join(dir, 'rows.arrows');
  writeFileSync(path, bytes);
  const error = await read(path);
  assert.ok(error instanceof SpillwayError, `a SpillwayError, got ${String(error)}`);
  assert.equal(error.code, ErrorCodes.FORMAT);
  assert.equal(error.context.file, path);
});
