/**
 * FileChunks: a file's bytes from an offset in chunks read into two reused buffers, the file
 * closed at the end, on return() and on an abort; and fromCsv's fast path on it gives the same
 * rows whatever the chunk size, so nothing the scanner keeps points into a buffer read again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { FILE_CHUNKS, FileChunks } from '../../../lib/io/file-chunks.ts';
import { fromCsv } from '../../../sources/fromCsv.ts';
import { pipeline } from '../../../lib/core/pipeline.ts';
import { collect } from '../../../sinks/collect.ts';
import { CORPUS, corpusSkip, tempDir } from '../../helpers.ts';

const FD_DIR = '/proc/self/fd';

function openFds(): number | undefined {
  return existsSync(FD_DIR) ? readdirSync(FD_DIR).length : undefined;
}

async function withChunkBytes<T>(bytes: number, body: () => Promise<T>): Promise<T> {
  const saved = FILE_CHUNKS.bytes;
  FILE_CHUNKS.bytes = bytes;
  try {
    return await body();
  } finally {
    FILE_CHUNKS.bytes = saved;
  }
}

test('FileChunks gives the bytes from an offset, a new Buffer per chunk, and closes the file', async () => {
  const dir = tempDir();
  const file = join(dir, 'bytes.bin');
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251));
  writeFileSync(file, data);
  const before = openFds();
  for (const size of [1, 7, 4096, 65_536]) {
    for (const start of [0, 1, 4099]) {
      await withChunkBytes(size, async () => {
        const chunks = new FileChunks(file, start);
        const seen = new Set<Buffer>();
        const parts: Buffer[] = [];
        // copied as they come: a chunk's memory is refilled two chunks later
        for await (const chunk of chunks) {
          assert.ok(!seen.has(chunk), 'each chunk a new Buffer object');
          seen.add(chunk);
          parts.push(Buffer.from(chunk));
        }
        assert.deepEqual(Buffer.concat(parts), data.subarray(start), `size ${size} from ${start}`);
        assert.equal(chunks.bytesRead, data.length - start);
      });
    }
  }
  // stopped early, and aborted: the file is closed either way
  await withChunkBytes(100, async () => {
    const early = new FileChunks(file);
    for await (const _ of early) break;
    const controller = new AbortController();
    const aborted = new FileChunks(file, 0, controller.signal);
    await aborted.next();
    controller.abort(new Error('stop here'));
    await assert.rejects(aborted.next(), /stop here/);
    assert.deepEqual(await aborted.next(), { done: true, value: undefined });
  });
  await assert.rejects(new FileChunks(join(dir, 'missing.csv')).next(), { code: 'ENOENT' });
  // a FIFO cannot seek: from the start, reads take no position
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', `head -c 5000 ${JSON.stringify(file)} > ${JSON.stringify(fifo)}`]);
  const written = new Promise((resolve) => writer.once('close', resolve));
  await withChunkBytes(777, async () => {
    const parts: Buffer[] = [];
    for await (const chunk of new FileChunks(fifo)) parts.push(Buffer.from(chunk));
    assert.deepEqual(Buffer.concat(parts), data.subarray(0, 5000));
  });
  await written;
  if (before !== undefined) assert.equal(openFds(), before, 'no descriptor left open');
});

async function readAll(file: string, output: 'rows' | 'arrow'): Promise<{ rows?: unknown[]; error?: string }> {
  try {
    const { output: rows } = await pipeline(fromCsv(file, { cast: true, output, parser: 'fast' }), collect());
    return { rows };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? String(error) };
  }
}

test('fromCsv reads the same rows at any chunk size (the scanner keeps copies, never the reused buffers)', async () => {
  const dir = tempDir();
  // ASCII first, then text that is not (a window check answered for an older chunk would
  // decode it as Latin-1), quoted fields with newlines, CRLF, and a record longer than many chunks
  const lines = ['id,name,note'];
  for (let i = 0; i < 1500; i++) lines.push(`${i},name${i},"plain, text ${i}"`);
  for (let i = 1500; i < 2300; i++) lines.push(`${i},nämé ${i} 日本,"line one\r\nline two ""quoted"" ${i}"`);
  lines.push(`2300,${'x'.repeat(5000)},"${'é'.repeat(3000)}"`);
  lines.push('2301,last,');
  const file = join(dir, 'mixed.csv');
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  for (const output of ['rows', 'arrow'] as const) {
    const expected = await readAll(file, output);
    assert.equal(expected.error, undefined);
    assert.equal(expected.rows!.length, 2302);
    // 16 KB and up: the scanner scans the chunk itself (its seam), not a copy
    for (const size of [3, 64, 4096, 16_384, 20_000]) {
      const got = await withChunkBytes(size, () => readAll(file, output));
      assert.deepEqual(got, expected, `${output}, chunks of ${size} bytes`);
    }
  }
});

test('every corpus CSV reads the same with tiny chunks as with one chunk', { skip: corpusSkip }, async () => {
  const dirs = ['csv-spectrum', 'csv-test-data', 'arrow-testing'].map((d) => join(CORPUS, 'csv', d));
  let files = 0;
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.csv'))) {
      const file = join(dir, name);
      if (readFileSync(file).length === 0) continue;
      files++;
      for (const output of ['rows', 'arrow'] as const) {
        const expected = await readAll(file, output);
        for (const size of [1, 5, 64]) {
          const got = await withChunkBytes(size, () => readAll(file, output));
          assert.deepEqual(got, expected, `${name} (${output}), chunks of ${size} bytes`);
        }
      }
    }
  }
  assert.ok(files >= 30, `expected the corpus CSV files, found ${files}`);
});
