/**
 * Decompression bombs (issue 19): a page whose compressed bytes expand 32,768x must be stopped at
 * the size its header declares, in every codec, and a page declaring more than its column chunk
 * holds must be refused before it is decompressed. The Parquet files are crafted from scratch: a
 * zstd frame of zeros (RLE blocks of 128 KB, 4 bytes each) behind a valid page header and footer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { ErrorCodes, SpillwayError, collect, fromParquet, mapBatch, pipeline } from '../../../../../index.ts';
import { cappedCompressors, snappyDeclaredLength } from '../../../../../lib/formats/parquet/read/decompress.ts';
import { fileMetadata, pageHeader } from '../../../../../lib/formats/parquet/encode/metadata.ts';
import { crc32 } from '../../../../../lib/formats/checksum.ts';
import {
  zstdCompressSync,
  zstdDecodedBound,
  zstdDecompressSync,
  zstdFrameContentSize,
} from '../../../../../lib/formats/zstd.ts';
import { tempDir } from '../../../../helpers.ts';

const dir = tempDir();
const BLOCK = 128 * 1024;

/** A zstd frame of `blocks` RLE blocks of 128 KB zeros, declaring `contentSize` (or no size). */
function zeroFrame(blocks: number, contentSize?: number): Uint8Array {
  const out: number[] = [0x28, 0xb5, 0x2f, 0xfd];
  if (contentSize === undefined)
    out.push(0x00, 0x58); // no content size; window 2 MB
  else
    out.push(
      0x80,
      0x58,
      contentSize & 255,
      (contentSize >>> 8) & 255,
      (contentSize >>> 16) & 255,
      (contentSize >>> 24) & 255,
    );
  for (let b = 0; b < blocks; b++) {
    const header = (b === blocks - 1 ? 1 : 0) | (1 << 1) | (BLOCK << 3); // last flag, RLE, size
    out.push(header & 255, (header >>> 8) & 255, (header >>> 16) & 255, 0);
  }
  return Uint8Array.from(out);
}

/** Calls `fn` while sampling ArrayBuffer memory; returns what it threw and the peak. */
async function peakBuffersOf(fn: () => unknown): Promise<{ error: unknown; peak: number }> {
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  };
  const timer = setInterval(sample, 2);
  try {
    await fn();
    return { error: undefined, peak };
  } catch (error) {
    sample();
    return { error, peak };
  } finally {
    clearInterval(timer);
  }
}

/**
 * A one-column file (required int32 `x`, one data page stored as `body` with `codec`), whose page
 * header declares `declared` uncompressed bytes and whose footer says the chunk holds `chunkBytes`.
 */
function craftFile(
  name: string,
  body: Uint8Array,
  codec: number,
  declared: number,
  values: number,
  chunkBytes?: number,
): string {
  const header = pageHeader(0, declared, body.length, values, 0, crc32(body));
  const chunk = {
    encodings: [0],
    codec,
    numValues: values,
    uncompressedBytes: chunkBytes ?? header.length + declared,
    compressedBytes: header.length + body.length,
    dataPageOffset: 4,
    nullCount: 0,
  };
  const footer = fileMetadata(
    [{ name: 'x', kind: 'int32', nullable: false }],
    [
      {
        numRows: values,
        fileOffset: 4,
        uncompressedBytes: chunk.uncompressedBytes,
        compressedBytes: chunk.compressedBytes,
        columns: [chunk],
      },
    ],
    'spillway test',
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(footer.length);
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([Buffer.from('PAR1'), header, body, footer, length, Buffer.from('PAR1')]));
  return path;
}

async function readError(path: string, output: 'rows' | 'arrow'): Promise<{ error: unknown; peak: number }> {
  return peakBuffersOf(() =>
    pipeline(
      fromParquet(path, { output }),
      mapBatch(() => []),
      { governor: false },
    ),
  );
}

test('a crafted zstd page is read when it is what it declares (the crafting is right)', async () => {
  const values = Int32Array.from({ length: 1000 }, (_, i) => i * 7);
  const body = zstdCompressSync(new Uint8Array(values.buffer));
  const path = craftFile('good-zstd.parquet', body, 6, values.byteLength, values.length);
  const { output } = await pipeline(fromParquet(path), collect(), { governor: false });
  assert.deepEqual(
    (output as { x: number }[]).map((r) => r.x),
    Array.from(values),
  );
});

test('a zstd page declaring 4,000 bytes whose frame expands to 1 GiB is refused at the declared size, on both paths', {
  timeout: 120_000,
}, async () => {
  for (const contentSize of [4000, undefined]) {
    const path = craftFile(`bomb-zstd-${contentSize ?? 'nofcs'}.parquet`, zeroFrame(8192, contentSize), 6, 4000, 1000);
    for (const output of ['rows', 'arrow'] as const) {
      const { error, peak } = await readError(path, output);
      assert.ok(error instanceof SpillwayError, `a SpillwayError, got ${String(error)}`);
      assert.equal(error.code, ErrorCodes.FORMAT);
      assert.equal(error.context.file, path);
      assert.match(error.message, /column `x`/);
      assert.match(error.message, /4000 bytes/);
      assert.ok(peak < 64 * 2 ** 20, `ArrayBuffers peaked at ${Math.round(peak / 2 ** 20)} MB`);
    }
  }
});

test('a page declaring more bytes than its column chunk holds is refused before it is decompressed', {
  timeout: 120_000,
}, async () => {
  // 512 MB declared, within zstd's 32,768x of the 64 KB stored, but the footer says the chunk holds 8 KB
  const declared = 512 * 2 ** 20;
  const path = craftFile('declares-huge.parquet', zeroFrame(4096, declared), 6, declared, declared / 4, 8192);
  for (const output of ['rows', 'arrow'] as const) {
    const { error, peak } = await readError(path, output);
    assert.ok(error instanceof SpillwayError, `a SpillwayError, got ${String(error)}`);
    assert.equal(error.code, ErrorCodes.FORMAT);
    assert.equal(error.context.file, path);
    assert.match(error.message, /column `x`.*536870912 uncompressed bytes.*8192/);
    assert.ok(peak < 64 * 2 ** 20, `ArrayBuffers peaked at ${Math.round(peak / 2 ** 20)} MB`);
  }
});

test('every codec stops at the declared size: gzip, brotli, snappy and zstd bombs', { timeout: 120_000 }, async () => {
  const zeros = new Uint8Array(96 * 2 ** 20);
  const bombs: [string, Uint8Array][] = [
    ['GZIP', gzipSync(zeros, { level: 1 })],
    ['BROTLI', brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })],
    ['ZSTD', zeroFrame(2048, 1000)],
    ['ZSTD', zeroFrame(2048)],
  ];
  for (const [codec, bomb] of bombs) {
    const { error, peak } = await peakBuffersOf(() => cappedCompressors[codec as 'GZIP']!(bomb, 1000));
    assert.ok(error instanceof Error, `${codec}: refused`);
    assert.match(error.message, /1000 bytes|expands past/, codec);
    assert.ok(peak < 32 * 2 ** 20, `${codec}: ArrayBuffers peaked at ${Math.round(peak / 2 ** 20)} MB`);
  }
  // snappy states its length first: it must be the declared one
  const snappy = Uint8Array.from([0x80, 0x80, 0x40, 0x00]); // declares 1 MB
  assert.equal(snappyDeclaredLength(snappy), 1 << 20);
  assert.throws(
    () => cappedCompressors.SNAPPY!(snappy, 1000),
    /declares 1048576 bytes in its block, 1000 in its header/,
  );
  // and each codec still gives exactly the declared bytes of a real page
  const page = new TextEncoder().encode('spillway '.repeat(500));
  assert.deepEqual(new Uint8Array(cappedCompressors.GZIP!(gzipSync(page), page.length)), page);
  assert.deepEqual(new Uint8Array(cappedCompressors.BROTLI!(brotliCompressSync(page), page.length)), page);
  assert.deepEqual(new Uint8Array(cappedCompressors.ZSTD!(zstdCompressSync(page), page.length)), page);
});

test('frames without a content size (as spillway writes them): block-header bound, and decoding with and without a known size', () => {
  for (const size of [0, 7, 255, 256, 300, 65_791, 65_792, 1 << 20]) {
    const data = new Uint8Array(size).map((_, i) => (i * 31) % 251);
    const frame = zstdCompressSync(data);
    const bound = zstdDecodedBound(frame);
    assert.ok(bound !== undefined && bound >= size, `size ${size}: bound ${bound}`);
    assert.deepEqual(new Uint8Array(zstdDecompressSync(frame)), data);
    assert.deepEqual(new Uint8Array(zstdDecompressSync(frame, size)), data);
  }
  assert.equal(zstdFrameContentSize(zeroFrame(2)), undefined);
  assert.equal(zstdFrameContentSize(zeroFrame(2, 1000)), 1000);
  assert.equal(zstdDecodedBound(zeroFrame(3)), 3 * BLOCK);
  assert.throws(() => zstdDecompressSync(zeroFrame(2, 1000), 1000), /1000 bytes/);
});
