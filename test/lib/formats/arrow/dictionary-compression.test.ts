/**
 * A compressed toArrow file with a dictionary column: apache-arrow 21 compresses dictionary
 * batches itself and writes the compressed length where the format wants the uncompressed one,
 * so pyarrow refused such files ("Lz4 decompression buffer too small"); spillway's own reader
 * tolerated them. Dictionary batches are now stored uncompressed (length prefix -1, which the
 * format allows buffer by buffer), checked here message by message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Dictionary,
  Int32,
  MessageHeader,
  MessageReader,
  Table,
  Utf8,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { pipeline, fromArrow, toArrow, collect } from '../../../../index.ts';
import { tempDir } from '../../../helpers.ts';

test('compressed toArrow writes dictionary batches whose buffers readers can size (lz4, zstd; file and stream)', async () => {
  const dir = tempDir();
  const n = 5000;
  const values = Array.from({ length: n }, (_, i) => `value-${i % 3000}-${'x'.repeat(i % 7)}`);
  const table = new Table({
    d: vectorFromArray(values, new Dictionary(new Utf8(), new Int32())),
    i: vectorFromArray(
      Array.from({ length: n }, (_, i) => i),
      new Int32(),
    ),
  });
  const input = join(dir, 'in.arrow');
  writeFileSync(input, tableToIPC(table, 'file'));
  for (const compression of ['lz4', 'zstd'] as const) {
    // the stream format: its messages in order, the dictionary batch first
    const out = join(dir, `out-${compression}.arrows`);
    await pipeline(fromArrow(input), toArrow(out, { compression }));
    const bytes = readFileSync(out);
    const reader = new MessageReader(bytes);
    let dictionaries = 0;
    for (let message = reader.next(); !message.done; message = reader.next()) {
      const m = message.value;
      const data = reader.readMessageBody(m.bodyLength);
      if (m.headerType !== MessageHeader.DictionaryBatch) continue;
      dictionaries++;
      const regions = (m.header() as { data: { buffers: { offset: number; length: number }[] } }).data.buffers;
      for (const region of regions) {
        if (region.length === 0) continue;
        const prefix = new DataView(data.buffer, data.byteOffset + region.offset, 8).getBigInt64(0, true);
        assert.equal(prefix, -1n, `${compression}: a dictionary buffer is stored with a -1 prefix`);
      }
    }
    assert.ok(dictionaries >= 1, compression);
    // and both readers give the values back
    const back = tableFromIPC(bytes);
    assert.equal(String(back.getChild('d')!.get(4999)), values[4999]);
    const { output } = await pipeline(fromArrow(out), collect());
    assert.deepEqual(
      (output as { d: string }[]).map((r) => r.d),
      values,
    );
  }
});
