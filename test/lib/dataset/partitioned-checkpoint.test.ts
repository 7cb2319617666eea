/**
 * Checkpointed partitioned writes, in process: a run that fails after some checkpoints keeps its
 * temporary tree (under `.<name>.tmp-checkpoint`) and no target; the rerun resumes it, removes
 * what the failed run wrote after its checkpoint (a finished file not in the checkpoint, a
 * temporary file of a single-file sink), and commits a tree with every row once. A listed file
 * that is gone is refused with ERR_SPILLWAY_CHECKPOINT. SIGKILLs: test/e2e/dataset-resume-jsonl.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  pipeline,
  collect,
  fromCsv,
  fromIterable,
  mapBatch,
  toCsv,
  ErrorCodes,
  SpillwayError,
} from '../../../index.ts';
import { listTree } from '../../../lib/dataset/partitioned-writer.ts';
import { tempDir } from '../../helpers.ts';
import { idsByPartition } from './tree-ids.ts';

const rows = Array.from({ length: 2_000 }, (_, i) => ({ id: i, day: `d${i % 4}`, x: i / 2 }));

/** Commits recorded in the checkpoint in `dir` (0 when there is none). */
function commits(dir: string): number {
  try {
    return (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { commits: number }).commits;
  } catch {
    return 0;
  }
}

/**
 * Runs rows -> toCsv(out, partitionBy day) with a checkpoint. With `failFrom`, the run fails at
 * the first batch from that one on that finds a checkpoint written; until then each batch waits
 * (a little, capped) for the next commit to land, so a busy machine's slow fsyncs still leave one.
 */
function write(out: string, checkpoint: string, failFrom?: number, everyBatches = 1, maxOpenFiles?: number) {
  let batches = 0;
  return pipeline(
    fromIterable(rows, { batchSize: 100 }),
    mapBatch(async (batch) => {
      if (failFrom === undefined) return batch;
      const seen = commits(checkpoint);
      if (++batches >= failFrom && seen > 0) throw new Error('crash');
      for (let waited = 0; waited < 50 && commits(checkpoint) === seen; waited++)
        await new Promise((resolve) => setTimeout(resolve, 5));
      return batch;
    }),
    toCsv(out, { partitionBy: ['day'], ...(maxOpenFiles === undefined ? {} : { maxOpenFiles }) }),
    { checkpoint: { dir: checkpoint, everyBatches, intervalMs: 60_000 } },
  );
}

/** Every row of `rows` is in the tree at `out` once, in its partition, in the order written. */
async function assertEveryRowOnce(out: string): Promise<void> {
  const ids = await idsByPartition(out);
  for (let d = 0; d < 4; d++)
    assert.deepEqual(
      ids.get(`day=d${d}`),
      rows.filter((r) => r.day === `d${d}`).map((r) => r.id),
      `day=d${d}: rows missing, repeated or out of order`,
    );
}

test('a failed checkpointed partitioned write resumes: stray files removed, every row once, no temporary tree left', async () => {
  const dir = tempDir('spillway-partitioned-ckpt-');
  const out = join(dir, 'out');
  const checkpoint = join(dir, 'ckpt');
  await assert.rejects(write(out, checkpoint, 9), /crash/);
  assert.equal(existsSync(out), false, 'a failed run leaves no tree under the target');
  const temp = join(dir, '.out.tmp-checkpoint');
  assert.ok(existsSync(join(checkpoint, 'checkpoint.json')), 'the failed run left a checkpoint');
  // what a run killed after its checkpoint could leave: a finished file and a single-file sink's temporary one
  writeFileSync(join(temp, 'day=d0', 'part-99.csv'), 'id,x\n123456,1\n');
  writeFileSync(join(temp, 'day=d1', '.part-98.csv.tmp-1-x'), 'id,x\n');
  // a slower cadence: the rerun writes fewer files than the failed run numbered
  await write(out, checkpoint, undefined, 1_000);
  await assertEveryRowOnce(out);
  assert.equal((await listTree(out)).includes('day=d0/part-99.csv'), false);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('.')),
    [],
    'no temporary tree is left',
  );
  assert.equal(existsSync(join(checkpoint, 'checkpoint.json')), false);
});

test('rows held for want of an open file (more partitions than maxOpenFiles) are in the checkpointed files; the rerun writes every row once, in order', async () => {
  const dir = tempDir('spillway-partitioned-held-');
  const out = join(dir, 'out');
  const checkpoint = join(dir, 'ckpt');
  // four days in every batch, two open files: two days' rows are held at each checkpoint
  await assert.rejects(write(out, checkpoint, 9, 1, 2), /crash/);
  await write(out, checkpoint, undefined, 1, 2);
  await assertEveryRowOnce(out);
});

test('a checkpoint whose tree lost a file is refused with ERR_SPILLWAY_CHECKPOINT naming it', async () => {
  const dir = tempDir('spillway-partitioned-ckpt-gone-');
  const out = join(dir, 'out');
  const checkpoint = join(dir, 'ckpt');
  await assert.rejects(write(out, checkpoint, 9), /crash/);
  assert.ok(existsSync(join(checkpoint, 'checkpoint.json')), 'the failed run left a checkpoint');
  const temp = join(dir, '.out.tmp-checkpoint');
  rmSync(join(temp, 'day=d2', 'part-0.csv'));
  await assert.rejects(write(out, checkpoint), (error: unknown) => {
    assert.ok(error instanceof SpillwayError);
    assert.equal(error.code, ErrorCodes.CHECKPOINT);
    assert.match(error.message, /day=d2\/part-0\.csv is gone since the checkpoint/);
    return true;
  });
});

test('a run failing while the sink writes a batch of many partitions leaves no temporary file of a writer; the rerun writes every row once', async () => {
  // 100 partitions a batch: the sink's write of one batch opens 100 files, so the failure
  // upstream lands in the middle of it (CI once saw a write go on after the abort and commit
  // files the rerun then wrote again)
  const many = Array.from({ length: 3_000 }, (_, i) => ({ id: i, day: `d${i % 100}` }));
  const run = (out: string, checkpoint: string, fail: boolean) => {
    let batches = 0;
    return pipeline(
      fromIterable(many, { batchSize: 500 }),
      mapBatch(async (batch) => {
        if (!fail || ++batches <= 3) return batch;
        // fail once a checkpoint exists, while the sink writes a later batch
        for (let waited = 0; waited < 2_000 && commits(checkpoint) === 0; waited++)
          await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error('crash');
      }),
      toCsv(out, { partitionBy: ['day'] }),
      { checkpoint: { dir: checkpoint, everyBatches: 1, intervalMs: 60_000 } },
    );
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = tempDir('spillway-partitioned-ckpt-many-');
    const out = join(dir, 'out');
    const checkpoint = join(dir, 'ckpt');
    await assert.rejects(run(out, checkpoint, true), /crash/);
    const state = JSON.parse(readFileSync(join(checkpoint, 'checkpoint.json'), 'utf8')) as {
      sink: { files: Array<[string, number]> };
    };
    const tree = await listTree(join(dir, '.out.tmp-checkpoint'));
    for (const [rel] of state.sink.files) assert.ok(tree.includes(rel), `${rel} is kept`);
    // finished files after the checkpoint may stay (the rerun removes them); a writer's own
    // temporary file would mean a write went on after the abort
    assert.deepEqual(
      tree.filter((rel) => basename(rel).startsWith('.')),
      [],
      'no temporary file is left in the tree',
    );
    await run(out, checkpoint, false);
    const ids = await idsByPartition(out);
    for (let d = 0; d < 100; d++)
      assert.deepEqual(
        [...(ids.get(`day=d${d}`) ?? [])].sort((a, b) => a - b),
        many.filter((r) => r.day === `d${d}`).map((r) => r.id),
        `day=d${d}: every row once`,
      );
  }
});

test("existing: 'append' is refused under a checkpoint before any row (a run killed while its files moved appended them twice when rerun)", async () => {
  const dir = tempDir('spillway-partitioned-ckpt-append-');
  const out = join(dir, 'out');
  const checkpoint = join(dir, 'ckpt');
  await pipeline(fromIterable(rows.slice(0, 10)), toCsv(out, { partitionBy: ['day'] }));
  const before = await listTree(out);
  await assert.rejects(
    pipeline(fromIterable(rows, { batchSize: 100 }), toCsv(out, { partitionBy: ['day'], existing: 'append' }), {
      checkpoint: { dir: checkpoint, everyBatches: 1, intervalMs: 60_000 },
    }),
    (error: unknown) =>
      error instanceof SpillwayError &&
      error.code === ErrorCodes.CHECKPOINT &&
      /existing: 'append'/.test(error.message),
  );
  assert.deepEqual(await listTree(out), before, 'the tree is untouched');
  // without a checkpoint, append works as before
  await pipeline(fromIterable(rows), toCsv(out, { partitionBy: ['day'], existing: 'append' }));
  const all = await pipeline(fromCsv(join(out, '**/*.csv'), { cast: true }), collect());
  assert.equal(all.output.length, rows.length + 10);
});
