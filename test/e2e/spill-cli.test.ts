/** `spillway inspect` and `spillway replay` as real processes on a spill directory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { toSpill } from '../../sinks/toSpill.ts';
import { openArrowFile } from '../../lib/formats/arrow/ipc-reader.ts';
import { CORPUS, ROOT, nodeScript, tempDir } from '../helpers.ts';

const run = promisify(execFile);
const CLI = path.join(ROOT, 'lib/cli/main.ts');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...nodeScript(CLI), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const data = Array.from({ length: 3000 }, (_, i) => ({ id: i, name: `n${i}`, score: i / 4 }));

async function makeSpill(): Promise<string> {
  const dir = path.join(tempDir('spillway-cli-'), 'spill');
  await pipeline(fromIterable(data, { batchSize: 250 }), toSpill({ budget: 0, fileSize: 10_000, keep: true, dir }), {
    governor: false,
  });
  return dir;
}

test('spillway inspect describes a spill; --verify checks it; --json prints JSON', async () => {
  const dir = await makeSpill();
  const text = await cli(['inspect', dir, '--verify']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /rows 3,000 in 12 batches/);
  assert.match(text.stdout, /complete/);
  assert.match(text.stdout, /segment 0: id: Int32, name: Utf8, score: Float64/);
  const json = JSON.parse((await cli(['inspect', dir, '--json'])).stdout) as { numRows: number; files: unknown[] };
  assert.equal(json.numRows, 3000);
  assert.ok(json.files.length > 1);
  // corrupt a byte: --verify fails
  const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    files: { name: string; bytes: number }[];
  };
  const file = path.join(dir, m.files[0]!.name);
  const bytes = readFileSync(file);
  bytes[Math.floor(bytes.length / 2)]! ^= 1;
  writeFileSync(file, bytes);
  const bad = await cli(['inspect', dir, '--verify']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /FAILED: .*ERR_SPILLWAY_SPILL_CORRUPT/);
  const none = await cli(['inspect', path.join(dir, 'nope')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /Not a spill directory: it does not exist.*ERR_SPILLWAY_SPILL/);
});

test('spillway replay DIR --to out.csv / out.arrow / out.parquet writes the rows in order', async () => {
  const dir = await makeSpill();
  const out = tempDir('spillway-cli-out-');
  const csv = path.join(out, 'out.csv');
  const r = await cli(['replay', dir, '--to', csv]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3,000 rows/);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'id,name,score');
  assert.deepEqual(
    lines.slice(1),
    data.map((d) => `${d.id},${d.name},${d.score}`),
  );

  const arrow = path.join(out, 'out.arrow');
  const a = await cli(['replay', dir, '--to', arrow]);
  assert.equal(a.code, 0, a.stderr);
  const handle = await openArrowFile(arrow);
  assert.equal(handle.numRows, 3000);
  await handle.close();

  const parquet = path.join(out, 'out.parquet');
  const p = await cli(['replay', dir, '--to', parquet]);
  assert.equal(p.code, 0, p.stderr);
  assert.ok(existsSync(parquet));
  // written as `convert IN OUT` is: the second argument is the output
  const positional = path.join(out, 'positional.csv');
  const q = await cli(['replay', dir, positional]);
  assert.equal(q.code, 0, q.stderr);
  assert.equal(readFileSync(positional, 'utf8'), readFileSync(csv, 'utf8'));

  const bad = await cli(['replay', dir, '--to', path.join(out, 'x.txt')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot tell the format/);
  const missing = await cli(['replay', dir]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--to FILE is required/);
  // an incomplete spill: the advice is the CLI's flag, not the library's option
  const manifest = path.join(dir, 'manifest.json');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"complete": true', '"complete": false'));
  const incomplete = await cli(['replay', dir, '--to', path.join(out, 'partial.csv')]);
  assert.equal(incomplete.code, 1);
  assert.match(incomplete.stderr, /pass --partial to read the 3000 rows on disk/);
  const partial = await cli(['replay', dir, '--to', path.join(out, 'partial.csv'), '--partial']);
  assert.equal(partial.code, 0, partial.stderr);
});

test('spillway inspect on a missing file says so (not "Not a spill directory"), and an encrypted Parquet file is unsupported', async () => {
  const missing = path.join(tempDir(), 'trades.parquet');
  const gone = await cli(['inspect', missing]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /no such file.*ERR_SPILLWAY_IO/);
  const none = await cli(['inspect']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /expected one file, dataset or spill directory/);
  const encrypted = CORPUS && path.join(CORPUS, 'parquet', 'bad', 'uniform_encryption.parquet.encrypted');
  if (encrypted && existsSync(encrypted)) {
    const r = await cli(['inspect', encrypted]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Encrypted Parquet.*ERR_SPILLWAY_UNSUPPORTED/);
  }
});
