/**
 * Checkpointed partitioned writes to s3://, against a local S3 server: a run that fails after its
 * first checkpoint uploads nothing and keeps its local tree under the checkpoint directory; the
 * rerun resumes it (uploading nothing before its end either), and the tree read back from S3 holds
 * exactly the rows of an uninterrupted run, with no local tree or checkpoint left. A resumed run
 * whose prefix got objects meanwhile follows `existing` as a fresh run does. SIGKILLs of local
 * partitioned writes: test/e2e/dataset-resume-jsonl.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  pipeline,
  collect,
  fromIterable,
  fromParquet,
  mapBatch,
  toParquet,
  ErrorCodes,
  SpillwayError,
} from '../../../../index.ts';
import { tempDir } from '../../../helpers.ts';
import { checkpointCommits, crashAfterCommit, useS3, useUploadTmp } from './s3-fixture.ts';

const dir = tempDir('spillway-s3-checkpoint-');
const bucket = 'spillway-ckpt';
const s3 = useS3(dir, [bucket]);
// uploads of unchecked runs stage under os.tmpdir(): this file's own, to check none is left
const uploadTmp = useUploadTmp(dir);

interface Row {
  id: number;
  day: string;
  x: number;
}
const rows: Row[] = Array.from({ length: 2_000 }, (_, i) => ({ id: i, day: `d${i % 4}`, x: i / 2 }));

/** The keys under `prefix/`. */
async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3().client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

/**
 * rows -> toParquet(s3://bucket/prefix, partitionBy day) with a checkpoint. With `failFrom`, the
 * run fails at the first batch from that one on that finds a checkpoint written (each batch waits
 * a little for the next commit, so a slow machine still leaves one). `seen` collects the number of
 * keys under the prefix at every batch.
 */
function write(
  prefix: string,
  ckpt: string,
  options: { failFrom?: number; existing?: 'overwrite' | 'append'; seen?: number[] },
) {
  const { failFrom, existing, seen } = options;
  const crash = crashAfterCommit(ckpt, failFrom);
  return pipeline(
    fromIterable(rows, { batchSize: 100 }),
    mapBatch(async (batch) => {
      if (seen) seen.push((await keysUnder(prefix)).length);
      await crash();
      return batch;
    }),
    toParquet(`s3://${bucket}/${prefix}`, { partitionBy: ['day'], ...(existing ? { existing } : {}) }),
    { checkpoint: { dir: ckpt, everyBatches: 1, intervalMs: 60_000 } },
  );
}

/** The rows of the tree under `prefix`, read back from S3, sorted by id. */
async function readBack(prefix: string): Promise<Row[]> {
  const { output } = await pipeline(
    fromParquet(`s3://${bucket}/${prefix}`, { hiveTypes: { day: 'string' } }),
    collect<Row>(),
  );
  return output.map((r) => ({ id: Number(r.id), day: r.day, x: r.x })).sort((a, b) => a.id - b.id);
}

test('a failed checkpointed write to s3:// uploads nothing; the resumed run uploads the rows of an uninterrupted run once', async () => {
  const ckpt = join(dir, 'ckpt-resume');
  await pipeline(fromIterable(rows, { batchSize: 100 }), toParquet(`s3://${bucket}/whole`, { partitionBy: ['day'] }));
  await assert.rejects(write('resumed', ckpt, { failFrom: 5 }), /crash/);
  assert.ok(checkpointCommits(ckpt) > 0, 'the failed run left a checkpoint');
  assert.deepEqual(await keysUnder('resumed'), [], 'a failed run uploads nothing under the prefix');
  const local = join(ckpt, 'upload', '.tree.tmp-checkpoint');
  assert.ok(existsSync(local), 'the local tree is kept under the checkpoint directory');
  // what a run killed after its checkpoint could leave: a finished file not in the checkpoint
  writeFileSync(join(local, 'day=d0', 'part-99.parquet'), 'not parquet');
  const seen: number[] = [];
  const { output } = await write('resumed', ckpt, { seen });
  assert.ok(seen.length > 0 && seen.every((n) => n === 0), `objects appeared before the end: ${seen.join(',')}`);
  const back = await readBack('resumed');
  assert.equal(back.length, rows.length, 'rows missing or repeated');
  assert.deepEqual(back, rows);
  assert.deepEqual(back, await readBack('whole'));
  assert.equal((output as { path: string }).path, `s3://${bucket}/resumed`);
  const keys = await keysUnder('resumed');
  assert.ok(keys.includes('resumed/_SUCCESS'));
  assert.equal(
    keys.some((k) => k.endsWith('part-99.parquet')),
    false,
  );
  assert.equal(existsSync(ckpt), false, 'the checkpoint directory and its local tree are removed');
  assert.deepEqual(readdirSync(uploadTmp), [], 'no temporary upload directory is left');
});

test('a checkpointed run with no checkpoint to resume removes what an earlier run left in the local directory', async () => {
  const ckpt = join(dir, 'ckpt-fresh');
  mkdirSync(join(ckpt, 'upload', 'tree', 'day=d9'), { recursive: true });
  writeFileSync(join(ckpt, 'upload', 'tree', 'day=d9', 'part-0.parquet'), 'left by a killed upload');
  await write('fresh', ckpt, {});
  assert.deepEqual(await readBack('fresh'), rows);
  assert.equal(existsSync(ckpt), false);
});

test('a resumed run whose prefix got objects meanwhile follows `existing` as a fresh run does', async () => {
  const ckpt = join(dir, 'ckpt-existing');
  await assert.rejects(write('existing', ckpt, { failFrom: 5 }), /crash/);
  const put = { Bucket: bucket, Key: 'existing/stray.txt', Body: 'x' };
  await s3().client.send(new PutObjectCommand(put));
  await assert.rejects(write('existing', ckpt, {}), (error: unknown) => {
    assert.ok(error instanceof SpillwayError);
    assert.equal(error.code, ErrorCodes.IO);
    assert.match(error.message, /options\.existing is 'error'/);
    return true;
  });
  assert.deepEqual(await keysUnder('existing'), ['existing/stray.txt']);
  assert.ok(checkpointCommits(ckpt) > 0, 'the refused run keeps the checkpoint');
  await s3().client.send(new DeleteObjectCommand({ Bucket: bucket, Key: put.Key }));
  await write('existing', ckpt, {});
  assert.deepEqual(await readBack('existing'), rows);

  const ckptOver = join(dir, 'ckpt-overwrite');
  await assert.rejects(write('over', ckptOver, { failFrom: 5, existing: 'overwrite' }), /crash/);
  await s3().client.send(new PutObjectCommand({ ...put, Key: 'over/stray.txt' }));
  await write('over', ckptOver, { existing: 'overwrite' });
  assert.equal((await keysUnder('over')).includes('over/stray.txt'), false, 'overwrite replaces what appeared');
  assert.deepEqual(await readBack('over'), rows);
  assert.equal(existsSync(ckptOver), false);
});

test("existing: 'append' to s3:// is refused under a checkpoint before anything is uploaded (a rerun would upload it again)", async () => {
  const ckpt = join(dir, 'ckpt-append');
  await assert.rejects(
    write('append', ckpt, { existing: 'append' }),
    (error: unknown) =>
      error instanceof SpillwayError &&
      error.code === ErrorCodes.CHECKPOINT &&
      /existing: 'append'/.test(error.message),
  );
  assert.deepEqual(await keysUnder('append'), []);
});
