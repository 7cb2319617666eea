/**
 * The level and dictionary-index decoder of nested pages (read/levels.ts): it decodes what
 * spillway's encoder writes and what hyparquet decodes, at every width, and refuses corrupt runs
 * (a value above its maximum, runs cut short) with an error instead of a wrong value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { Bytes } from '../../../../../lib/formats/parquet/encode/bytes.ts';
import { encodeHybrid } from '../../../../../lib/formats/parquet/encode/rle.ts';
import { bitWidthOf, decodeHybrid, levelArray } from '../../../../../lib/formats/parquet/read/levels.ts';

function decode(bytes: Uint8Array, width: number, count: number, max = 2 ** width - 1): number[] {
  const out = levelArray(count, max);
  decodeHybrid(bytes, 0, bytes.length, width, out, max, 'level');
  return Array.from(out);
}

test('levelArray is as narrow as the maximum allows; bitWidthOf', () => {
  assert.ok(levelArray(3, 255) instanceof Uint8Array);
  assert.ok(levelArray(3, 256) instanceof Uint16Array);
  assert.ok(levelArray(3, 65_536) instanceof Int32Array);
  assert.deepEqual([0, 1, 2, 3, 255, 256].map(bitWidthOf), [0, 1, 2, 2, 8, 9]);
});

test('decodes runs, bit-packed groups and mixes at every width 1..24, as hyparquet does', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 24 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 30 }),
      fc.boolean(),
      (width, runs, repeats) => {
        const max = 2 ** width - 1;
        const values: number[] = [];
        for (const [v, n] of runs) for (let k = 0; k < n; k++) values.push(v % (max + 1));
        const out = new Bytes(4);
        encodeHybrid(out, values, 0, values.length, width, repeats && width <= 8);
        const bytes = out.result();
        assert.deepEqual(decode(bytes, width, values.length), values);
        const theirs = new Array<number>(values.length);
        readRleBitPackedHybrid(
          { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 },
          width,
          theirs,
          bytes.length,
        );
        assert.deepEqual(decode(bytes, width, values.length), theirs);
      },
    ),
    { numRuns: 300 },
  );
});

test('wide bit-packed values (25 to 31 bits) and multi-byte RLE values', () => {
  for (const width of [25, 28, 31]) {
    const values = [0, 1, 2 ** width - 1, 12_345_678, 2 ** (width - 1), 7, 2 ** width - 2, 99];
    // one bit-packed group: header 3, then 8 values of `width` bits, least significant bit first
    const bytes = new Uint8Array(1 + width);
    bytes[0] = 3;
    let bit = 0;
    for (const v of values)
      for (let k = 0; k < width; k++, bit++) if (Math.floor(v / 2 ** k) % 2) bytes[1 + (bit >> 3)]! |= 1 << (bit & 7);
    assert.deepEqual(decode(bytes, width, 8), values, `width ${width}`);
  }
  // an RLE run of 5 copies of 0x0201 (2 bytes for 10 bits)
  assert.deepEqual(decode(Uint8Array.of(10, 0x01, 0x02), 10, 5), [513, 513, 513, 513, 513]);
  // width 0: nothing stored, every value 0
  assert.deepEqual(decode(new Uint8Array(0), 0, 3, 0), [0, 0, 0]);
});

test('a value above its maximum is refused, in a run and in a bit-packed group', () => {
  // RLE run of 4 copies of 3, where the maximum level is 2
  assert.throws(() => decode(Uint8Array.of(8, 3), 2, 4, 2), /level 3 is above its maximum 2/);
  // bit-packed group of 8 two-bit values with a 3 among them
  assert.throws(() => decode(Uint8Array.of(3, 0b11_00_01_00, 0), 2, 8, 2), /level 3 is above its maximum 2/);
});

test('runs that end before every value is read are refused', () => {
  assert.throws(() => decode(new Uint8Array(0), 1, 4), /levels end after 0 of 4 values/);
  // an RLE run of 2, then nothing for the last 2 values
  assert.throws(() => decode(Uint8Array.of(4, 1), 1, 4), /levels end after 2 of 4 values/);
  // a bit-packed group of 8 four-bit values with only 2 of its 4 bytes
  assert.throws(() => decode(Uint8Array.of(3, 0x21, 0x43), 4, 8), /end inside a bit-packed run/);
  // an RLE run whose value bytes are missing
  assert.throws(() => decode(Uint8Array.of(8), 10, 4), /end inside a run/);
  // a run header that never ends
  assert.throws(() => decode(Uint8Array.of(0x81, 0x80, 0x80, 0x80, 0x80, 0x80), 1, 4), /corrupt run header/);
});
