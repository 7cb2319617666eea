/**
 * Parquet over HTTP with range requests, against a local server on 127.0.0.1: the same rows as
 * the local file, fewer bytes fetched with pushdown, retries on 500s and dropped connections, and
 * an error (never mixed rows) when the object changes mid-read.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DuckDBInstance } from '@duckdb/node-api';
import { pipeline, collect, fromParquet, ErrorCodes, SpillwayError } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';

const dir = tempDir('spillway-http-');
const file = join(dir, 'data.parquet');
let bytes: Buffer;
let server: Server;
let base = '';
/** Per path: how the server misbehaves. */
let mode: 'ok' | 'flaky' | 'drop' | 'change' = 'ok';
let served = 0;
let requests = 0;

before(async () => {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  await con.run(
    `COPY (SELECT i::BIGINT AS id, 'name-' || i AS name, i / 3.0 AS x FROM range(200000) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 20000)`,
  );
  con.closeSync();
  db.closeSync();
  bytes = readFileSync(file);
  server = createServer((req, res) => {
    requests++;
    if (mode === 'flaky' && requests % 2 === 0) {
      res.writeHead(500).end('try again');
      return;
    }
    const range = /bytes=(\d*)-(\d*)/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      return;
    }
    const size = bytes.length;
    let start: number;
    let end: number;
    if (range[1] === '') {
      start = Math.max(0, size - Number(range[2]));
      end = size - 1;
    } else {
      start = Number(range[1]);
      end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    }
    const etag = mode === 'change' && requests > 3 ? '"v2"' : '"v1"';
    if (req.headers['if-match'] && req.headers['if-match'] !== etag) {
      res.writeHead(412).end();
      return;
    }
    const body = bytes.subarray(start, end + 1);
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': body.length, etag });
    if (mode === 'drop' && requests % 3 === 0 && body.length > 100) {
      // send half, then cut the connection
      res.write(body.subarray(0, body.length >> 1));
      res.socket?.destroy();
      return;
    }
    served += body.length;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function ids(source: ReturnType<typeof fromParquet>): Promise<number[]> {
  const { output } = await pipeline(source, collect());
  return (output as Array<{ id: number }>).map((r) => r.id);
}

test('an https-style URL reads the same rows as the file, with range requests', async () => {
  mode = 'ok';
  const local = await ids(fromParquet(file));
  assert.deepEqual(await ids(fromParquet(`${base}/data.parquet`)), local);
});

test('pushdown over HTTP fetches a fraction of the file', async () => {
  mode = 'ok';
  served = 0;
  const got = await ids(fromParquet(`${base}/data.parquet?sig=secret`, { where: { col: 'id', op: '<', value: 1000 } }));
  assert.deepEqual(
    got,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.ok(served < statSync(file).size / 4, `${served} of ${statSync(file).size} bytes fetched`);
});

test('500s and dropped connections are retried', async () => {
  for (const m of ['flaky', 'drop'] as const) {
    mode = m;
    requests = 0;
    const got = await ids(fromParquet(`${base}/data.parquet`, { columns: ['id'] }));
    assert.equal(got.length, 200000, m);
    assert.equal(got[199999], 199999);
  }
});

test('an object that changes mid-read is an IoError, and the URL query is not in the message', async () => {
  mode = 'change';
  requests = 0;
  await assert.rejects(pipeline(fromParquet(`${base}/data.parquet?token=secret`), collect()), (e: unknown) => {
    assert.ok(e instanceof SpillwayError);
    assert.equal(e.code, ErrorCodes.IO);
    assert.match(e.message, /changed/);
    assert.doesNotMatch(e.message, /secret/);
    return true;
  });
});
