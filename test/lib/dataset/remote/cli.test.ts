/**
 * `spillway convert` and `spillway inspect` with URLs, run as real processes: HTTP in, s3:// out
 * (one object and a partitioned tree), s3:// back to a local file, and inspect on an s3:// prefix
 * and a signed HTTP URL (whose query never reaches the output). A local S3 server (s3rver) and a
 * local node:http server on 127.0.0.1 are started and stopped here; the S3 endpoint and
 * credentials reach the CLI through the standard AWS environment variables.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pipeline, collect, fromIterable, fromCsv, fromParquet, toCsv, toParquet } from '../../../../index.ts';
import { ROOT, nodeScript, tempDir } from '../../../helpers.ts';
import { startS3, type S3Fixture } from './s3-fixture.ts';

const dir = tempDir('spillway-remote-cli-');
const bucket = 'spillway-cli';
let s3: S3Fixture;
let http: Server;
let httpBase = '';
let env: NodeJS.ProcessEnv = {};

const rows = Array.from({ length: 3_000 }, (_, i) => ({ id: i, day: `2026-11-${10 + (i % 3)}`, price: i / 4 }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeScript('lib/cli/main.ts'), ...args],
      { cwd: ROOT, encoding: 'utf8', env },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

before(async () => {
  await pipeline(fromIterable(rows), toCsv(join(dir, 'data.csv')));
  await pipeline(fromIterable(rows), toParquet(join(dir, 'data.parquet')));
  const bodies = new Map(['data.csv', 'data.parquet'].map((f) => [`/${f}`, readFileSync(join(dir, f))]));
  http = createServer((req, res) => {
    const bytes = bodies.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!bytes) return void res.writeHead(404).end();
    const range = /bytes=(\d*)-(\d*)/.exec(req.headers.range ?? '');
    if (!range) return void res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    const size = bytes.length;
    const start = range[1] === '' ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    const end = range[1] === '' || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    res
      .writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, etag: '"v1"' })
      .end(bytes.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  s3 = await startS3(dir, [bucket]);
  env = { ...process.env, ...s3.env };
});
after(async () => {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await s3.close();
});

test('convert an HTTP CSV to an s3:// Parquet object and back to a local CSV: the same rows', async () => {
  const up = await cli(
    'convert',
    `${httpBase}/data.csv?sig=secret`,
    `s3://${bucket}/one/data.parquet`,
    '--no-progress',
  );
  assert.equal(up.code, 0, up.stderr);
  assert.doesNotMatch(up.stdout + up.stderr, /secret/);
  const back = join(dir, 'back.csv');
  const down = await cli('convert', `s3://${bucket}/one/data.parquet`, back, '--no-progress');
  assert.equal(down.code, 0, down.stderr);
  const expected = (await pipeline(fromCsv(join(dir, 'data.csv'), { cast: true }), collect())).output;
  assert.deepEqual((await pipeline(fromCsv(back, { cast: true }), collect())).output, expected);
});

test('convert --partition-by to an s3:// prefix; inspect lists its files and partitions', async () => {
  const run = await cli(
    'convert',
    `${httpBase}/data.parquet`,
    `s3://${bucket}/tree`,
    '--to',
    'parquet',
    '--partition-by',
    'day',
    '--no-progress',
  );
  assert.equal(run.code, 0, run.stderr);
  const inspect = await cli('inspect', `s3://${bucket}/tree`, '--json');
  assert.equal(inspect.code, 0, inspect.stderr);
  const report = JSON.parse(inspect.stdout) as {
    files: Array<{ path: string; rows: number }>;
    partitions: Array<{ key: string; values: number }>;
    totalRows: number;
  };
  assert.deepEqual(
    report.files.map((f) => f.path),
    [0, 1, 2].map((d) => `s3://${bucket}/tree/day=2026-11-1${d}/part-0.parquet`),
  );
  assert.deepEqual(
    report.partitions.map((p) => [p.key, p.values]),
    [['day', 3]],
  );
  assert.equal(report.totalRows, rows.length);
  const local = (await pipeline(fromParquet(join(dir, 'data.parquet')), collect())).output.length;
  assert.equal(local, report.totalRows);
});

test('inspect a signed HTTP URL: row count from the footer, no query in the output', async () => {
  const run = await cli('inspect', `${httpBase}/data.parquet?sig=secret`);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /3,000 rows/);
  assert.doesNotMatch(run.stdout, /secret/);
});
