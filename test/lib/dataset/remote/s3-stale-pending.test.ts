/**
 * A tree upload whose process died (SIGKILL during the upload, simulated here by putting its
 * `_SPILLWAY_PENDING` marker, with a dead pid, and some of its part objects into a local s3rver):
 * the next write to the prefix recognises the dead writer from the marker, deletes exactly the
 * objects the marker lists (nothing outside the prefix, nothing of a committed tree), puts back an
 * older `_SUCCESS`, and goes on as a fresh write, `existing: 'error'` included. A marker of a live
 * process, of another host less than a day old, or of a dead overwrite that may have replaced old
 * objects is still refused; a real commit lists its writer and keys before its first upload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  pipeline,
  collect,
  configureRemote,
  fromIterable,
  fromParquet,
  toParquet,
  ErrorCodes,
  SpillwayError,
} from '../../../../index.ts';
import { tempDir } from '../../../helpers.ts';
import { useS3 } from './s3-fixture.ts';

const dir = tempDir('spillway-s3-stale-');
const bucket = 'stale';
const s3 = useS3(dir, [bucket]);

interface Row {
  id: number;
  day: string;
  x: number;
}
const rowsFrom = (from: number, n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, day: `d${(from + i) % 3}`, x: (from + i) / 2 }));
const rows = rowsFrom(0, 900);
/** A pid no process has now: a child that ran and exited. */
const DEAD_PID = spawnSync(process.execPath, ['-e', '']).pid!;

/** Every key of the bucket, sorted. */
async function bucketKeys(): Promise<string[]> {
  const listed = await s3().client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

async function put(key: string, body: string | Uint8Array = 'x'): Promise<void> {
  await s3().client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function body(key: string): Promise<Uint8Array> {
  const got = await s3().client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return got.Body!.transformToByteArray();
}

/** Puts the pending marker of a commit that uploads `keys`, by `owner` (default: a dead process of this host). */
async function putMarker(prefix: string, keys: string[], fields: Record<string, unknown> = {}): Promise<void> {
  const marker = {
    writer: 'spillway',
    owner: { host: hostname(), pid: DEAD_PID, start: null },
    startedAt: new Date().toISOString(),
    keys,
    replacesOld: false,
    hadSuccess: false,
    ...fields,
  };
  await put(`${prefix}/_SPILLWAY_PENDING`, JSON.stringify(marker));
}

function write(prefix: string, data: Row[], existing?: 'append' | 'overwrite') {
  return pipeline(
    fromIterable(data, { batchSize: 200 }),
    toParquet(`s3://${bucket}/${prefix}`, { partitionBy: ['day'], ...(existing ? { existing } : {}) }),
  );
}

async function readBack(prefix: string): Promise<Row[]> {
  const { output } = await pipeline(
    fromParquet(`s3://${bucket}/${prefix}`, { hiveTypes: { day: 'string' } }),
    collect<Row>(),
  );
  return output.map((r) => ({ id: Number(r.id), day: r.day, x: r.x })).sort((a, b) => a.id - b.id);
}

function refused(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof SpillwayError, String(error));
    assert.equal(error.code, ErrorCodes.IO);
    assert.match(error.message, pattern);
    return true;
  };
}

const treeKeys = (prefix: string): string[] => [
  `${prefix}/_SUCCESS`,
  `${prefix}/day=d0/part-0.parquet`,
  `${prefix}/day=d1/part-0.parquet`,
  `${prefix}/day=d2/part-0.parquet`,
];

test('an upload killed midway (dead pid): the next write, existing "error", removes its leftovers and writes the tree', async () => {
  await put('elsewhere/keep.txt');
  const listed = ['t1/day=d0/part-0.parquet', 't1/day=old/part-0.parquet', 't1/day=d9/part-0.parquet'];
  // two of its three parts were uploaded; the marker also names a key outside its prefix
  await putMarker('t1', [...listed, 'elsewhere/keep.txt']);
  await put(listed[0]!, 'half');
  await put(listed[1]!, 'half');
  await write('t1', rows);
  assert.deepEqual(await bucketKeys(), ['elsewhere/keep.txt', ...treeKeys('t1')]);
  assert.deepEqual(await readBack('t1'), rows);
});

test('a pending marker of a live process is refused (existing "error" and "append"); nothing is deleted', async () => {
  await put('t2/day=d0/part-0.parquet', 'being uploaded');
  await putMarker('t2', ['t2/day=d0/part-0.parquet'], { owner: { host: hostname(), pid: process.pid, start: null } });
  const before = await bucketKeys();
  const live = /is being written by another spillway run \(pid \d+ on host/;
  await assert.rejects(write('t2', rows), refused(live));
  await assert.rejects(write('t2', rows, 'append'), refused(live));
  assert.deepEqual(await bucketKeys(), before);
  // a marker that lists no keys (an older spillway's) cannot be cleaned either
  await put('t2/_SPILLWAY_PENDING', JSON.stringify({ writer: 'spillway', startedAt: '2020-01-01T00:00:00Z' }));
  await assert.rejects(write('t2', rows, 'append'), refused(/does not say which objects its write uploaded/));
  assert.deepEqual(await bucketKeys(), before);
});

test("another host's marker is trusted for a day, and cleaned up after", async () => {
  await put('t3/day=d1/part-0.parquet', 'half');
  const owner = { host: 'another-host.invalid', pid: process.pid, start: null };
  await putMarker('t3', ['t3/day=d1/part-0.parquet'], { owner });
  await assert.rejects(write('t3', rows), refused(/is being written by another spillway run/));
  const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000).toISOString();
  await putMarker('t3', ['t3/day=d1/part-0.parquet'], { owner, startedAt: twoDaysAgo });
  await write('t3', rows);
  assert.deepEqual(
    (await bucketKeys()).filter((k) => k.startsWith('t3/')),
    treeKeys('t3'),
  );
  assert.deepEqual(await readBack('t3'), rows);
});

test('a dead append: the older tree and its _SUCCESS are given back, and the next append adds its rows once; after _SUCCESS only the marker goes', async () => {
  await write('t4', rows);
  const leftover = 't4/day=d0/part-0123abcd-0.parquet';
  // the dead append had deleted _SUCCESS and uploaded one of its two files (a valid Parquet file)
  await s3().client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 't4/_SUCCESS' }));
  await put(leftover, await body('t4/day=d0/part-0.parquet'));
  await putMarker('t4', [leftover, 't4/day=d1/part-0123abcd-0.parquet'], { hadSuccess: true });
  const more = rowsFrom(900, 600);
  await write('t4', more, 'append');
  const keys = await bucketKeys();
  assert.equal(keys.includes(leftover), false, 'the leftover is deleted');
  assert.ok(keys.includes('t4/_SUCCESS') && !keys.includes('t4/_SPILLWAY_PENDING'));
  assert.deepEqual(await readBack('t4'), [...rows, ...more], 'every row once');
  // killed after its _SUCCESS: the tree is committed, only the marker goes
  const committed = (await bucketKeys()).filter((k) => k.startsWith('t4/day='));
  await putMarker('t4', committed);
  const last = rowsFrom(1_500, 300);
  await write('t4', last, 'append');
  const after = await bucketKeys();
  for (const key of committed) assert.ok(after.includes(key), `${key} is kept`);
  assert.deepEqual(await readBack('t4'), [...rows, ...more, ...last]);
});

test('a dead overwrite that may have replaced objects: refused but by "overwrite", readers refuse it', async () => {
  await write('t6', rows);
  await s3().client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 't6/_SUCCESS' }));
  await putMarker('t6', treeKeys('t6').slice(1), { replacesOld: true, hadSuccess: true });
  await assert.rejects(write('t6', rows, 'append'), refused(/may have replaced objects of the tree before it/));
  await assert.rejects(readBack('t6'), refused(/has not finished writing/));
  await write('t6', rows, 'overwrite');
  assert.deepEqual(
    (await bucketKeys()).filter((k) => k.startsWith('t6/')),
    treeKeys('t6'),
  );
  assert.deepEqual(await readBack('t6'), rows);
});

test('a commit records its writer and every key it will upload in the marker, before its first upload', async () => {
  let marker: Record<string, unknown> | undefined;
  configureRemote({
    s3Client: s3().wrap((command) => {
      if (!(command instanceof PutObjectCommand) || !command.input.Key!.endsWith('.parquet') || marker)
        return undefined;
      return body('t7/_SPILLWAY_PENDING').then((bytes) => {
        marker = JSON.parse(Buffer.from(bytes).toString()) as Record<string, unknown>;
        return s3().client.send(command);
      });
    }),
  });
  try {
    await write('t7', rows);
  } finally {
    configureRemote({});
  }
  assert.ok(marker, 'the marker was there at the first upload');
  assert.deepEqual(marker.owner, {
    host: hostname(),
    pid: process.pid,
    start: (marker.owner as { start: unknown }).start,
  });
  assert.deepEqual([...(marker.keys as string[])].sort(), treeKeys('t7').slice(1));
  assert.equal(marker.replacesOld, false);
});
