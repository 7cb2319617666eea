/**
 * zstd decoding with a cap (issue 19): WebAssembly memory only grows, so the decoder instance
 * that decoded a large buffer is dropped and the memory it held goes with it (measured on the
 * instance, not by time); frames without a content size never decode past the cap they are given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WASM_RETAIN_BYTES,
  releaseZstdWasm,
  zstdWasmDecode,
  zstdWasmMemoryBytes,
} from '../../../lib/formats/zstd-wasm.ts';
import {
  zstdCompressSync,
  zstdDecompressCapped,
  zstdDecompressInto,
  zstdFrameContentSize,
} from '../../../lib/formats/zstd.ts';

/** A frame of `blocks` 128 KiB RLE blocks of `byte`, with no content size in its header. */
function rleFrame(blocks: number, byte = 0x41): Uint8Array {
  const out = new Uint8Array(6 + 4 * blocks);
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3]);
  for (let i = 0; i < blocks; i++) {
    const header = (i === blocks - 1 ? 1 : 0) | (1 << 1) | ((128 * 1024) << 3);
    out.set([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, byte], 6 + 4 * i);
  }
  return out;
}

test('the WebAssembly decoder gives its memory back after a large decode', () => {
  releaseZstdWasm();
  const size = 3 * WASM_RETAIN_BYTES;
  const out = zstdWasmDecode(zstdCompressSync(new Uint8Array(size).fill(7)), size);
  assert.ok(out instanceof Uint8Array);
  assert.equal(out.length, size);
  assert.ok(out.every((b) => b === 7));
  assert.equal(zstdWasmMemoryBytes(), 0, 'the instance that grew is dropped');
  const small = zstdWasmDecode(zstdCompressSync(new TextEncoder().encode('abc'.repeat(100))), 300);
  assert.ok(small instanceof Uint8Array && small.length === 300);
  assert.ok(
    zstdWasmMemoryBytes() > 0 && zstdWasmMemoryBytes() <= WASM_RETAIN_BYTES,
    `a fresh instance holds ${zstdWasmMemoryBytes()} bytes`,
  );
});

test('a small decode keeps its instance (no new one per call)', () => {
  releaseZstdWasm();
  const frame = zstdCompressSync(new TextEncoder().encode('xyz'.repeat(1000)));
  zstdWasmDecode(frame, 3000);
  const held = zstdWasmMemoryBytes();
  assert.ok(held > 0 && held <= WASM_RETAIN_BYTES);
  zstdWasmDecode(frame, 3000);
  assert.equal(zstdWasmMemoryBytes(), held);
});

test('a frame without content size is refused past the cap, and memory stays under the retained size', () => {
  const bomb = rleFrame(4096); // 512 MiB from 16 KiB
  assert.equal(zstdFrameContentSize(bomb), undefined);
  assert.throws(() => zstdDecompressCapped(bomb, 1 << 20), /more than/);
  assert.ok(zstdWasmMemoryBytes() <= WASM_RETAIN_BYTES);
  assert.throws(() => zstdDecompressInto(bomb, 1 << 20), /does not decompress/);
  assert.ok(zstdWasmMemoryBytes() <= WASM_RETAIN_BYTES);
});

test('frames within the cap decode whole, with or without a content size', () => {
  const frame = rleFrame(3, 0x42);
  const out = zstdDecompressCapped(frame, 3 * 128 * 1024);
  assert.equal(out.length, 3 * 128 * 1024);
  assert.ok(out.every((b) => b === 0x42));
  // node-zstd writes no content size either: its frames are capped the same way
  const written = zstdCompressSync(new TextEncoder().encode('hello '.repeat(50)));
  assert.equal(new TextDecoder().decode(zstdDecompressCapped(written, 1 << 20)), 'hello '.repeat(50));
  assert.throws(() => zstdDecompressCapped(written, 100), /more than the 100 bytes/);
});
