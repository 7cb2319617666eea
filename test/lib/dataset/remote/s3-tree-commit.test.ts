/**
 * Partitioned trees on S3 (local s3rver on 127.0.0.1): every part file is written locally before
 * the first upload, `_SPILLWAY_PENDING` goes first and `_SUCCESS` last; a reader during the upload
 * is refused (no half tree is read); a failed upload deletes the parts it put (the prefix is as
 * before); an overwrite that failed after replacing or deleting objects leaves the pending marker, so
 * spillway's reader refuses the prefix with ERR_SPILLWAY_IO until a write completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  pipeline,
  collect,
  fromIterable,
  fromParquet,
  toParquet,
  configureRemote,
  ErrorCodes,
  SpillwayError,
} from '../../../../index.ts';
import { tempDir } from '../../../helpers.ts';
import { useS3 } from './s3-fixture.ts';

const dir = tempDir('spillway-s3-tree-');
const bucket = 'trees';
const s3 = useS3(dir, [bucket]);
const rows = Array.from({ length: 3_000 }, (_, i) => ({ id: i, day: `2026-11-${10 + (i % 3)}`, x: i / 4 }));

async function keys(prefix: string): Promise<string[]> {
  const page = await s3().client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

function isDataPut(command: unknown): command is PutObjectCommand {
  return command instanceof PutObjectCommand && /\.parquet$/.test(command.input.Key ?? '');
}

const incomplete = (e: unknown): boolean =>
  e instanceof SpillwayError && e.code === ErrorCodes.IO && /has not finished writing/.test(e.message);

test('a tree is uploaded after every part was written locally: pending marker first, _SUCCESS last; a reader meanwhile is refused', async () => {
  let sourceDone = false;
  async function* source(): AsyncGenerator<(typeof rows)[number]> {
    yield* rows;
    sourceDone = true;
  }
  const order: string[] = [];
  let readerDuringUpload: unknown;
  configureRemote({
    s3Client: s3().wrap((command) => {
      if (command instanceof PutObjectCommand) {
        order.push(command.input.Key!.replace('t1/', ''));
        if (isDataPut(command)) assert.ok(sourceDone, 'no part is uploaded before the local tree is complete');
        if (order.length === 3)
          return pipeline(fromParquet(`s3://${bucket}/t1/`), collect())
            .then(
              () => undefined,
              (e: unknown) => e,
            )
            .then((e) => {
              readerDuringUpload = e;
              return s3().client.send(command);
            });
      }
      return undefined;
    }),
  });
  try {
    await pipeline(fromIterable(source()), toParquet(`s3://${bucket}/t1`, { partitionBy: ['day'] }));
  } finally {
    configureRemote({});
  }
  assert.deepEqual(order, [
    '_SPILLWAY_PENDING',
    'day=2026-11-10/part-0.parquet',
    'day=2026-11-11/part-0.parquet',
    'day=2026-11-12/part-0.parquet',
    '_SUCCESS',
  ]);
  assert.ok(incomplete(readerDuringUpload), `a read during the upload is refused, got ${String(readerDuringUpload)}`);
  assert.deepEqual(await keys('t1/'), [
    't1/_SUCCESS',
    't1/day=2026-11-10/part-0.parquet',
    't1/day=2026-11-11/part-0.parquet',
    't1/day=2026-11-12/part-0.parquet',
  ]);
  const success = await s3().client.send(new GetObjectCommand({ Bucket: bucket, Key: 't1/_SUCCESS' }));
  assert.equal(JSON.parse(await success.Body!.transformToString()).writer, 'spillway');
  const { output } = await pipeline(fromParquet(`s3://${bucket}/t1/*/*.parquet`), collect());
  assert.equal(output.length, rows.length);
});

test('a failed upload deletes the parts it put: the prefix is empty again', async () => {
  configureRemote({
    s3Client: s3().wrap((command) =>
      isDataPut(command) && command.input.Key!.includes('2026-11-12')
        ? Promise.reject(
            Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 400 }, Code: 'InvalidRequest' }),
          )
        : undefined,
    ),
  });
  try {
    await assert.rejects(
      pipeline(fromIterable(rows), toParquet(`s3://${bucket}/t2`, { partitionBy: ['day'] })),
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO && /PutObject/.test(e.message),
    );
  } finally {
    configureRemote({});
  }
  assert.deepEqual(await keys('t2/'), [], 'no part and no marker is left');
});

test('an overwrite that failed after replacing objects leaves the pending marker; the reader refuses until a write completes', async () => {
  const url = `s3://${bucket}/t3`;
  await pipeline(fromIterable(rows), toParquet(url, { partitionBy: ['day'] }));
  configureRemote({
    s3Client: s3().wrap((command) =>
      isDataPut(command) && command.input.Key!.includes('2026-11-11')
        ? Promise.reject(
            Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 500 }, Code: 'InternalError' }),
          )
        : undefined,
    ),
  });
  try {
    await assert.rejects(
      pipeline(fromIterable(rows), toParquet(url, { partitionBy: ['day'], existing: 'overwrite' })),
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO,
    );
  } finally {
    configureRemote({});
  }
  const left = await keys('t3/');
  assert.ok(left.includes('t3/_SPILLWAY_PENDING') && !left.includes('t3/_SUCCESS'), left.join(', '));
  await assert.rejects(pipeline(fromParquet(url), collect()), incomplete);
  await assert.rejects(pipeline(fromParquet(`${url}/day=*/*.parquet`), collect()), incomplete);
  await pipeline(fromIterable(rows), toParquet(url, { partitionBy: ['day'], existing: 'overwrite' }));
  assert.deepEqual(await keys('t3/_'), ['t3/_SUCCESS']);
  assert.equal((await pipeline(fromParquet(url), collect())).output.length, rows.length);
});

test('an overwrite that failed after deleting old objects (no key replaced) leaves the pending marker too, not an empty committed tree', async () => {
  const url = `s3://${bucket}/t4`;
  await pipeline(fromIterable(rows), toParquet(url, { partitionBy: ['day'] }));
  const other = rows.map((r) => ({ ...r, day: `other-${r.day}` }));
  configureRemote({
    s3Client: s3().wrap((command) =>
      command instanceof PutObjectCommand && command.input.Key === 't4/_SUCCESS'
        ? Promise.reject(
            Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 500 }, Code: 'InternalError' }),
          )
        : undefined,
    ),
  });
  try {
    await assert.rejects(
      pipeline(fromIterable(other), toParquet(url, { partitionBy: ['day'], existing: 'overwrite' })),
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO,
    );
  } finally {
    configureRemote({});
  }
  assert.deepEqual(await keys('t4/'), ['t4/_SPILLWAY_PENDING'], 'the old parts were deleted; no _SUCCESS is put back');
});
