/**
 * zstd off the main thread: the pool's frames decompress to the input (large buffers go to a
 * thread, small ones inline), and a zstd spill of batches with large buffers replays exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decompress } from 'zstd-napi';
import { ZstdPool, INLINE_BYTES } from '../../../lib/arrow/zstd-pool.ts';
import { pipeline, fromIterable, toSpill } from '../../../index.ts';

test('pool frames decompress to the input, several in flight, large and small', async () => {
  const pool = new ZstdPool(2);
  try {
    const inputs = [10, INLINE_BYTES - 1, INLINE_BYTES, 1 << 20, 3 << 20].map((n, k) => {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 31 + k) % 251 < 200 ? 65 + (i % 7) : (i * 7) & 0xff;
      return bytes;
    });
    // a view into a larger buffer: only its bytes are compressed
    const big = new Uint8Array(2 << 20).fill(9);
    const view = big.subarray(1000, 1000 + (1 << 20));
    const outputs = await Promise.all([...inputs, view].map((b) => pool.compress(b)));
    for (const [i, input] of [...inputs, view].entries()) assert.deepEqual(new Uint8Array(decompress(outputs[i]!)), input, `input ${i}`);
    assert.ok(outputs[3]!.byteLength < inputs[3]!.byteLength, 'it compresses');
  } finally {
    await pool.close();
  }
});

test('a zstd spill of large batches replays every row with its values', async () => {
  const rows = Array.from({ length: 60_000 }, (_, i) => ({ i, text: `row ${i} ${'abc'.repeat(i % 20)}`, x: i * 0.5 }));
  const { output } = await pipeline(fromIterable(rows, { batchSize: 20_000 }), toSpill({ budget: 0, compression: 'zstd' }), { governor: false });
  let n = 0;
  for await (const row of output.rows()) {
    assert.deepEqual(row, rows[n]);
    n++;
  }
  assert.equal(n, rows.length);
  assert.equal(output.manifest.compression, 'zstd');
  await output.dispose();
});
