/**
 * s3:// for every source and sink, against a local S3 server (s3rver) on 127.0.0.1 that the
 * tests start and stop: the rows read back equal the local files' rows, globs and prefixes list
 * datasets, partitioned trees upload under a prefix, large outputs go in multipart uploads that
 * are aborted on failure (no object under the key), an object replaced mid-read is an IoError,
 * a missing SDK is a coded error, and credentials never appear in errors.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  HeadObjectCommand,
  PutObjectCommand,
  GetObjectCommand,
  UploadPartCommand,
  AbortMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import {
  pipeline,
  collect,
  fromIterable,
  fromCsv,
  fromJsonl,
  fromParquet,
  fromArrow,
  toCsv,
  toJsonl,
  toParquet,
  toArrow,
  configureRemote,
  ErrorCodes,
  SpillwayError,
} from '../../../../index.ts';
import type { BatchSource } from '../../../../lib/core/source.ts';
import type { BatchSink } from '../../../../lib/core/sink.ts';
import { importS3Module } from '../../../../lib/dataset/remote/s3-client.ts';
import { tempDir } from '../../../helpers.ts';
import { useS3, useUploadTmp } from './s3-fixture.ts';

const dir = tempDir('spillway-remote-s3-');
const bucket = 'spillway-test';
const s3 = useS3(dir, [bucket]);
const savedTmp = process.env.TMPDIR;
// Uploads stage under os.tmpdir(): give this file its own, so test files running beside it
// (their own uploads come and go in the shared /tmp) cannot change the count it checks.
const uploadTmp = useUploadTmp(dir);

const rows = Array.from({ length: 5_000 }, (_, i) => ({
  id: i,
  day: `2026-11-${10 + (i % 3)}`,
  name: `name-${i}`,
  x: i / 8,
}));

function uploadDirs(): string[] {
  return readdirSync(uploadTmp).filter((n) => n.startsWith('spillway-upload-'));
}

after(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
});

async function read(source: BatchSource<any>): Promise<unknown[]> {
  const { output } = await pipeline(source, collect());
  return output as unknown[];
}

type Format = { ext: string; sink: (t: string) => BatchSink<any>; source: (i: string) => BatchSource<any> };
const formats: Format[] = [
  { ext: 'csv', sink: (t) => toCsv(t), source: (i) => fromCsv(i, { cast: true }) as BatchSource<any> },
  { ext: 'jsonl', sink: (t) => toJsonl(t), source: (i) => fromJsonl(i) as BatchSource<any> },
  { ext: 'jsonl.gz', sink: (t) => toJsonl(t), source: (i) => fromJsonl(i) as BatchSource<any> },
  {
    ext: 'parquet',
    sink: (t) => toParquet(t, { rowGroupSize: 500 }),
    source: (i) => fromParquet(i) as BatchSource<any>,
  },
  { ext: 'arrow', sink: (t) => toArrow(t), source: (i) => fromArrow(i) as BatchSource<any> },
];

test('every sink writes s3:// and every source reads it back as the local file reads', async () => {
  const before = uploadDirs().length;
  for (const f of formats) {
    const local = join(dir, `single.${f.ext}`);
    const url = `s3://${bucket}/single/data.${f.ext}`;
    await pipeline(fromIterable(rows, { batchSize: 1_000 }), f.sink(local));
    const { output } = await pipeline(fromIterable(rows, { batchSize: 1_000 }), f.sink(url));
    assert.equal((output as { path: string }).path, url);
    const expected = await read(f.source(local));
    assert.equal(expected.length, rows.length);
    assert.deepEqual(await read(f.source(url)), expected, f.ext);
  }
  assert.equal(uploadDirs().length, before, 'no temporary upload directory left');
});

test('a partitioned tree uploads under a prefix; prefixes and globs read it with hive columns and pruning', async () => {
  const localTree = join(dir, 'tree');
  await pipeline(fromIterable(rows), toParquet(localTree, { partitionBy: ['day'] }));
  const { output } = await pipeline(fromIterable(rows), toParquet(`s3://${bucket}/trades`, { partitionBy: ['day'] }));
  assert.deepEqual((output as { files: string[] }).files, [
    'day=2026-11-10/part-0.parquet',
    'day=2026-11-11/part-0.parquet',
    'day=2026-11-12/part-0.parquet',
  ]);
  const expected = await read(fromParquet(localTree));
  assert.deepEqual(await read(fromParquet(`s3://${bucket}/trades`)), expected);
  assert.deepEqual(await read(fromParquet(`s3://${bucket}/trades/`)), expected);
  assert.deepEqual(await read(fromParquet(`s3://${bucket}/trades/*/*.parquet`)), expected);
  const where = { col: 'day', op: '=', value: '2026-11-11' } as const;
  const pruned = await pipeline(
    fromParquet(`s3://${bucket}/tr*/**/*.parquet`, { where, hiveTypes: { day: 'string' } }),
    collect(),
  );
  assert.deepEqual(pruned.output, await read(fromParquet(localTree, { where, hiveTypes: { day: 'string' } })));
  assert.equal(pruned.stats.stages[0]!.details.filesPruned, 2);
  // existing: 'error' refuses a prefix that holds objects; 'overwrite' replaces the tree
  await assert.rejects(
    pipeline(fromIterable(rows), toParquet(`s3://${bucket}/trades`, { partitionBy: ['day'] })),
    (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO,
  );
  await pipeline(
    fromIterable(rows.filter((r) => r.day !== '2026-11-12')),
    toParquet(`s3://${bucket}/trades`, { partitionBy: ['day'], existing: 'overwrite' }),
  );
  assert.equal(
    (await read(fromParquet(`s3://${bucket}/trades`))).length,
    rows.filter((r) => r.day !== '2026-11-12').length,
  );
});

test('Parquet over S3 reads the footer and the needed row groups only', async () => {
  const url = `s3://${bucket}/single/large.parquet`;
  const many = Array.from({ length: 200_000 }, (_, i) => ({ id: i, name: `name-${i}` }));
  await pipeline(fromIterable(many), toParquet(url, { rowGroupSize: 20_000 }));
  const { output, stats } = await pipeline(fromParquet(url, { where: { col: 'id', op: '<', value: 100 } }), collect());
  assert.equal(output.length, 100);
  const head = await s3().client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'single/large.parquet' }));
  const read = stats.stages[0]!.details.bytesRead as number;
  assert.ok(read < head.ContentLength! / 4, `${read} of ${head.ContentLength} bytes read`);
});

test('large outputs go in multipart uploads; a failed part aborts the upload and leaves no object', async () => {
  const big = Array.from({ length: 60_000 }, (_, i) => ({ id: i, pad: 'x'.repeat(100) }));
  configureRemote({ multipartThreshold: '1MB', partSize: 5 * 1024 * 1024 });
  try {
    const url = `s3://${bucket}/big/data.csv`;
    const { stats } = await pipeline(fromIterable(big), toCsv(url));
    assert.equal(stats.stages.at(-1)!.details.uploadParts, 2);
    assert.deepEqual(await read(fromCsv(url, { cast: true }) as BatchSource<any>), big);
    let aborted = 0;
    configureRemote({
      multipartThreshold: '1MB',
      partSize: 5 * 1024 * 1024,
      s3Client: s3().wrap((command) => {
        if (command instanceof UploadPartCommand && command.input.PartNumber === 2)
          return Promise.reject(
            Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 400 }, Code: 'InvalidPart' }),
          );
        // s3rver does not implement AbortMultipartUpload: count it here
        if (command instanceof AbortMultipartUploadCommand) return Promise.resolve((aborted++, {}));
        return undefined;
      }),
    });
    const before = uploadDirs().length;
    await assert.rejects(
      pipeline(fromIterable(big), toCsv(`s3://${bucket}/big/failed.csv`)),
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO && /UploadPart 2/.test(e.message),
    );
    assert.equal(aborted, 1);
    await assert.rejects(
      s3().client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/failed.csv' })),
      (e: unknown) => (e as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode === 404,
    );
    assert.equal(uploadDirs().length, before, 'no temporary upload directory left');
  } finally {
    configureRemote({});
  }
});

test('a run that fails before its end uploads nothing', async () => {
  async function* failing(): AsyncGenerator<{ id: number }> {
    yield { id: 1 };
    throw new Error('source failed');
  }
  const before = uploadDirs().length;
  await assert.rejects(
    pipeline(fromIterable(failing()), toParquet(`s3://${bucket}/never/data.parquet`)),
    /source failed/,
  );
  await assert.rejects(s3().client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'never/data.parquet' })));
  assert.equal(uploadDirs().length, before);
});

test('an object replaced mid-read is an IoError, never rows of two versions', async () => {
  const key = 'changing/data.csv';
  await pipeline(fromIterable(rows), toCsv(`s3://${bucket}/${key}`));
  let gets = 0;
  configureRemote({
    retries: 2,
    backoffMs: 1,
    s3Client: s3().wrap((command) => {
      if (!(command instanceof GetObjectCommand) || command.input.Key !== key) return undefined;
      // the first answer is cut after a few bytes; before the resumed request, the object is replaced
      if (++gets === 1)
        return s3()
          .client.send(command)
          .then((out) => ({ ...out, Body: cut(out.Body as AsyncIterable<Uint8Array>) }));
      return s3()
        .client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'id\n1\n' }))
        .then(() => s3().client.send(command));
    }),
  });
  try {
    await assert.rejects(
      read(fromCsv(`s3://${bucket}/${key}`) as BatchSource<any>),
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO && /changed/.test(e.message),
    );
  } finally {
    configureRemote({});
  }
});

/** A body that fails with a reset after its first chunk. */
async function* cut(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    yield chunk.subarray(0, 10);
    throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  }
}

test('a missing SDK is a coded error that says what to install', async () => {
  const missing = () =>
    Promise.reject(
      Object.assign(new Error("Cannot find package '@aws-sdk/client-s3'"), { code: 'ERR_MODULE_NOT_FOUND' }),
    );
  await assert.rejects(
    importS3Module(missing),
    (e: unknown) =>
      e instanceof SpillwayError &&
      e.code === ErrorCodes.UNSUPPORTED &&
      e.message.includes('npm install @aws-sdk/client-s3'),
  );
});

test('credentials never appear in errors', async () => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIALEAKCHECK0000',
    AWS_SECRET_ACCESS_KEY: 'secret-leak-check-value',
  });
  configureRemote({});
  try {
    const error = await pipeline(fromParquet(`s3://${bucket}/single/data.parquet`), collect()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof SpillwayError, `expected a SpillwayError, got ${String(error)}`);
    let text = '';
    for (let e: unknown = error; e; e = (e as Error).cause)
      text += `${String(e)} ${(e as Error).stack} ${JSON.stringify(e)}`;
    assert.doesNotMatch(text, /AKIALEAKCHECK|secret-leak-check/);
  } finally {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    configureRemote({});
  }
});

test('remote targets and settings are validated at once', () => {
  const invalid = (e: unknown): boolean => e instanceof SpillwayError && e.code === ErrorCodes.INVALID_OPTION;
  assert.throws(() => toCsv(`s3://${bucket}/x.csv`, { bogus: 1 } as never), invalid);
  assert.throws(() => toParquet('https://example.org/x.parquet'), invalid);
  assert.throws(() => configureRemote({ bogus: 1 } as never), invalid);
  assert.throws(() => configureRemote({ partSize: '1MB' }), invalid);
  assert.throws(() => configureRemote({ s3Endpoint: 'ftp://x' }), invalid);
  assert.throws(() => fromParquet('s3://'), invalid);
});
