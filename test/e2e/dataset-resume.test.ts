/**
 * Checkpoint/resume of multi-file sources end to end: a child process reads a dataset (a CSV
 * glob, a Parquet directory, an s3:// prefix of Parquet objects on a local s3rver, with `where`
 * pruning files and filtering rows; Parquet and Arrow URLs on a local HTTP server), writes CSV
 * with a checkpoint, and is SIGKILLed after a random number of batches once its checkpoint lies
 * past the first file (synchronised on the checkpoint file, no sleeps), then rerun until it
 * completes. The output must be exactly an uninterrupted run's, every row once; a file list
 * that changed between runs (a file added or grown, an ETag changed) is refused. A partitioned
 * tree and a single CSV object written to s3:// are killed the same way: nothing is under their
 * key until the run that completes (and resumes, as its log says) uploads it, with every row once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { tempDir } from '../helpers.ts';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { closeRemote, collect, configureRemote, fromParquet } from '../../index.ts';
import { startS3, type S3Fixture } from '../lib/dataset/remote/s3-fixture.ts';
import {
  FILES_PER_PART,
  PARTS,
  checkpointFile,
  expectedIds,
  idsOf,
  readCheckpointIn,
  rowsOf,
  run as runChild,
  runWithCrashes,
  type Run,
} from './dataset-resume-harness.ts';

const dir = tempDir('spillway-dataset-resume-');
let s3: S3Fixture;
let http: Server;
let httpBase = '';
/** ETags the HTTP server answers with, by path (a test changes one to change the object). */
const etags = new Map<string, string>();
/** The files served over HTTP: partitions 0 and 1, as Parquet and as Arrow. */
const HTTP_PARTS = [0, 1];

/** Runs the child with the S3 server's environment. */
function run(args: string[], killAfter = Infinity): Promise<Run> {
  return runChild(args, { killAfter, env: s3.env });
}

/** Serves `dir/http` with ranges and ETags (what the Parquet and Arrow readers need). */
async function startHttp(): Promise<void> {
  http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const etag = etags.get(path);
    if (etag === undefined) return void res.writeHead(404).end();
    if (req.headers['if-match'] && req.headers['if-match'] !== etag) return void res.writeHead(412).end();
    const bytes = readFileSync(join(dir, 'http', path));
    const size = bytes.length;
    const range = /bytes=(\d*)-(\d*)/.exec(req.headers.range ?? '');
    if (!range) return void res.writeHead(200, { 'content-length': size, etag }).end(bytes);
    const start = range[1] === '' ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    const end = range[1] === '' || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end + 1 - start, etag });
    res.end(bytes.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

function httpUrls(ext: string): string {
  const urls: string[] = [];
  for (const p of HTTP_PARTS) for (let f = 0; f < FILES_PER_PART; f++) urls.push(`${httpBase}/p${p}-${f}.${ext}`);
  return urls.join(',');
}

function httpIds(): number[] {
  return HTTP_PARTS.flatMap((p) =>
    Array.from({ length: FILES_PER_PART }, (_, f) => rowsOf(p, f).map((r) => r.id)).flat(),
  );
}

function csvOf(rows: ReturnType<typeof rowsOf>): string {
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `id,x,note\n${rows.map((r) => `${r.id},${r.x},${quote(r.note)}`).join('\n')}\n`;
}

before(async () => {
  for (let p = 0; p < PARTS; p++) {
    mkdirSync(join(dir, 'csv', `part=${p}`), { recursive: true });
    mkdirSync(join(dir, 'pq', `part=${p}`), { recursive: true });
    for (let f = 0; f < FILES_PER_PART; f++) {
      writeFileSync(join(dir, 'csv', `part=${p}`, `day-${f}.csv`), csvOf(rowsOf(p, f)));
      await pipeline(
        fromIterable(rowsOf(p, f)),
        toParquet(join(dir, 'pq', `part=${p}`, `day-${f}.parquet`), { rowGroupSize: 700 }),
      );
    }
  }
  mkdirSync(join(dir, 'http'));
  for (const p of HTTP_PARTS)
    for (let f = 0; f < FILES_PER_PART; f++) {
      writeFileSync(
        join(dir, 'http', `p${p}-${f}.parquet`),
        readFileSync(join(dir, 'pq', `part=${p}`, `day-${f}.parquet`)),
      );
      await pipeline(fromIterable(rowsOf(p, f), { batchSize: 300 }), toArrow(join(dir, 'http', `p${p}-${f}.arrow`)));
      etags.set(`/p${p}-${f}.parquet`, '"v1"');
      etags.set(`/p${p}-${f}.arrow`, '"v1"');
    }
  await startHttp();
  s3 = await startS3(dir, ['resume']);
  for (let p = 0; p < PARTS; p++)
    for (let f = 0; f < FILES_PER_PART; f++)
      await s3.client.send(
        new PutObjectCommand({
          Bucket: 'resume',
          Key: `pq/part=${p}/day-${f}.parquet`,
          Body: readFileSync(join(dir, 'pq', `part=${p}`, `day-${f}.parquet`)),
        }),
      );
});

after(async () => {
  await s3?.close();
  http?.closeAllConnections();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
});

const cases = [
  { name: 'a CSV glob', kind: 'csv', input: () => join(dir, 'csv', '**', '*.csv'), seeds: [11], ids: expectedIds },
  { name: 'a Parquet directory', kind: 'parquet', input: () => join(dir, 'pq'), seeds: [21], ids: expectedIds },
  {
    name: 'an s3:// prefix of Parquet objects',
    kind: 'parquet',
    input: () => 's3://resume/pq/',
    seeds: [31],
    ids: expectedIds,
  },
  { name: 'Parquet URLs over HTTP', kind: 'parquet-urls', input: () => httpUrls('parquet'), seeds: [41], ids: httpIds },
  { name: 'Arrow URLs over HTTP', kind: 'arrow-urls', input: () => httpUrls('arrow'), seeds: [51], ids: httpIds },
];

for (const c of cases) {
  test(`${c.name}: SIGKILL at random points, rerun; every row exactly once, output identical to an uninterrupted run`, async () => {
    const reference = join(dir, `ref-${c.kind}-${c.seeds[0]}.csv`);
    const ref = await run([c.kind, c.input(), reference, '-']);
    assert.ok(ref.done, ref.stderr);
    assert.deepEqual(idsOf(reference), c.ids(), 'the uninterrupted run reads every file (but the pruned partition)');
    let resumable = 0;
    for (const seed of c.seeds) {
      const output = join(dir, `out-${c.kind}-${seed}.csv`);
      const checkpoint = join(dir, `ckpt-${seed}`);
      const crashes = await runWithCrashes([c.kind, c.input(), output, checkpoint], seed * 7919, ref.batches, {
        env: s3.env,
      });
      assert.ok(crashes.kills > 0, 'at least one run was killed');
      resumable += crashes.resumable;
      const ids = idsOf(output);
      assert.equal(new Set(ids).size, ids.length, `seed ${seed}: a row was written twice`);
      assert.deepEqual(ids, c.ids(), `seed ${seed}: rows missing or out of order`);
      assert.ok(readFileSync(output).equals(readFileSync(reference)), `seed ${seed}: the output differs`);
      assert.equal(existsSync(join(checkpoint, 'checkpoint.json')), false, 'a finished run removes its checkpoint');
    }
    assert.ok(resumable > 0, 'at least one killed run left a checkpoint to resume from');
  });
}

test('a dataset whose files changed since the checkpoint is refused with ERR_SPILLWAY_CHECKPOINT naming the file', async () => {
  for (const change of ['added', 'changed'] as const) {
    const root = join(dir, `changing-${change}`);
    for (let p = 0; p < PARTS; p++) {
      mkdirSync(join(root, `part=${p}`), { recursive: true });
      for (let f = 0; f < FILES_PER_PART; f++)
        writeFileSync(join(root, `part=${p}`, `day-${f}.csv`), csvOf(rowsOf(p, f)));
    }
    const checkpoint = join(dir, `ckpt-changing-${change}`);
    const args = ['csv', join(root, '**', '*.csv'), join(dir, `out-changing-${change}.csv`), checkpoint, '1'];
    const killed = await run(args, 15);
    assert.equal(killed.done, false);
    assert.ok(existsSync(join(checkpoint, 'checkpoint.json')), 'the killed run left a checkpoint');
    const touched = join(root, 'part=3', change === 'added' ? 'day-9.csv' : 'day-1.csv');
    if (change === 'added') writeFileSync(touched, csvOf(rowsOf(9, 0)));
    else appendFileSync(touched, '999999,1,late\n');
    const refused = await run(args);
    assert.equal(refused.done, false);
    assert.match(refused.stderr, /ERR_SPILLWAY_CHECKPOINT/);
    assert.ok(
      refused.stderr.includes(change === 'added' ? `${touched} was added` : `${touched} changed (size)`),
      refused.stderr,
    );
  }
});

test('an object whose ETag changed since the checkpoint is refused; with it back, the run resumes', async () => {
  const urls = httpUrls('parquet');
  const reference = join(dir, 'ref-etag.csv');
  const whole = await run(['parquet-urls', urls, reference, '-']);
  assert.ok(whole.done, whole.stderr);
  const checkpoint = join(dir, 'ckpt-etag');
  const args = ['parquet-urls', urls, join(dir, 'out-etag.csv'), checkpoint, '1'];
  const killed = await run(args, 4);
  assert.equal(killed.done, false);
  assert.ok(checkpointFile(checkpoint) >= 1, 'the killed run left a checkpoint past the first file');
  etags.set(`/p1-2.parquet`, '"v2"');
  const refused = await run(args);
  assert.equal(refused.done, false);
  assert.match(refused.stderr, /ERR_SPILLWAY_CHECKPOINT/);
  assert.ok(refused.stderr.includes(`${httpBase}/p1-2.parquet changed (ETag)`), refused.stderr);
  etags.set(`/p1-2.parquet`, '"v1"');
  const resumed = await run(args);
  assert.ok(resumed.done, resumed.stderr);
  assert.ok(resumed.batches < whole.batches, 'the rerun resumed past the first file (fewer batches than a whole run)');
  assert.ok(readFileSync(join(dir, 'out-etag.csv')).equals(readFileSync(reference)));
});

test('a partitioned tree written to s3://: SIGKILLed runs upload nothing; the completing run uploads every row once', async () => {
  const checkpoint = join(dir, 'ckpt-s3-tree');
  const args = ['parquet', 's3://resume/pq/', 's3://resume/tree-out', checkpoint, '1', 'parquet-tree', 'part'];
  const keys = async (): Promise<string[]> =>
    ((await s3.client.send(new ListObjectsV2Command({ Bucket: 'resume', Prefix: 'tree-out/' }))).Contents ?? []).map(
      (o) => o.Key!,
    );
  // a kill only once the checkpoint holds rows past the last kill's: a commit of 0 rows, or the
  // earlier run's checkpoint read again, would make the rerun start over (seen at load average 13)
  let committedBefore = 0;
  const committed = (d: string): number => readCheckpointIn(d)?.committed ?? 0;
  const resumable = (d: string): boolean => committed(d) > committedBefore;
  let kills = 0;
  for (const killAfter of [5, 9]) {
    const killed = await runChild(args, { killAfter, resumable, env: s3.env });
    committedBefore = committed(checkpoint);
    assert.equal(killed.done, false, 'the run was killed');
    kills++;
    assert.deepEqual(await keys(), [], 'a killed run uploads nothing under the prefix');
    assert.ok(existsSync(join(checkpoint, 'upload')), 'the local tree is kept under the checkpoint directory');
  }
  // the rerun resumes from what the kills left (not from the start); its batch count is no proof:
  // batches after a resume point inside a file are cut differently, and can outnumber a whole run's
  const done = await runChild(args, { env: { ...s3.env, DEBUG: 'spillway:checkpoint' } });
  assert.ok(done.done, done.stderr);
  assert.match(done.stderr, new RegExp(`resuming from \\S+: ${committedBefore} rows committed`), 'the rerun resumed');
  assert.ok(committedBefore > 0, 'from rows committed by the killed runs');
  assert.equal(kills, 2);
  assert.ok((await keys()).includes('tree-out/_SUCCESS'));
  assert.equal(existsSync(checkpoint), false, 'the checkpoint directory and the local tree are gone');
  s3.useEnv();
  configureRemote({});
  try {
    const { output } = await pipeline(fromParquet('s3://resume/tree-out'), collect<{ id: number }>());
    const ids = output.map((r) => Number(r.id)).sort((a, b) => a - b);
    assert.equal(new Set(ids).size, ids.length, 'a row was uploaded twice');
    assert.deepEqual(ids, expectedIds());
  } finally {
    closeRemote();
  }
});

test('one object written to s3://: SIGKILLed runs upload nothing; the completing run resumes and uploads the bytes of an uninterrupted run', async () => {
  const reference = join(dir, 'ref-s3-object.csv');
  const ref = await run(['parquet', 's3://resume/pq/', reference, '-']);
  assert.ok(ref.done, ref.stderr);
  const checkpoint = join(dir, 'ckpt-s3-object');
  const args = ['parquet', 's3://resume/pq/', 's3://resume/object-out/rows.csv', checkpoint, '1'];
  const keys = async (): Promise<string[]> =>
    ((await s3.client.send(new ListObjectsV2Command({ Bucket: 'resume', Prefix: 'object-out/' }))).Contents ?? []).map(
      (o) => o.Key!,
    );
  // as for the tree: a kill only once the checkpoint holds rows past the last kill's
  let committedBefore = 0;
  const committed = (d: string): number => readCheckpointIn(d)?.committed ?? 0;
  const resumable = (d: string): boolean => committed(d) > committedBefore;
  for (const killAfter of [5, 9]) {
    const killed = await runChild(args, { killAfter, resumable, env: s3.env });
    committedBefore = committed(checkpoint);
    assert.equal(killed.done, false, 'the run was killed');
    assert.deepEqual(await keys(), [], 'a killed run uploads nothing');
    assert.ok(existsSync(join(checkpoint, 'upload')), 'the local file is kept under the checkpoint directory');
  }
  const done = await runChild(args, { env: { ...s3.env, DEBUG: 'spillway:checkpoint' } });
  assert.ok(done.done, done.stderr);
  assert.match(done.stderr, new RegExp(`resuming from \\S+: ${committedBefore} rows committed`), 'the rerun resumed');
  assert.ok(committedBefore > 0, 'from rows committed by the killed runs');
  assert.deepEqual(await keys(), ['object-out/rows.csv']);
  const object = await s3.client.send(new GetObjectCommand({ Bucket: 'resume', Key: 'object-out/rows.csv' }));
  const bytes = Buffer.from(await object.Body!.transformToByteArray());
  writeFileSync(join(dir, 'out-s3-object.csv'), bytes);
  const ids = idsOf(join(dir, 'out-s3-object.csv'));
  assert.equal(new Set(ids).size, ids.length, 'a row was uploaded twice');
  assert.deepEqual(ids, expectedIds());
  assert.ok(bytes.equals(readFileSync(reference)), 'the object differs from an uninterrupted run');
  assert.equal(existsSync(checkpoint), false, 'the checkpoint directory and the local file are gone');
});
