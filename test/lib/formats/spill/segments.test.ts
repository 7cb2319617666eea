/**
 * SpillWriter (lib/formats/spill/writer.ts) writes a batch whose schema differs from its file's in
 * the file's schema when the two unify and the batch converts to it, and otherwise in a segment of
 * its own. A batch the unified schema holds but cannot be converted to (a column type that rows
 * cannot rebuild, Int8 then, a half float now) failed the spill until 2026-12-06; it now starts a segment, and
 * every batch reads back as it was written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Float16, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray, type Data } from 'apache-arrow';
import { SpillWriter } from '../../../../lib/formats/spill/writer.ts';
import { SpillFiles } from '../../../../lib/formats/spill/reader.ts';
import { tempDir } from '../../../helpers.ts';

function batchOf(columns: Record<string, { type: Float16 | Utf8; values: unknown[] }>): RecordBatch {
  const fields = Object.entries(columns).map(([name, c]) => new Field(name, c.type, true));
  const children = Object.values(columns).map((c) => vectorFromArray(c.values, c.type).data[0]! as Data);
  const length = children[0]!.length;
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

test('SpillWriter gives a batch its own segment when the widened schema cannot hold it, and reads every batch back', async () => {
  const dir = join(tempDir(), 'spill');
  mkdirSync(dir);
  const writer = new SpillWriter(dir, { compression: 'none', fileSize: 1 << 20, durable: false });
  const first = batchOf({
    a: { type: new Float16(), values: [1, -2, null] },
    s: { type: new Utf8(), values: ['x', 'y', 'z'] },
  });
  // no column a: the widened schema has it, as a Float16 column rows cannot build
  const second = batchOf({ s: { type: new Utf8(), values: ['p', null] } });
  await writer.write(first, 'a');
  await writer.write(second, 'a');
  await writer.write(first, 'a');
  const manifest = await writer.finish(0);
  assert.equal(manifest.segments.length, 3, 'a segment per change of schema');
  const files = new SpillFiles(dir, manifest);
  try {
    const back = [];
    for (let i = 0; i < files.numBatches; i++) back.push(await files.read(i));
    assert.deepEqual(
      back.map((b) => b.toArray().map((r) => r.toJSON())),
      [first, second, first].map((b) => b.toArray().map((r) => r.toJSON())),
    );
  } finally {
    await files.close();
  }
});
