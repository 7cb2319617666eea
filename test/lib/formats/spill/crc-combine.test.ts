/** The one-pass CRC of a spill file and its batch ranges equals hashing each separately. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { crc32 } from '../../../../lib/formats/checksum.ts';
import { RangeCrc, crc32Combine, rangesInOrder } from '../../../../lib/formats/spill/crc-combine.ts';

test('crc32Combine(crc(A), crc(B), |B|) is crc(A + B), for empty, short and long parts', () => {
  for (const [a, b] of [
    [0, 0],
    [0, 5],
    [5, 0],
    [1, 1],
    [7, 1000],
    [100_000, 3],
    [3, 1_000_003],
  ] as const) {
    const A = randomBytes(a);
    const B = randomBytes(b);
    assert.equal(crc32Combine(crc32(A), crc32(B), b), crc32(Buffer.concat([A, B])), `${a} + ${b}`);
  }
});

test('RangeCrc over chunks of any size gives the file CRC and each range CRC', () => {
  const file = randomBytes(50_000);
  const ranges: [number, number][] = [
    [100, 0],
    [100, 9000],
    [9100, 1],
    [20_000, 29_000],
    [49_999, 0],
  ];
  assert.ok(rangesInOrder(ranges));
  for (const chunkSize of [1, 7, 4096, 50_000]) {
    const hash = new RangeCrc(ranges);
    for (let p = 0; p < file.length; p += chunkSize) hash.update(file.subarray(p, p + chunkSize));
    assert.equal(hash.whole, crc32(file), `whole, chunks of ${chunkSize}`);
    ranges.forEach(([o, l], i) =>
      assert.equal(hash.perRange[i], crc32(file.subarray(o, o + l)), `range ${i}, chunks of ${chunkSize}`),
    );
  }
});

test('overlapping or unsorted ranges are not in order (the reader then hashes twice)', () => {
  assert.equal(
    rangesInOrder([
      [10, 5],
      [12, 5],
    ]),
    false,
  );
  assert.equal(
    rangesInOrder([
      [10, 5],
      [0, 5],
    ]),
    false,
  );
  assert.equal(rangesInOrder([[0, -1]]), false);
});
