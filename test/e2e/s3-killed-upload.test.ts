/**
 * A partitioned write to s3:// really SIGKILLed during its upload (s3-killed-upload-child.ts,
 * stalled at its second part file, on a local s3rver): it leaves `_SPILLWAY_PENDING`, naming the
 * child's pid, and its first part; readers refuse the prefix; the next write, with
 * `existing: 'error'`, removes both and writes its tree (other partitions), leaving no stray key in the bucket.
 * Locally, the killed child leaves its `spillway-upload-*` directory (its `.owner` names the child);
 * the next write removes it, and its own.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ROOT, nodeScript, tempDir } from '../helpers.ts';
import {
  closeRemote,
  collect,
  configureRemote,
  fromIterable,
  fromParquet,
  pipeline,
  toParquet,
  ErrorCodes,
  SpillwayError,
} from '../../index.ts';
import { startS3, useUploadTmp, type S3Fixture } from '../lib/dataset/remote/s3-fixture.ts';

const dir = tempDir('spillway-s3-killed-');
// the child and this process stage their uploads under one temporary directory of this file's own
const uploadTmp = useUploadTmp(dir);
const SCRIPT = join(ROOT, 'test/e2e/s3-killed-upload-child.ts');
let s3: S3Fixture;

before(async () => {
  s3 = await startS3(dir, ['killed']);
});
after(async () => {
  closeRemote();
  await s3?.close();
});

/** Runs the child until it stalls its upload, then SIGKILLs it; returns its pid. */
function killDuringUpload(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeScript(SCRIPT), url, '2'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...s3.env, TMPDIR: uploadTmp },
    });
    let out = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('U')) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) =>
      signal === 'SIGKILL' ? resolve(child.pid!) : reject(new Error(`the child was not killed: ${out} ${stderr}`)),
    );
  });
}

/** The local upload directories under the shared TMPDIR (tsx keeps its cache there too). */
function uploadDirs(): string[] {
  return readdirSync(uploadTmp).filter((n) => n.startsWith('spillway-upload-'));
}

async function bucketKeys(): Promise<string[]> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'killed' }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

test('a tree upload SIGKILLed midway: the next write with existing "error" clears its leftovers and writes the tree', async () => {
  const pid = await killDuringUpload('s3://killed/tree');
  const left = await bucketKeys();
  assert.equal(left.length, 2, left.join(', '));
  assert.equal(left[0], 'tree/_SPILLWAY_PENDING');
  assert.match(left[1]!, /^tree\/day=d\d\/part-0\.parquet$/);
  const marker = await s3.client.send(new GetObjectCommand({ Bucket: 'killed', Key: 'tree/_SPILLWAY_PENDING' }));
  const record = JSON.parse(await marker.Body!.transformToString()) as { owner: { pid: number }; keys: string[] };
  assert.equal(record.owner.pid, pid, 'the marker names the killed process');
  assert.equal(record.keys.length, 3);
  const staged = uploadDirs();
  assert.equal(staged.length, 1, staged.join(', '));
  const owner = readFileSync(join(uploadTmp, staged[0]!, '.owner'), 'utf8');
  assert.equal(Number(owner.split(' ')[0]), pid, 'the local upload directory names the killed process');
  s3.useEnv();
  configureRemote({});
  await assert.rejects(
    pipeline(fromParquet('s3://killed/tree'), collect()),
    (e: unknown) =>
      e instanceof SpillwayError && e.code === ErrorCodes.IO && /has not finished writing/.test(e.message),
  );
  const rows = Array.from({ length: 600 }, (_, i) => ({ id: i, day: `n${i % 2}`, x: i }));
  await pipeline(fromIterable(rows), toParquet('s3://killed/tree', { partitionBy: ['day'] }));
  assert.deepEqual(await bucketKeys(), ['tree/_SUCCESS', 'tree/day=n0/part-0.parquet', 'tree/day=n1/part-0.parquet']);
  assert.deepEqual(uploadDirs(), [], "the killed write's local directory and the next write's own are gone");
  const { output } = await pipeline(
    fromParquet('s3://killed/tree', { hiveTypes: { day: 'string' } }),
    collect<{ id: number }>(),
  );
  assert.deepEqual(
    output.map((r) => Number(r.id)).sort((a, b) => a - b),
    rows.map((r) => r.id),
  );
});
