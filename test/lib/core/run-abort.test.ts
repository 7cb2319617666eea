/**
 * Where an abort lands at the end of a run (issue 19; found by test/e2e/abort-random.test.ts):
 * after the source has ended, the stages still finishing (a sort merging its runs, a sink writing
 * and renaming its file) must stop and leave nothing; after the sink has finished, the output is
 * whole and in place, and the run resolves with it rather than rejecting beside it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Batch } from '../../../lib/core/batch.ts';
import { pipeline } from '../../../lib/core/pipeline.ts';
import { BatchTransform } from '../../../lib/core/transform.ts';
import { fromIterable } from '../../../sources/fromIterable.ts';
import { sort } from '../../../transforms/sort.ts';
import { toCsv } from '../../../sinks/toCsv.ts';
import { tempDir } from '../../helpers.ts';
import { BatchSink } from '../../../lib/core/sink.ts';
import { AtomicFile } from '../../../lib/io/atomic-file.ts';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ i, v: (i * 7919) % 10_007 }));

test('an abort after the source ended stops the finishing stages: rejected, no output, no runs left', async () => {
  const dir = tempDir();
  const scratch = join(dir, 'scratch');
  const out = join(dir, 'out.csv');
  const controller = new AbortController();
  // aborts when its input ends: the sort then has every run on disk and merges them next
  const atEnd = new BatchTransform({
    name: 'at-end',
    transform: (batch, push) => push(batch),
    flush: () => controller.abort(new Error('cancelled at the end')),
  });
  await assert.rejects(
    pipeline(
      fromIterable(rows(20_000), { batchSize: 500 }),
      atEnd,
      sort('v', { budget: 60_000, dir: scratch }),
      toCsv(out),
      { signal: controller.signal },
    ),
    { code: 'ERR_SPILLWAY_ABORTED' },
  );
  assert.equal(existsSync(out), false, 'no file under the final name');
  assert.deepEqual(readdirSync(dir).sort(), ['scratch']);
  assert.deepEqual(readdirSync(scratch), [], 'no sorted runs left');
});

test('an abort after the sink finished: the run resolves with its whole output', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.csv');
  const controller = new AbortController();
  const sink = toCsv(out);
  sink.once('finish', () => controller.abort(new Error('too late')));
  const { output } = await pipeline(fromIterable(rows(2000), { batchSize: 500 }), sink, {
    signal: controller.signal,
  });
  assert.equal(controller.signal.aborted, true);
  assert.equal(output.rows, 2000);
  assert.equal(existsSync(out), true);
});

/** A sink that writes its rows' count to `path` through an AtomicFile, with `around` hooks at its rename. */
function countingSink(
  path: string,
  around: { beforeCommit?: () => void; afterCommit?: () => void; discarded?: (rows: number) => void },
) {
  let file: AtomicFile | undefined;
  let rows = 0;
  return new BatchSink<number>({
    name: 'counting',
    write(batch) {
      rows += batch.numRows;
    },
    async finish(_context, _stats, point) {
      file = await AtomicFile.open(path);
      await file.write(`${rows}\n`);
      around.beforeCommit?.();
      await file.commit({ point });
      around.afterCommit?.();
      // the rest of a finish (a temp file forgotten, stats): an abort lands here
      await new Promise((resolve) => setImmediate(resolve));
      return rows;
    },
    async abort() {
      await file?.abort();
    },
    discard(output) {
      around.discarded?.(output);
    },
  });
}

test('an abort between the sink renaming its file and finishing: the run resolves, the file whole (found under load by abort-random)', async () => {
  const dir = tempDir();
  const out = join(dir, 'count.txt');
  const controller = new AbortController();
  const sink = countingSink(out, { afterCommit: () => controller.abort(new Error('during the finish')) });
  const { output } = await pipeline(fromIterable(rows(1000), { batchSize: 100 }), sink, { signal: controller.signal });
  assert.equal(controller.signal.aborted, true);
  assert.equal(output, 1000);
  assert.equal(readFileSync(out, 'utf8'), '1000\n');
  assert.deepEqual(readdirSync(dir), ['count.txt'], 'no temporary file left');
});

test('an abort while the sink flushes, before its rename: rejected, and the rename never happens', async () => {
  const dir = tempDir();
  const out = join(dir, 'count.txt');
  const controller = new AbortController();
  const sink = countingSink(out, { beforeCommit: () => controller.abort(new Error('before the rename')) });
  await assert.rejects(pipeline(fromIterable(rows(1000), { batchSize: 100 }), sink, { signal: controller.signal }), {
    code: 'ERR_SPILLWAY_ABORTED',
  });
  assert.deepEqual(readdirSync(dir), [], 'neither the file nor its temporary file');
});

test("a sink destroyed directly after its commit point: its finish ends, then its output is discarded as a failed run's", async () => {
  const dir = tempDir();
  const out = join(dir, 'count.txt');
  let discarded: number | undefined;
  const sink = countingSink(out, {
    afterCommit: () => sink.destroy(new Error('destroyed after the rename')),
    discarded: (rows) => {
      discarded = rows;
    },
  });
  sink.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
  for (let i = 0; i < 3; i++) sink.write(new Batch([{ i }], { source: 'test', index: i, rowStart: i }));
  sink.end();
  await closed;
  assert.equal(sink.committed, true);
  assert.equal(discarded, 3, 'the finished output went to discard');
  assert.equal(readFileSync(out, 'utf8'), '3\n', 'the renamed file is whole');
  assert.deepEqual(readdirSync(dir), ['count.txt']);
});
