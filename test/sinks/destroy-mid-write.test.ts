/**
 * A sink destroyed in the middle of a write (a failing stage upstream, an abort): nothing it
 * made may stay. Issue 19 found a text sink destroyed while its first write opened the file
 * (test/e2e/abort-random.test.ts, seed 19 case 21); the partitioned sinks, toArrow and toSpill
 * went on writing after their abort had run (opening partition files, even committing a
 * checkpoint), which left temporary trees, descriptors and, on a resumed run, rows twice
 * (test/lib/dataset/partitioned-checkpoint.test.ts failed that way in CI). The abort now runs
 * once the write under way has settled (lib/core/sink.ts), and a write waiting on a caller's
 * stream ends with the sink's signal.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Batch } from '../../lib/core/batch.ts';
import type { BatchSink } from '../../lib/core/sink.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { toCsv } from '../../sinks/toCsv.ts';
import { toJsonl } from '../../sinks/toJsonl.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { toSpill } from '../../sinks/toSpill.ts';
import { fdsUnder, tempDir } from '../helpers.ts';

/** 50 partitions of 20 rows: a partitioned sink's write opens 50 files, one after another. */
const rows = Array.from({ length: 1_000 }, (_, i) => ({ k: `p${i % 50}`, x: i, s: `row ${i}` }));

/** When the destroy lands, counted from the first write. */
const moments: Array<[string, (destroy: () => void) => void]> = [
  ['at once', (destroy) => destroy()],
  ['on the next turn', (destroy) => setImmediate(destroy)],
  ['after 2 ms', (destroy) => setTimeout(destroy, 2)],
  ['after 10 ms', (destroy) => setTimeout(destroy, 10)],
  ['after 40 ms', (destroy) => setTimeout(destroy, 40)],
];

/** Writes one batch, destroys the sink at `moment`, waits for the close and the write's callback; returns what `dir` holds. */
async function destroyMidWrite(
  dir: string,
  sink: BatchSink<unknown>,
  moment: (destroy: () => void) => void,
): Promise<string[]> {
  sink.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
  const written = new Promise<void>((resolve) =>
    sink.write(new Batch([...rows], { source: 't', index: 0, rowStart: 0 }), () => resolve()),
  );
  moment(() => sink.destroy(new Error('destroyed mid-write')));
  await Promise.all([closed, written]);
  assert.deepEqual(fdsUnder(dir), [], 'no descriptor stays open under the directory');
  return readdirSync(dir);
}

const sinks: Array<[string, (dir: string) => BatchSink<unknown>]> = [
  ['toCsv', (dir) => toCsv(join(dir, 'out.csv'))],
  ['toJsonl', (dir) => toJsonl(join(dir, 'out.jsonl'))],
  ['toParquet', (dir) => toParquet(join(dir, 'out.parquet'))],
  ['toArrow', (dir) => toArrow(join(dir, 'out.arrow'))],
  ['toSpill', (dir) => toSpill({ dir: join(dir, 'spill'), budget: 0 })],
  ['toCsv partitioned', (dir) => toCsv(join(dir, 'out'), { partitionBy: ['k'] })],
  ['toParquet partitioned', (dir) => toParquet(join(dir, 'out'), { partitionBy: ['k'] })],
  ['toArrow partitioned', (dir) => toArrow(join(dir, 'out'), { partitionBy: ['k'] })],
];

for (const [name, make] of sinks)
  test(`${name} destroyed during its first write leaves no file and no descriptor`, async () => {
    for (const [when, moment] of moments) {
      const dir = tempDir();
      assert.deepEqual(await destroyMidWrite(dir, make(dir), moment), [], `destroyed ${when}`);
    }
  });

/** A caller's stream that takes one chunk and never asks for more. */
function stuckStream(): Writable {
  return new Writable({ highWaterMark: 1, write: () => undefined });
}

for (const [name, make] of [
  ['toCsv', (s: Writable) => toCsv(s)],
  ['toJsonl', (s: Writable) => toJsonl(s)],
  ['toArrow', (s: Writable) => toArrow(s)],
] as const)
  test(`${name} to a stream that stopped draining still closes when destroyed mid-write`, async () => {
    const stream = stuckStream();
    const sink = make(stream) as BatchSink<unknown>;
    sink.on('error', () => undefined);
    stream.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
    sink.write(new Batch([...rows], { source: 't', index: 0, rowStart: 0 }), () => undefined);
    setImmediate(() => sink.destroy(new Error('destroyed while the stream is full')));
    await closed;
    assert.equal(stream.destroyed, true, "the abort destroyed the caller's stream");
  });
