/**
 * An s3:// sink enters its commit point just before the request that makes the object visible
 * (PutObject, CompleteMultipartUpload) or before a tree's first upload (lib/io/commit-point.ts):
 * an abort after that point, while the sink still finishes, is too late, so the run resolves and
 * the object is whole; an abort before it leaves no object and no upload directory.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { pipeline, fromIterable, fromParquet, collect, toParquet } from '../../../../index.ts';
import type { BatchSink } from '../../../../lib/core/sink.ts';
import { abortAfterCommitPoint, tempDir } from '../../../helpers.ts';
import { useS3, useUploadTmp } from './s3-fixture.ts';

const dir = tempDir('spillway-remote-s3-commit-');
const bucket = 'spillway-commit';
const s3 = useS3(dir, [bucket]);
const savedTmp = process.env.TMPDIR;
const uploadTmp = useUploadTmp(dir);
after(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
});

const rows = Array.from({ length: 3000 }, (_, i) => ({ id: i, day: `d${i % 3}`, name: `name-${i}` }));

async function keys(prefix: string): Promise<string[]> {
  const listed = (await s3().client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))) as {
    Contents?: { Key?: string }[];
  };
  return (listed.Contents ?? []).map((c) => c.Key!).sort();
}

test('s3:// file: an abort after the commit point resolves with the whole object', async () => {
  const controller = new AbortController();
  const sink = toParquet(`s3://${bucket}/late.parquet`) as BatchSink<unknown>;
  const abortedLate = abortAfterCommitPoint(sink, controller);
  const { output } = await pipeline(fromIterable(rows, { batchSize: 500 }), sink, { signal: controller.signal });
  assert.equal(abortedLate(), true);
  assert.equal((output as { rows: number }).rows, rows.length);
  const object = await s3().client.send(new GetObjectCommand({ Bucket: bucket, Key: 'late.parquet' }));
  assert.ok(object.ContentLength! > 0);
  const back = await pipeline(fromParquet(`s3://${bucket}/late.parquet`), collect());
  assert.equal((back.output as unknown[]).length, rows.length);
  assert.deepEqual(
    readdirSync(uploadTmp).filter((n) => n.startsWith('spillway-upload-')),
    [],
  );
});

test('s3:// partitioned tree: an abort after the commit point resolves with the whole tree', async () => {
  const controller = new AbortController();
  const sink = toParquet(`s3://${bucket}/tree`, { partitionBy: ['day'] }) as unknown as BatchSink<unknown>;
  const abortedLate = abortAfterCommitPoint(sink, controller);
  await pipeline(fromIterable(rows, { batchSize: 500 }), sink, { signal: controller.signal });
  assert.equal(abortedLate(), true);
  const written = await keys('tree/');
  assert.ok(written.includes('tree/_SUCCESS'), `the tree is committed: ${written.join(', ')}`);
  assert.equal(written.filter((k) => k.endsWith('.parquet')).length, 3);
});

test('s3:// file: an abort when the sink begins to finish leaves no object', async () => {
  const controller = new AbortController();
  const sink = toParquet(`s3://${bucket}/early.parquet`) as BatchSink<unknown>;
  const final = sink._final.bind(sink);
  sink._final = (callback) => {
    final(callback);
    controller.abort(new Error('before the upload'));
  };
  await assert.rejects(pipeline(fromIterable(rows, { batchSize: 500 }), sink, { signal: controller.signal }), {
    code: 'ERR_SPILLWAY_ABORTED',
  });
  assert.deepEqual(await keys('early'), []);
  assert.deepEqual(
    readdirSync(uploadTmp).filter((n) => n.startsWith('spillway-upload-')),
    [],
  );
});
