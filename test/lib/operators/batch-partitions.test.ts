/**
 * BatchPartitions reads a partition back in the order it was written, with the next batch read
 * while the caller works on this one: a caller that stops early leaves no descriptor open and no
 * read unobserved, and a corrupt batch fails the read at that batch, after the ones before it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rowsToRecordBatch } from '../../../lib/formats/arrow/convert.ts';
import { recordBatchToRows } from '../../../lib/formats/arrow/to-rows.ts';
import { openBatchPartitions } from '../../../lib/operators/batch-partitions.ts';
import { OperatorScratch } from '../../../lib/operators/operator-scratch.ts';
import { fdsUnder, tempDir } from '../../helpers.ts';

const batch = (from: number, n: number) =>
  rowsToRecordBatch(
    Array.from({ length: n }, (_, i) => ({ i: from + i, text: `row ${from + i} ${'x'.repeat(i % 7)}` })),
  );

async function written(scratch: OperatorScratch) {
  const parts = await openBatchPartitions(scratch, 2);
  for (let b = 0; b < 5; b++) await parts.write(0, batch(b * 100, 100));
  for (let b = 0; b < 3; b++) await parts.write(1, batch(10_000 + b * 50, 50));
  await parts.finish();
  return parts;
}

test('BatchPartitions reads each partition back in the order written, and a caller that stops early leaves nothing open', async () => {
  const scratch = new OperatorScratch('join', tempDir());
  try {
    const parts = await written(scratch);
    const seen: number[] = [];
    for await (const b of parts.read(0)) seen.push(...recordBatchToRows(b).map((r) => (r as { i: number }).i));
    assert.deepEqual(
      seen,
      Array.from({ length: 500 }, (_, i) => i),
    );
    const second = [];
    for await (const b of parts.read(1)) second.push(...recordBatchToRows(b));
    assert.deepEqual(second[0], { i: 10_000, text: 'row 10000 ' });
    assert.equal(second.length, 150);
    assert.deepEqual(fdsUnder(parts.dir), [], 'read to the end: its file closed');
    // stop after the first batch: the read of the second was in flight
    for await (const b of parts.read(0)) {
      assert.equal(b.numRows, 100);
      break;
    }
    assert.deepEqual(fdsUnder(parts.dir), [], 'stopped early: its file closed, the read ahead settled');
    await parts.dispose();
  } finally {
    await scratch.dispose();
  }
});

test('BatchPartitions fails a read at a corrupt batch, after the batches before it', async () => {
  const scratch = new OperatorScratch('join', tempDir());
  try {
    const parts = await written(scratch);
    // flip a byte in partition 0's one file, past its first batches (its end holds the footer)
    const dir = join(parts.dir, 'p0');
    const file = readdirSync(dir).find((name) => name.endsWith('.arrow'))!;
    const bytes = readFileSync(join(dir, file));
    bytes[Math.floor(bytes.length * 0.8)]! ^= 0xff;
    writeFileSync(join(dir, file), bytes);
    let rows = 0;
    await assert.rejects(
      (async () => {
        for await (const b of parts.read(0)) rows += b.numRows;
      })(),
      (error: Error & { code?: string }) => error.code === 'ERR_SPILLWAY_SPILL_CORRUPT',
    );
    assert.ok(rows >= 300 && rows < 500, `rows read before the corrupt batch: ${rows}`);
    assert.deepEqual(fdsUnder(parts.dir), [], 'its file closed');
    await parts.dispose();
  } finally {
    await scratch.dispose();
  }
});

test('BatchPartitions commits its partitions together: one that fails fails the finish, after every other commit settled', async () => {
  const scratch = new OperatorScratch('join', tempDir());
  try {
    const parts = await openBatchPartitions(scratch, 3);
    for (let p = 0; p < 3; p++) await parts.write(p, batch(p * 100, 100));
    // partition 1's directory gone: its commit cannot rename its file into place
    rmSync(join(parts.dir, 'p1'), { recursive: true });
    await assert.rejects(parts.finish(), (error: Error & { code?: string }) => error.code === 'ERR_SPILLWAY_SPILL');
    assert.deepEqual(fdsUnder(parts.dir), [], 'every file closed, the failed one too');
    for (const p of [0, 2]) {
      let rows = 0;
      for await (const b of parts.read(p)) rows += b.numRows;
      assert.equal(rows, 100, `partition ${p} committed`);
    }
    await parts.dispose();
  } finally {
    await scratch.dispose();
  }
});
