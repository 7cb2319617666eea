/**
 * LZ4-compressed Arrow buffers (issue 19): the 8-byte uncompressed length the file declares is
 * checked against what the column can hold and what the frame's headers can produce before the
 * decoder allocates; a frame whose blocks expand past it is stopped block by block. Each refusal
 * is a FormatError naming the file, the batch and the column; valid files still read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inferSchema, rowsToRecordBatch, recordBatchToRows } from '../../../../lib/formats/arrow/convert.ts';
import { ArrowFileWriter } from '../../../../lib/formats/arrow/ipc-writer.ts';
import { openArrowFile } from '../../../../lib/formats/arrow/ipc-reader.ts';
import { compressFrameSync, compressSync } from 'lz4-napi';
import { lz4DecompressCapped, lz4FrameBound } from '../../../../lib/formats/lz4.ts';
import type { Row } from '../../../../lib/core/batch.ts';
import { assertBatchRefused, valuesBuffer } from './ipc-craft.ts';

let dir: string;
test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'spillway-lz4-cap-'));
});
test.after(async () => rm(dir, { recursive: true, force: true }));

// compressible values, so the LZ4 writer keeps `n` compressed (not stored as is)
const ROWS: Row[] = Array.from({ length: 16_384 }, (_, i) => ({ n: ((i * 7) % 500) + 0.25, s: `v${(i * 31) % 977}` }));
const FIELDS = inferSchema(ROWS).fields;

async function writeLz4(name: string, rows: Row[] = ROWS, format: 'file' | 'stream' = 'file'): Promise<string> {
  const target = path.join(dir, name);
  const schema = inferSchema(rows);
  const writer = await ArrowFileWriter.open(target, { schema, compression: 'lz4', format });
  await writer.write(rowsToRecordBatch(rows, { schema }));
  await writer.commit();
  return target;
}

/** The LZ4 frame header of an independent-block frame with 64 KB blocks (header checksum not computed). */
const FRAME_HEADER = [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x00];

/** A frame of exactly `length` bytes whose blocks each expand to 64 KB (padded by a skippable frame). */
function lz4Bomb(length: number): Uint8Array {
  const block = compressSync(Buffer.alloc(64 * 1024, 0x41)).subarray(4);
  const out = Buffer.alloc(length);
  let blocks = Math.floor((length - FRAME_HEADER.length - 4 - 8) / (4 + block.length));
  assert.ok(blocks >= 2, 'room for a bomb of several blocks');
  out.set(FRAME_HEADER);
  let at = FRAME_HEADER.length;
  for (; blocks > 0; blocks--, at += 4 + block.length) {
    out.writeUInt32LE(block.length, at);
    out.set(block, at + 4);
  }
  out.writeUInt32LE(0, at); // end mark
  at += 4;
  out.writeUInt32LE(0x184d2a50, at); // skippable frame over the rest
  out.writeUInt32LE(length - at - 8, at + 4);
  return out;
}

/** Writes a valid LZ4 file, then rewrites column `n`'s values buffer: its prefix, and maybe its frame. */
async function mutated(name: string, declared: bigint, frame?: 'bomb', format: 'file' | 'stream' = 'file') {
  const bytes = await readFile(await writeLz4(`${name}.src.arrow`, ROWS, format));
  const { start, end, needs } = valuesBuffer(bytes, format, FIELDS);
  assert.equal(bytes.readBigInt64LE(start), BigInt(needs), 'the values buffer is compressed and declares its size');
  if (frame === 'bomb') bytes.set(lz4Bomb(end - start - 8), start + 8);
  bytes.writeBigInt64LE(declared, start);
  const target = path.join(dir, `${name}.arrow`);
  await writeFile(target, bytes);
  return { file: target, needs };
}

test('a valid LZ4 Arrow file (one block and several blocks per buffer) reads back whole through the capped codec', async () => {
  const many: Row[] = Array.from({ length: 50_000 }, (_, i) => ({ n: i % 1000, s: `row ${i % 3000}` }));
  for (const rows of [ROWS, many]) {
    const handle = await openArrowFile(await writeLz4(`valid-${rows.length}.arrow`, rows));
    try {
      assert.deepEqual(recordBatchToRows(await handle.readBatch(0)), rows);
    } finally {
      await handle.close();
    }
  }
});

test('lz4DecompressCapped: a frame of several blocks decodes whole, and not past its limit', () => {
  const data = Buffer.alloc(9 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 29;
  const frame = compressFrameSync(data);
  const bound = lz4FrameBound(frame);
  assert.ok(bound !== undefined && bound.bound > bound.blockMax, 'several blocks');
  assert.ok(Buffer.from(lz4DecompressCapped(frame, data.length, data.length)).equals(data));
  assert.ok(Buffer.from(lz4DecompressCapped(frame, data.length)).equals(data));
  assert.throws(() => lz4DecompressCapped(frame, data.length - 1), /more than/);
});

test('a buffer declaring 2 GB is a FormatError naming file, batch and column, and nothing near it is allocated', async () => {
  const declared = 2n * 1024n * 1024n * 1024n;
  const { file } = await mutated('claims-2gb', declared);
  const before = process.memoryUsage();
  await assertBatchRefused(file, /declares 2147483648 bytes/);
  const after = process.memoryUsage();
  // a decoder trusting the prefix would hold 2 GB; allow a 1/32 of it for everything else
  assert.ok(after.arrayBuffers - before.arrayBuffers < Number(declared) / 32, 'array buffers stay small');
  assert.ok(after.rss - before.rss < Number(declared) / 8, `RSS grew by ${after.rss - before.rss} bytes`);
});

test('a declared length the column could hold but the frame does not produce is refused', async () => {
  const { file, needs } = await mutated('short-frame', 0n);
  const bytes = await readFile(file);
  const { start } = valuesBuffer(bytes, 'file', FIELDS);
  bytes.writeBigInt64LE(BigInt(needs + 8), start);
  await writeFile(file, bytes);
  await assertBatchRefused(file, new RegExp(`not the ${needs + 8} bytes declared`));
});

test('a frame whose blocks expand past the declared length stops at it: a FormatError, not gigabytes', async () => {
  const { file, needs } = await mutated('bomb', 0n, 'bomb');
  const bytes = await readFile(file);
  const { start } = valuesBuffer(bytes, 'file', FIELDS);
  bytes.writeBigInt64LE(BigInt(needs), start);
  await writeFile(file, bytes);
  await assertBatchRefused(file, /lz4/);
});

test("with apache-arrow's compressed-length prefix (no information), the column's needs cap the bomb", async () => {
  const { file } = await mutated('bomb-quirk', 0n, 'bomb');
  const bytes = await readFile(file);
  const { start, end } = valuesBuffer(bytes, 'file', FIELDS);
  bytes.writeBigInt64LE(BigInt(end - start - 8), start);
  await writeFile(file, bytes);
  await assertBatchRefused(file, /lz4/);
});

test('a stream-format LZ4 file declaring 2 GB is refused the same way', async () => {
  const { file } = await mutated('stream-2gb', 2n ** 31n, undefined, 'stream');
  await assertBatchRefused(file, /declares 2147483648 bytes/);
});

test('lz4DecompressCapped: linked blocks decoded one by one use the blocks before them as history', () => {
  // a stored block "abcdefgh", then blocks that each copy the 8 bytes before them and add "z"
  const match = Buffer.from([0x04, 0x08, 0x00, 0x10, 0x7a]);
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0x00])]; // linked blocks, 64 KB
  const stored = Buffer.alloc(4);
  stored.writeUInt32LE(0x80000008);
  parts.push(stored, Buffer.from('abcdefgh'));
  let expected = 'abcdefgh';
  for (let i = 0; i < 4; i++) {
    const word = Buffer.alloc(4);
    word.writeUInt32LE(match.length);
    parts.push(word, match);
    expected += `${expected.slice(-8)}z`;
  }
  parts.push(Buffer.alloc(4));
  const frame = Buffer.concat(parts);
  assert.equal(lz4FrameBound(frame)?.bound, 8 + 4 * 64 * 1024);
  // exactly the output: far below the headers' bound, so decoded block by block
  assert.equal(Buffer.from(lz4DecompressCapped(frame, expected.length)).toString(), expected);
  assert.equal(Buffer.from(lz4DecompressCapped(frame, 1 << 20, expected.length)).toString(), expected);
  assert.throws(() => lz4DecompressCapped(frame, expected.length - 1), /more than/);
  assert.throws(() => lz4DecompressCapped(frame, 1 << 30, 2 ** 31), /more than/);
  assert.throws(() => lz4DecompressCapped(frame.subarray(0, frame.length - 3), 1 << 20), /corrupt/);
});

test('lz4DecompressCapped: a one-block frame with a content checksum is still checked against it', () => {
  const data = Buffer.from('spillway checksummed frame '.repeat(40));
  const frame = compressFrameSync(data, { contentChecksum: true });
  assert.ok(Buffer.from(lz4DecompressCapped(frame, 4096, data.length)).equals(data));
  const bad = Buffer.from(frame);
  bad[bad.length - 1]! ^= 0x01; // the content checksum's last byte
  assert.throws(() => lz4DecompressCapped(bad, 4096, data.length));
});
