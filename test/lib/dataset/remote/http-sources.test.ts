/**
 * Every source over HTTP against a local node:http server on 127.0.0.1 that serves byte ranges:
 * the rows equal the local read, also when the server drops connections mid-body or answers 500
 * at random (seeded), and no response is left open on the server when a read ends.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
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
import { tempDir } from '../../../helpers.ts';
import { rangeResponse } from './range-response.ts';

const dir = tempDir('spillway-remote-http-');
let server: Server;
let base = '';
let mode: 'ok' | 'drop' | 'flaky' | 'norange' = 'ok';
let seed = 1;
let drops = 0;
let failures = 0;
const inflight = new Set<ServerResponse>();

/** mulberry32: a seeded generator, so a failing run can be replayed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `name-${i}`, x: i / 4, flag: i % 3 === 0 }));
const files = ['data.csv', 'data.jsonl', 'data.jsonl.gz', 'data.parquet', 'data.arrow'];

before(async () => {
  await pipeline(fromIterable(rows), toCsv(join(dir, 'data.csv')));
  await pipeline(fromIterable(rows), toJsonl(join(dir, 'data.jsonl')));
  await pipeline(fromIterable(rows), toJsonl(join(dir, 'data.jsonl.gz')));
  await pipeline(fromIterable(rows), toParquet(join(dir, 'data.parquet'), { rowGroupSize: 2_000 }));
  await pipeline(fromIterable(rows, { batchSize: 2_000 }), toArrow(join(dir, 'data.arrow')));
  const bodies = new Map(files.map((f) => [`/${f}`, readFileSync(join(dir, f))]));
  server = createServer((req, res) => {
    inflight.add(res);
    res.once('close', () => inflight.delete(res));
    const bytes = bodies.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!bytes) {
      res.writeHead(404).end();
      return;
    }
    if (mode === 'flaky' && random() < 0.3) {
      failures++;
      res.writeHead(500).end('try again');
      return;
    }
    const partial = rangeResponse(req.headers.range, bytes);
    if (!partial || mode === 'norange') {
      res.writeHead(200, { 'content-length': bytes.length, etag: '"v1"' }).end(bytes);
      return;
    }
    const body = partial.body;
    res.writeHead(206, partial.headers);
    if (mode === 'drop' && body.length > 200 && random() < 0.5) {
      drops++;
      // half the body, then the connection is cut
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  configureRemote({ retries: 12, backoffMs: 1 });
});
after(async () => {
  configureRemote({});
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

type Reader = (input: string) => ReturnType<typeof fromCsv>;
const readers: Record<string, Reader> = {
  'data.csv': (input) => fromCsv(input, { cast: true }),
  'data.jsonl': (input) => fromJsonl(input),
  'data.jsonl.gz': (input) => fromJsonl(input),
  'data.parquet': (input) => fromParquet(input),
  'data.arrow': (input) => fromArrow(input),
};

async function read(source: ReturnType<typeof fromCsv>): Promise<unknown[]> {
  const { output } = await pipeline(source, collect());
  return output as unknown[];
}

for (const m of ['ok', 'drop', 'flaky'] as const) {
  test(`every source over HTTP reads the rows of the local file (${m})`, async () => {
    mode = m;
    seed = 42;
    drops = 0;
    failures = 0;
    for (const file of files) {
      const local = await read(readers[file]!(join(dir, file)));
      assert.equal(local.length, rows.length, file);
      const remote = await read(readers[file]!(`${base}/${file}`));
      assert.deepEqual(remote, local, `${file} (${m})`);
      assert.equal(inflight.size, 0, `${file}: no response left open`);
    }
    if (m === 'drop') assert.ok(drops > 0, 'the server dropped connections');
    if (m === 'flaky') assert.ok(failures > 0, 'the server answered 500');
  });
}

test('CSV over a server without Range support streams once; Parquet is refused with a coded error', async () => {
  mode = 'norange';
  assert.deepEqual(
    await read(fromCsv(`${base}/data.csv`, { cast: true })),
    await read(fromCsv(join(dir, 'data.csv'), { cast: true })),
  );
  await assert.rejects(
    read(fromParquet(`${base}/data.parquet`)),
    (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.IO && /range/i.test(e.message),
  );
  mode = 'ok';
});

test('a missing object is an IoError naming the URL without its query', async () => {
  mode = 'ok';
  for (const make of [(u: string) => fromCsv(u), (u: string) => fromParquet(u), (u: string) => fromArrow(u)]) {
    await assert.rejects(read(make(`${base}/missing.csv?sig=secret`) as ReturnType<typeof fromCsv>), (e: unknown) => {
      assert.ok(e instanceof SpillwayError, String(e));
      assert.equal(e.code, ErrorCodes.IO);
      assert.match(e.message, /404/);
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
  }
});

test('projection and where over HTTP Arrow and CSV give the local rows', async () => {
  mode = 'drop';
  seed = 7;
  const where = { col: 'id', op: '<', value: 100 } as const;
  assert.deepEqual(
    await read(fromArrow(`${base}/data.arrow`, { columns: ['id'], where })),
    await read(fromArrow(join(dir, 'data.arrow'), { columns: ['id'], where })),
  );
  assert.deepEqual(
    await read(fromCsv(`${base}/data.csv`, { cast: true, where })),
    await read(fromCsv(join(dir, 'data.csv'), { cast: true, where })),
  );
  mode = 'ok';
});
