import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { toSpill } from '../../../../sinks/toSpill.ts';
import { openSpill, type Spilled } from '../../../../lib/formats/spill/spilled.ts';
import { ErrorCodes, type SpillwayError } from '../../../../lib/core/errors.ts';
import { crc32, crc32Fallback, nativeCrc32 } from '../../../../lib/formats/checksum.ts';
import { tempDir } from '../../../helpers.ts';

const rows = (n: number, width = 20): { i: number; s: string }[] =>
  Array.from({ length: n }, (_, i) => ({ i, s: `${i}:`.padEnd(width, 'abcdefgh'[i % 8]!) }));

async function spillTo(dir: string, n = 4000): Promise<Spilled> {
  const { output } = await pipeline(
    fromIterable(rows(n), { batchSize: 200 }),
    toSpill({ budget: 0, fileSize: 8000, keep: true, dir }),
    { governor: false },
  );
  return output;
}

async function readAll(s: Spilled): Promise<number> {
  let n = 0;
  for await (const _ of s.rows()) n++;
  return n;
}

test('crc32: the native and table-driven versions agree', () => {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog');
  assert.equal(crc32Fallback(data), 0x414fa339);
  assert.equal(crc32(data), 0x414fa339);
  assert.equal(crc32(data.subarray(10), crc32(data.subarray(0, 10))), 0x414fa339);
  assert.equal(typeof nativeCrc32, 'boolean');
});

test('a flipped byte fails with SpillCorruptError naming the file and batch, never wrong rows', async () => {
  const dir = path.join(tempDir('spillway-corrupt-'), 'spill');
  const written = await spillTo(dir);
  await written.dispose();
  const entry = written.manifest.files[1]!;
  const file = path.join(dir, entry.name);
  const bytes = readFileSync(file);
  const [offset, length] = entry.batchRanges[2]!;
  bytes[offset + Math.floor(length / 2)]! ^= 0x40;
  writeFileSync(file, bytes);
  const spilled = await openSpill(dir);
  // batches of the first file still read
  assert.deepStrictEqual(await spilled.get(0), { i: 0, s: rows(1)[0]!.s });
  // each batch is verified on its own as it is read: the intact batches of that file read right
  const firstOfFile = written.manifest.files[0]!.rows;
  assert.deepStrictEqual(await spilled.get(firstOfFile), { i: firstOfFile, s: rows(firstOfFile + 1)[firstOfFile]!.s });
  const tampered = firstOfFile + entry.batchRows[0]! + entry.batchRows[1]!;
  await assert.rejects(
    spilled.get(tampered),
    (e: SpillwayError) =>
      e.code === ErrorCodes.SPILL_CORRUPT && e.context.batch === 2 && e.message.includes(entry.name),
  );
  // an ordered replay stops at that batch, having yielded only the rows before it
  let replayed = 0;
  await assert.rejects(
    (async () => {
      for await (const row of spilled.rows()) {
        assert.equal((row as { i: number }).i, replayed);
        replayed++;
      }
    })(),
    (e: SpillwayError) => e.code === ErrorCodes.SPILL_CORRUPT && e.context.batch === 2,
  );
  assert.equal(replayed, tampered);
  await assert.rejects(readAll(spilled), { code: ErrorCodes.SPILL_CORRUPT });
  await spilled.dispose({ remove: true });
});

test('a flipped byte outside any batch (schema, footer) fails the first read of that file, naming it', async () => {
  const dir = path.join(tempDir('spillway-corrupt-footer-'), 'spill');
  const written = await spillTo(dir);
  await written.dispose();
  const entry = written.manifest.files[1]!;
  const file = path.join(dir, entry.name);
  for (const at of [entry.batchRanges[0]![0] - 3, entry.bytes - 20]) {
    const bytes = readFileSync(file);
    bytes[at]! ^= 0x01;
    writeFileSync(file, bytes);
    const spilled = await openSpill(dir);
    assert.deepStrictEqual(await spilled.get(0), { i: 0, s: rows(1)[0]!.s });
    await assert.rejects(
      spilled.get(written.manifest.files[0]!.rows),
      (e: SpillwayError) =>
        e.code === ErrorCodes.SPILL_CORRUPT && /outside any batch/.test(e.message) && e.message.includes(entry.name),
    );
    await spilled.dispose();
    bytes[at]! ^= 0x01;
    writeFileSync(file, bytes);
  }
  await (await openSpill(dir)).dispose({ remove: true });
});

test('a truncated file fails with SpillCorruptError naming the file and the first batch cut off', async () => {
  const dir = path.join(tempDir('spillway-trunc-'), 'spill');
  const written = await spillTo(dir);
  await written.dispose();
  const entry = written.manifest.files[0]!;
  const cut = entry.batchRanges[1]![0] + 5;
  truncateSync(path.join(dir, entry.name), cut);
  const spilled = await openSpill(dir);
  await assert.rejects(
    spilled.get(0),
    (e: SpillwayError) =>
      e.code === ErrorCodes.SPILL_CORRUPT &&
      e.context.batch === 1 &&
      /truncated/.test(e.message) &&
      e.message.includes(entry.name),
  );
  await spilled.dispose({ remove: true });
});

test('a manifest naming a path outside its directory is refused', async () => {
  const dir = path.join(tempDir('spillway-traversal-'), 'spill');
  const written = await spillTo(dir, 1000);
  await written.dispose();
  const manifestPath = path.join(dir, 'manifest.json');
  const original = readFileSync(manifestPath, 'utf8');
  for (const evil of ['../../etc/passwd', '/etc/passwd', '..', 'sub/file.arrow', '.hidden']) {
    const m = JSON.parse(original) as { files: { name: string }[] };
    m.files[0]!.name = evil;
    writeFileSync(manifestPath, JSON.stringify(m));
    await assert.rejects(
      openSpill(dir),
      (e: SpillwayError) =>
        e.code === ErrorCodes.SPILL && /outside its directory/.test(e.message) && e.context.dir === dir,
      evil,
    );
  }
  writeFileSync(manifestPath, '{ not json');
  await assert.rejects(openSpill(dir), { code: ErrorCodes.SPILL });
  const m = JSON.parse(original) as { numRows: number };
  m.numRows += 1;
  writeFileSync(manifestPath, JSON.stringify(m));
  await assert.rejects(openSpill(dir), { code: ErrorCodes.SPILL, message: /totals/ });
  rmSync(dir, { recursive: true, force: true });
});

test('a missing file is refused clearly; a missing manifest says it is not a spill directory', async () => {
  const dir = path.join(tempDir('spillway-missing-'), 'spill');
  const written = await spillTo(dir, 1000);
  await written.dispose();
  const gone = written.manifest.files.at(-1)!.name;
  rmSync(path.join(dir, gone));
  await assert.rejects(
    openSpill(dir),
    (e: SpillwayError) => e.code === ErrorCodes.SPILL && e.message.includes(gone) && /missing/.test(e.message),
  );
  rmSync(path.join(dir, 'manifest.json'));
  await assert.rejects(openSpill(dir), { code: ErrorCodes.SPILL, message: /Not a spill directory/ });
});

test('an incomplete spill (rows kept in memory) is refused unless partial', async () => {
  const dir = path.join(tempDir('spillway-partial-'), 'spill');
  const { output } = await pipeline(fromIterable(rows(1000), { batchSize: 100 }), toSpill({ budget: 40_000, dir }), {
    governor: false,
  });
  assert.ok(output.rowsInMemory > 0);
  await assert.rejects(openSpill(dir), { code: ErrorCodes.SPILL, message: /incomplete/ });
  const partial = await openSpill(dir, { partial: true });
  assert.equal(partial.numRows, 1000 - output.rowsInMemory);
  assert.equal(await readAll(partial), partial.numRows);
  await partial.dispose();
  await output.dispose();
});

test('an unwritable directory fails with SpillError naming it', async (t) => {
  if (process.getuid?.() === 0) {
    // root ignores permissions: use a path under a regular file instead
    const base = tempDir('spillway-unwritable-');
    writeFileSync(path.join(base, 'file'), 'x');
    const dir = path.join(base, 'file', 'spill');
    await assert.rejects(
      pipeline(fromIterable(rows(100)), toSpill({ budget: 0, dir }), { governor: false }),
      (e: SpillwayError) => e.code === ErrorCodes.SPILL && e.context.dir === dir,
    );
    return;
  }
  const base = tempDir('spillway-unwritable-');
  const dir = path.join(base, 'ro');
  mkdirSync(dir, { mode: 0o500 });
  t.after(() => chmodSync(dir, 0o700));
  await assert.rejects(
    pipeline(fromIterable(rows(100)), toSpill({ budget: 0, dir }), { governor: false }),
    (e: SpillwayError) => e.code === ErrorCodes.SPILL && e.context.dir === dir,
  );
});

/** Mounts a tiny tmpfs, or returns a reason why not. */
function tinyTmpfs(): { dir: string; unmount(): void } | string {
  const dir = tempDir('spillway-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    return `cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]}); full-disk behaviour is covered only where mount is permitted`;
  }
  return { dir, unmount: () => execFileSync('umount', [dir], { stdio: 'pipe' }) };
}

test('a full disk fails with SpillError naming the dir; files in the manifest stay intact and readable', async (t) => {
  const fs = tinyTmpfs();
  if (typeof fs === 'string') {
    t.skip(fs);
    return;
  }
  try {
    const dir = path.join(fs.dir, 'spill');
    // incompressible text so that 1 MB fills
    const noise = (i: number): string => Buffer.from(crypto.getRandomValues(new Uint8Array(96))).toString('base64') + i;
    const data = Array.from({ length: 30_000 }, (_, i) => ({ i, s: noise(i) }));
    await assert.rejects(
      pipeline(
        fromIterable(data, { batchSize: 500 }),
        toSpill({ budget: 0, fileSize: 100_000, keep: true, dir, compression: 'none' }),
        { governor: false },
      ),
      (e: SpillwayError) =>
        e.code === ErrorCodes.SPILL &&
        e.context.dir === dir &&
        /ENOSPC|no space/i.test(String((e.cause as Error | undefined)?.message ?? e.message)),
    );
    const names = readdirSync(dir);
    assert.ok(!names.some((n) => n.endsWith('.tmp')), `no temporary file remains: ${names.join(', ')}`);
    const spilled = await openSpill(dir, { partial: true });
    assert.ok(spilled.manifest.files.length > 0, 'some files were committed before the disk filled');
    for (const name of names)
      if (name !== 'manifest.json' && name !== 'manifest.seal')
        assert.ok(
          spilled.manifest.files.some((f) => f.name === name),
          `${name} is listed`,
        );
    let i = 0;
    for await (const row of spilled.rows()) assert.deepStrictEqual(row, data[i++]);
    assert.equal(i, spilled.numRows);
    await spilled.dispose();
  } finally {
    fs.unmount();
  }
  assert.equal(existsSync(path.join(fs.dir, 'spill')), false);
});
