/**
 * Checkpointed writes of a single object to s3:// (toParquet, toCsv), against a local S3 server:
 * a run that fails after its first checkpoint uploads nothing and keeps its local file under the
 * checkpoint directory; the rerun resumes it (fewer batches, nothing uploaded before its end) and
 * the object holds exactly the bytes of an uninterrupted run, with no local file or checkpoint
 * left. SIGKILLs: test/e2e/dataset-resume.test.ts. Trees: s3-checkpoint.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { pipeline, collect, fromIterable, fromParquet, mapBatch, toCsv, toParquet } from '../../../../index.ts';
import type { BatchSink } from '../../../../lib/core/sink.ts';
import { tempDir } from '../../../helpers.ts';
import { checkpointCommits, crashAfterCommit, useS3, useUploadTmp } from './s3-fixture.ts';

const dir = tempDir('spillway-s3-checkpoint-object-');
const bucket = 'spillway-ckpt-one';
const s3 = useS3(dir, [bucket]);
// uploads of unchecked runs stage under os.tmpdir(): this file's own, to check none is left
const uploadTmp = useUploadTmp(dir);

interface Row {
  id: number;
  name: string;
  x: number;
}
const rows: Row[] = Array.from({ length: 3_000 }, (_, i) => ({ id: i, name: `n${i % 7}`, x: i / 2 }));
const BATCH = 100;

/** The keys of the bucket starting with `key`. */
async function keysAt(key: string): Promise<string[]> {
  const listed = await s3().client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

async function bytesOf(key: string): Promise<Buffer> {
  const got = await s3().client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/**
 * rows -> `sink` with a checkpoint (every batch). With `failFrom`, the run fails at the first
 * batch from that one on that finds a checkpoint written (each batch waits a little for the next
 * commit). `seen` collects the number of keys at `key` at every batch; returns the batches seen.
 */
async function write(
  sink: BatchSink<unknown>,
  ckpt: string,
  options: { failFrom?: number; key: string; seen?: number[] },
): Promise<number> {
  let batches = 0;
  const { failFrom, key, seen } = options;
  const crash = crashAfterCommit(ckpt, failFrom);
  await pipeline(
    fromIterable(rows, { batchSize: BATCH }),
    mapBatch(async (batch) => {
      batches++;
      if (seen) seen.push((await keysAt(key)).length);
      await crash();
      return batch;
    }),
    sink,
    { checkpoint: { dir: ckpt, everyBatches: 1, intervalMs: 60_000 } },
  );
  return batches;
}

const formats = [
  { name: 'toParquet', key: 'one/rows.parquet', sink: (url: string) => toParquet(url, { rowGroupSize: 500 }) },
  { name: 'toCsv', key: 'one/rows.csv', sink: (url: string) => toCsv(url) },
];

for (const f of formats) {
  test(`${f.name} to one s3:// object: a failed checkpointed run uploads nothing; the resumed run uploads an uninterrupted run's bytes`, async () => {
    const ckpt = join(dir, `ckpt-${f.name}`);
    const whole = `whole-${f.key}`;
    await pipeline(fromIterable(rows, { batchSize: BATCH }), f.sink(`s3://${bucket}/${whole}`));
    await assert.rejects(write(f.sink(`s3://${bucket}/${f.key}`), ckpt, { failFrom: 8, key: f.key }), /crash/);
    assert.ok(checkpointCommits(ckpt) > 0, 'the failed run left a checkpoint');
    assert.deepEqual(await keysAt(f.key), [], 'a failed run uploads nothing');
    assert.ok(readdirSync(join(ckpt, 'upload')).length > 0, 'the local file is kept under the checkpoint directory');
    const seen: number[] = [];
    const batches = await write(f.sink(`s3://${bucket}/${f.key}`), ckpt, { key: f.key, seen });
    assert.ok(batches < rows.length / BATCH, `the rerun resumed (${batches} batches of ${rows.length / BATCH})`);
    assert.ok(seen.length > 0 && seen.every((n) => n === 0), `the object appeared before the end: ${seen.join(',')}`);
    assert.deepEqual(await keysAt(f.key), [f.key]);
    assert.ok((await bytesOf(f.key)).equals(await bytesOf(whole)), 'the object differs from an uninterrupted run');
    assert.equal(existsSync(ckpt), false, 'the checkpoint directory and its local file are removed');
    assert.deepEqual(readdirSync(uploadTmp), [], 'no temporary upload directory is left');
  });
}

test('the resumed Parquet object reads back as every row once, in order', async () => {
  const { output } = await pipeline(fromParquet(`s3://${bucket}/one/rows.parquet`), collect<Row>());
  assert.deepEqual(
    output.map((r) => ({ id: Number(r.id), name: r.name, x: r.x })),
    rows,
  );
});

test('a checkpoint of one object is bound to its URL: another key is another pipeline', async () => {
  const ckpt = join(dir, 'ckpt-identity');
  const url = `s3://${bucket}/ident/a.csv`;
  await assert.rejects(write(toCsv(url), ckpt, { failFrom: 8, key: 'ident/' }), /crash/);
  await assert.rejects(write(toCsv(`s3://${bucket}/ident/b.csv`), ckpt, { key: 'ident/' }), /another pipeline/);
  await write(toCsv(url), ckpt, { key: 'ident/' });
  assert.deepEqual(await keysAt('ident/'), ['ident/a.csv']);
  assert.equal(existsSync(ckpt), false);
});
