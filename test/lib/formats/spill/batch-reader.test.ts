/**
 * The batch-by-batch spill reader (lib/formats/spill/batch-reader.ts) gives back exactly what was
 * spilled: every codec, columns that compress to one LZ4 block, to several, and not at all
 * (stored as is), nulls, and dictionary columns (which take apache-arrow's reader); and the
 * one-block LZ4 helper finds only frames it can hand to the block decoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  Dictionary,
  Int32,
  RecordBatch,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type Vector,
  Struct,
  Field,
  Schema,
} from 'apache-arrow';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { BatchSource } from '../../../../lib/core/source.ts';
import { Batch } from '../../../../lib/core/batch.ts';
import { toSpill } from '../../../../sinks/toSpill.ts';
import { openSpill } from '../../../../lib/formats/spill/spilled.ts';
import { SpillBatchReader } from '../../../../lib/formats/spill/batch-reader.ts';
import { compressFrameSync, lz4SingleBlock } from '../../../../lib/formats/lz4.ts';
import { fdsUnder, tempDir } from '../../../helpers.ts';

function source(batches: RecordBatch[]): BatchSource {
  return new BatchSource({
    name: 'test',
    async *open() {
      let rowStart = 0;
      for (const [index, b] of batches.entries()) {
        yield Batch.fromArrow(b, { source: 'test', index, rowStart });
        rowStart += b.numRows;
      }
    },
  });
}

function batchOf(columns: Record<string, Vector>): RecordBatch {
  const fields = Object.entries(columns).map(([name, v]) => new Field(name, v.type, true));
  const length = Object.values(columns)[0]!.length;
  const data = makeData({
    type: new Struct(fields),
    length,
    children: Object.values(columns).map((v) => v.data[0]!),
  });
  return new RecordBatch(new Schema(fields), data);
}

/** Columns that compress to one LZ4 block, to several (over 4 MB), and not at all (random bytes). */
function batches(count: number, rows: number): RecordBatch[] {
  return Array.from({ length: count }, (_, b) => {
    const seq = Int32Array.from({ length: rows }, (_, i) => b * rows + i);
    const noise = Array.from({ length: rows }, () => randomBytes(12).toString('base64'));
    const big = Array.from({ length: rows }, (_, i) => `row ${i} `.repeat(120));
    const sparse = Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? null : i * 1.5));
    return batchOf({
      seq: makeVector(seq),
      noise: vectorFromArray(noise, new Utf8()),
      big: vectorFromArray(big, new Utf8()),
      sparse: vectorFromArray(sparse),
    });
  });
}

function values(batch: RecordBatch): unknown[][] {
  return batch.schema.fields.map((f) => [...batch.getChild(f.name)!].map((v) => (v === null ? null : String(v))));
}

for (const compression of ['lz4', 'zstd', 'none'] as const) {
  test(`${compression}: batches(), get() and rows() give back every value spilled`, async () => {
    const input = batches(3, 5000);
    const dir = path.join(tempDir(`spillway-batch-reader-${compression}-`), 'spill');
    const { output } = await pipeline(source(input), toSpill({ budget: 0, compression, keep: true, dir }), {
      governor: false,
    });
    await output.dispose();
    const spilled = await openSpill(dir);
    let i = 0;
    for await (const batch of spilled.batches()) {
      assert.deepStrictEqual(values(batch), values(input[i]!), `batch ${i}`);
      i++;
    }
    assert.equal(i, input.length);
    const row = (await spilled.get(7503)) as Record<string, unknown>;
    assert.equal(row.seq, 7503);
    assert.equal(row.sparse, 2503 * 1.5);
    await spilled.dispose({ remove: true });
  });
}

test('a dictionary column is read through apache-arrow after a whole-file check, with the same values', async () => {
  const type = new Dictionary(new Utf8(), new Int32());
  const words = ['alpha', 'beta', 'gamma'];
  // one batch: the Arrow file format refuses a second batch's replacement dictionary
  const input = [
    batchOf({
      id: makeVector(Int32Array.from({ length: 1000 }, (_, i) => i)),
      word: vectorFromArray(
        Array.from({ length: 1000 }, (_, i) => words[i % 3]!),
        type,
      ),
    }),
  ];
  const dir = path.join(tempDir('spillway-batch-reader-dict-'), 'spill');
  const { output } = await pipeline(source(input), toSpill({ budget: 0, keep: true, dir }), { governor: false });
  await output.dispose();
  const spilled = await openSpill(dir);
  const schema = spilled.schemas[0]!;
  assert.equal(SpillBatchReader.supports(spilled.manifest.files[0]!, schema), false);
  let i = 0;
  for await (const batch of spilled.batches()) assert.deepStrictEqual(values(batch), values(input[i++]!));
  assert.equal(i, 1);
  await spilled.dispose({ remove: true });
});

test('a second close() resolves once the file is closed, not before (SpillFiles closes a reader twice)', async () => {
  const dir = path.join(tempDir('spillway-batch-reader-close-'), 'spill');
  const { output } = await pipeline(
    source(batches(1, 100)),
    toSpill({ budget: 0, compression: 'none', keep: true, dir }),
    {
      governor: false,
    },
  );
  await output.dispose();
  const spilled = await openSpill(dir);
  const entry = spilled.manifest.files[0]!;
  const reader = await SpillBatchReader.open({ dir, entry, schema: spilled.schemas[0]!, compression: 'none' });
  assert.equal((await reader.readBatch(0)).numRows, 100);
  assert.equal(fdsUnder(dir).length, 1);
  // a read in flight holds the descriptor: the first close() waits for it
  const reading = reader.readBatch(0).catch((error: Error) => error);
  const first = reader.close();
  await reader.close();
  assert.deepEqual(fdsUnder(dir), [], 'closed when the second close() resolves');
  await first;
  await reading;
  await spilled.dispose({ remove: true });
});

test('SpillFiles with room for one open file reads a spill of several files in order, each closed after its reads', async () => {
  const { SpillFiles } = await import('../../../../lib/formats/spill/reader.ts');
  const dir = path.join(tempDir('spillway-batch-reader-files-'), 'spill');
  const input = batches(6, 200);
  const { output } = await pipeline(
    source(input),
    toSpill({ budget: 0, compression: 'none', keep: true, dir, fileSize: '100kB' }),
    { governor: false },
  );
  await output.dispose();
  const spilled = await openSpill(dir);
  assert.ok(spilled.manifest.files.length >= 3, `${spilled.manifest.files.length} files`);
  // reading batch 0 of a file opens the next one ahead, which evicts the file being read: it
  // must close after that read, not under it (an operator partition's reader has room for one)
  const files = new SpillFiles(dir, spilled.manifest, 1);
  for (let i = 0; i < files.numBatches; i++)
    assert.deepStrictEqual(values(await files.read(i)), values(input[i]!), `batch ${i}`);
  await files.close();
  assert.deepEqual(fdsUnder(dir), []);
  await spilled.dispose({ remove: true });
});

test('lz4SingleBlock: finds the one block of a small frame, stored or compressed, and nothing in a larger one', () => {
  const small = Buffer.from('abcabcabc'.repeat(1000));
  const frame = compressFrameSync(small);
  const block = lz4SingleBlock(frame);
  assert.ok(block && !block.stored && block.start + block.length + 4 === frame.length);
  const random = randomBytes(5000);
  const stored = lz4SingleBlock(compressFrameSync(random));
  assert.ok(stored?.stored);
  const storedFrame = compressFrameSync(random);
  assert.deepStrictEqual(storedFrame.subarray(stored.start, stored.start + stored.length), random);
  // a buffer larger than the largest block (4 MB) takes several blocks: the frame decoder's job
  assert.equal(lz4SingleBlock(compressFrameSync(Buffer.from('xyz'.repeat(2_000_000)))), undefined);
  assert.equal(lz4SingleBlock(new Uint8Array(3)), undefined);
  assert.equal(lz4SingleBlock(Buffer.from('not an lz4 frame at all')), undefined);
});
