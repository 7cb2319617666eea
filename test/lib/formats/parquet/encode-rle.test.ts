import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { Bytes } from '../../../../lib/formats/parquet/encode/bytes.ts';
import { bitWidth, encodeDefinitionLevels, encodeHybrid } from '../../../../lib/formats/parquet/encode/rle.ts';

/** Decodes with hyparquet's reader (an independent implementation). */
function decode(bytes: Uint8Array, width: number, count: number, prefixed: boolean): number[] {
  const output = new Array<number>(count).fill(-1);
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  readRleBitPackedHybrid(reader, width, output, prefixed ? undefined : bytes.length);
  return output;
}

test('bitWidth', () => {
  assert.deepEqual([0, 1, 2, 3, 255, 256, 65535].map(bitWidth), [0, 1, 2, 2, 8, 9, 16]);
});

test('hybrid encoding round-trips through hyparquet for runs, mixes and every width', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })), { maxLength: 30 }),
      fc.boolean(),
      (width, runs, repeats) => {
        const max = 2 ** width - 1;
        const values: number[] = [];
        for (const [v, n] of runs) for (let k = 0; k < n; k++) values.push(v % (max + 1));
        const out = new Bytes(4);
        encodeHybrid(out, values, 0, values.length, width, repeats && width <= 8);
        assert.deepEqual(decode(out.result(), width, values.length, false), values);
      },
    ),
    { numRuns: 300 },
  );
});

test('a long run becomes one RLE run; wide values are bit-packed only when repeats are off', () => {
  const out = new Bytes();
  encodeHybrid(out, new Array(1000).fill(3), 0, 1000, 2);
  assert.deepEqual([...out.result()], [0xd0, 0x0f, 3]); // varint(1000 << 1), value
  const wide = new Bytes();
  encodeHybrid(wide, new Array(16).fill(300), 0, 16, 9, false);
  assert.equal(wide.result()[0], (2 << 1) | 1); // two bit-packed groups
  assert.deepEqual(decode(wide.result(), 9, 16, false), new Array(16).fill(300));
});

test('definition levels carry the 4-byte length prefix, with and without nulls', () => {
  const defs = Uint8Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? 0 : 1));
  const out = new Bytes();
  encodeDefinitionLevels(out, defs, 10, 1000, defs.subarray(10).filter((d) => d === 0).length);
  assert.deepEqual(decode(out.result(), 1, 990, true), [...defs.subarray(10)]);
  const all = new Bytes();
  encodeDefinitionLevels(all, new Uint8Array(5).fill(1), 0, 5, 0);
  assert.deepEqual([...all.result()], [2, 0, 0, 0, 10, 1]);
});
