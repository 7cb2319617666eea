/**
 * Checkpoint/resume of multi-file sources end to end: a child process reads a dataset (a CSV
 * glob, a Parquet directory, an s3:// prefix of Parquet objects on a local s3rver) with `where`
 * pruning files and filtering rows, writes CSV with a checkpoint, and is SIGKILLed after a random
 * number of batches (no sleeps), then rerun until it completes. The output must be exactly an
 * uninterrupted run's, every row once; a file list that changed between runs is refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ROOT, tempDir } from '../helpers.ts';
import { random as mulberry32 } from '../../samples/trades-data.ts';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { toParquet } from '../../sinks/toParquet.ts';

const SCRIPT = join(ROOT, 'test/e2e/dataset-resume-child.ts');
const PARTS = 4;
const FILES_PER_PART = 3;
const ROWS_PER_FILE = 900;

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => S3rverInstance;

const dir = tempDir('spillway-dataset-resume-');
let server: S3rverInstance;
let env: Record<string, string> = {};

/** Rows of file `f` of partition `p`: ids unique across the dataset, notes with quotes and newlines. */
function rowsOf(p: number, f: number): Array<{ id: number; x: number; note: string }> {
  return Array.from({ length: ROWS_PER_FILE }, (_, i) => {
    const id = (p * FILES_PER_PART + f) * ROWS_PER_FILE + i;
    return { id, x: id / 4, note: id % 97 === 0 ? `multi\nline, "q" ${id}` : `n${id}` };
  });
}

function csvOf(rows: ReturnType<typeof rowsOf>): string {
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `id,x,note\n${rows.map((r) => `${r.id},${r.x},${quote(r.note)}`).join('\n')}\n`;
}

/** Ids each row of the CSV output holds, in order (the first column). */
function idsOf(file: string): number[] {
  const ids: number[] = [];
  // a record starts at a line whose first field is a number followed by a comma
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    const m = /^(\d+),/.exec(line);
    if (m) ids.push(Number(m[1]));
  }
  return ids;
}

/** The ids a complete run writes: every file except partition 2 (pruned by `where`). */
function expectedIds(): number[] {
  const ids: number[] = [];
  for (let p = 0; p < PARTS; p++)
    if (p !== 2) for (let f = 0; f < FILES_PER_PART; f++) ids.push(...rowsOf(p, f).map((r) => r.id));
  return ids;
}

interface Run {
  done: boolean;
  batches: number;
  code: number | null;
  stderr: string;
}

function run(args: string[], killAfter = Infinity): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', SCRIPT, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let stderr = '';
    let batches = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      for (const c of chunk) if (c === '.') batches++;
      if (batches >= killAfter && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ done: out.includes('done'), batches, code, stderr }));
  });
}

/** Kills runs after a random number of batches until one completes; returns kills and kills that left a checkpoint. */
async function runWithCrashes(
  args: [string, string, string, string],
  seed: number,
  total: number,
): Promise<{ kills: number; resumable: number }> {
  const random = mulberry32(seed);
  let kills = 0;
  let resumable = 0;
  for (let attempt = 0; attempt < 12; attempt++) {
    const killAfter = attempt < 3 ? 3 + Math.floor(random() * Math.max(1, total / 2 - 3)) : Infinity;
    const result = await run([...args, String(1 + Math.floor(random() * 3))], killAfter);
    if (result.done) {
      assert.equal(result.code, 0, result.stderr);
      return { kills, resumable };
    }
    assert.notEqual(result.code, 0, 'a killed run does not exit cleanly');
    assert.equal(result.stderr.includes('Error'), false, result.stderr);
    kills++;
    if (existsSync(join(args[3], 'checkpoint.json'))) resumable++;
  }
  throw new Error('the pipeline never completed');
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
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3') });
  const { port } = await server.run();
  env = {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
  };
  const client = new S3Client({
    endpoint: env.AWS_ENDPOINT_URL,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: 'resume' }));
  for (let p = 0; p < PARTS; p++)
    for (let f = 0; f < FILES_PER_PART; f++)
      await client.send(
        new PutObjectCommand({
          Bucket: 'resume',
          Key: `pq/part=${p}/day-${f}.parquet`,
          Body: readFileSync(join(dir, 'pq', `part=${p}`, `day-${f}.parquet`)),
        }),
      );
  client.destroy();
});

after(async () => {
  await server?.close();
});

const cases = [
  { name: 'a CSV glob', kind: 'csv', input: () => join(dir, 'csv', '**', '*.csv'), seeds: [11, 12] },
  { name: 'a Parquet directory', kind: 'parquet', input: () => join(dir, 'pq'), seeds: [21, 22] },
  { name: 'an s3:// prefix of Parquet objects', kind: 'parquet', input: () => 's3://resume/pq/', seeds: [31] },
];

for (const c of cases) {
  test(`${c.name}: SIGKILL at random points, rerun; every row exactly once, output identical to an uninterrupted run`, async () => {
    const reference = join(dir, `ref-${c.kind}-${c.seeds[0]}.csv`);
    const ref = await run([c.kind, c.input(), reference, '-']);
    assert.ok(ref.done, ref.stderr);
    assert.deepEqual(
      idsOf(reference),
      expectedIds(),
      'the uninterrupted run reads every file but the pruned partition',
    );
    let resumable = 0;
    for (const seed of c.seeds) {
      const output = join(dir, `out-${c.kind}-${seed}.csv`);
      const checkpoint = join(dir, `ckpt-${seed}`);
      const crashes = await runWithCrashes([c.kind, c.input(), output, checkpoint], seed * 7919, ref.batches);
      assert.ok(crashes.kills > 0, 'at least one run was killed');
      resumable += crashes.resumable;
      const ids = idsOf(output);
      assert.equal(new Set(ids).size, ids.length, `seed ${seed}: a row was written twice`);
      assert.deepEqual(ids, expectedIds(), `seed ${seed}: rows missing or out of order`);
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
