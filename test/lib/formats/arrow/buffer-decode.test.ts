/**
 * zstd-compressed Arrow buffers decompress into at most what the file and the column declare
 * (issue 19): a frame with no content size that expands far past its buffer is a FormatError
 * naming the file, the batch and the column, before it is held whole; valid files still read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inferSchema, rowsToRecordBatch, recordBatchToRows } from '../../../../lib/formats/arrow/convert.ts';
import { ArrowFileWriter } from '../../../../lib/formats/arrow/ipc-writer.ts';
import { openArrowFile } from '../../../../lib/formats/arrow/ipc-reader.ts';
import { assertBatchRefused, valuesBuffer } from './ipc-craft.ts';
import type { Row } from '../../../../lib/core/batch.ts';

let dir: string;
test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'spillway-zstd-cap-'));
});
test.after(async () => rm(dir, { recursive: true, force: true }));

const ROWS: Row[] = Array.from({ length: 4096 }, (_, i) => ({
  n: (i * 7919) % 100_003,
  s: `v${(i * 31) % 977}`,
}));

/**
 * A zstd frame of exactly `length` bytes with no content size: 128 KiB RLE blocks of 'A' and a
 * last raw block, so it decodes to about 32,768 times its size.
 */
function bombFrame(length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3]); // no FCS, window 128 KiB
  const blocks = Math.floor((length - 9) / 4);
  const raw = length - 9 - 4 * blocks;
  let at = 6;
  for (let i = 0; i < blocks; i++, at += 4) {
    const header = (1 << 1) | ((128 * 1024) << 3); // RLE, not last
    out.set([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, 0x41], at);
  }
  const last = 1 | (raw << 3); // raw, last
  out.set([last & 0xff, (last >> 8) & 0xff, (last >> 16) & 0xff], at);
  return out;
}

async function writeZstd(name: string, format: 'file' | 'stream' = 'file'): Promise<string> {
  const target = path.join(dir, name);
  const schema = inferSchema(ROWS);
  const writer = await ArrowFileWriter.open(target, { schema, compression: 'zstd', format });
  await writer.write(rowsToRecordBatch(ROWS, { schema }));
  await writer.commit();
  return target;
}

async function mutated(
  name: string,
  prefix: (declared: bigint, frameBytes: number) => bigint,
  format: 'file' | 'stream' = 'file',
): Promise<string> {
  const source = await writeZstd(`${name}.src.arrow`, format);
  const bytes = await readFile(source);
  const { start, end, needs } = valuesBuffer(bytes, format, inferSchema(ROWS).fields);
  const declared = bytes.readBigInt64LE(start);
  assert.equal(declared, BigInt(needs), 'the values buffer is compressed and declares what its 4096 rows need');
  bytes.set(bombFrame(end - start - 8), start + 8);
  bytes.writeBigInt64LE(prefix(declared, end - start - 8), start);
  const target = path.join(dir, `${name}.arrow`);
  await writeFile(target, bytes);
  return target;
}

test('a valid zstd Arrow file reads back whole through the capped codec', async () => {
  const file = await writeZstd('valid.arrow');
  const handle = await openArrowFile(file);
  try {
    assert.deepEqual(recordBatchToRows(await handle.readBatch(0)), ROWS);
  } finally {
    await handle.close();
  }
});

test('a frame without content size expanding past its declared length is a FormatError naming file, batch and column', async () => {
  await assertBatchRefused(await mutated('bomb', (declared) => declared));
});

test('a buffer declaring far more than its column needs is refused before decompressing', async () => {
  await assertBatchRefused(await mutated('claims', () => 512n * 1024n * 1024n));
});

test("with apache-arrow's compressed-length prefix, the column's needs cap the frame", async () => {
  await assertBatchRefused(await mutated('quirk', (_, frameBytes) => BigInt(frameBytes)));
});

test('a stream-format file with such a frame is refused the same way', async () => {
  await assertBatchRefused(await mutated('stream-bomb', (_, frameBytes) => BigInt(frameBytes), 'stream'));
});
