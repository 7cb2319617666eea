/**
 * `import 'spillway'` loads no codec, format reader or optional peer it does not need yet
 * (issue 17 item 8): apache-arrow, native addons (lz4, zstd, snappy), hyparquet, csv-stringify,
 * pidusage and bullmq/ioredis load on first use. Checked in a fresh process: ES modules through a load hook,
 * CommonJS ones through the require cache. (How long the import takes is measured in
 * bench/import.ts, not here.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ROOT, tempDir } from '../helpers.ts';

const run = promisify(execFile);

/** Packages that must not load at import. */
const LAZY = [
  'apache-arrow',
  'flatbuffers',
  'lz4-napi',
  'snappy',
  '@toondepauw/node-zstd',
  'hyparquet',
  'hyparquet-compressors',
  'csv-stringify',
  'pidusage',
  'bullmq',
  'ioredis',
  'playwright-core',
];

/** The packages (under node_modules) a fresh process has loaded after importing `entry` and running `after`. */
async function loadedBy(entry: string, after = ''): Promise<Set<string>> {
  const packages = new Set<string>();
  for (const file of await loadedFiles(entry, after)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m) packages.add(m[1]!);
  }
  return packages;
}

/** The files (paths or URLs, decoded) a fresh process has loaded after importing `entry` and running `after`. */
async function loadedFiles(entry: string, after = ''): Promise<string[]> {
  const dir = tempDir('spillway-light-');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `export async function load(url, context, next) {\n  process.stderr.write('LOADED ' + url + '\\n');\n  return next(url, context);\n}\n`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  const main = join(dir, 'main.mjs');
  writeFileSync(
    main,
    `import { createRequire } from 'node:module';\nconst spillway = await import(${JSON.stringify(entry)});\n${after}\nconsole.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));\n`,
  );
  const { stdout, stderr } = await run(
    process.execPath,
    ['--conditions=spillway-source', '--import', 'tsx', '--import', register, main],
    { cwd: ROOT, timeout: 120_000 },
  );
  const files = [
    ...(JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]),
    ...stderr
      .split('\n')
      .filter((l) => l.startsWith('LOADED '))
      .map((l) => l.slice(7)),
  ];
  return files.map((file) => decodeURIComponent(file));
}

test('importing the main entry loads no codec, Parquet reader or optional peer', async () => {
  const loaded = await loadedBy(pathToFileURL(join(ROOT, 'index.ts')).href);
  assert.ok(loaded.has('stream-chain'), 'the check sees packages that do load');
  assert.deepEqual(
    LAZY.filter((name) => loaded.has(name)),
    [],
  );
});

test('apache-arrow loads once a run meets Arrow (the check can tell)', async () => {
  const loaded = await loadedBy(
    pathToFileURL(join(ROOT, 'index.ts')).href,
    'await spillway.pipeline(spillway.fromIterable([{ a: 1 }]), spillway.toArrow(new (await import("node:stream")).PassThrough().resume()));',
  );
  assert.ok(loaded.has('apache-arrow'));
});

test('a codec loads once used (the check can tell)', async () => {
  const loaded = await loadedBy(
    pathToFileURL(join(ROOT, 'lib/formats/lz4.ts')).href,
    'spillway.decompressFrameSync(spillway.compressFrameSync(Buffer.from("x")));',
  );
  assert.ok(loaded.has('lz4-napi'));
});

test('a CSV -> groupBy -> Parquet run that fits its budget loads no csv-parse, zstd decoder, spill layer or worker pool', async () => {
  const dir = tempDir('spillway-light-run-');
  const csv = join(dir, 'in.csv');
  writeFileSync(csv, `k,v\n${Array.from({ length: 100 }, (_, i) => `k${i % 7},${i}`).join('\n')}\n`);
  const out = join(dir, 'out.parquet');
  const files = await loadedFiles(
    pathToFileURL(join(ROOT, 'index.ts')).href,
    `const r = await spillway.pipeline(spillway.fromCsv(${JSON.stringify(csv)}, { cast: true }), spillway.groupBy('k', { n: spillway.agg.count() }), spillway.toParquet(${JSON.stringify(out)}));
if (r.stats.rowsOut !== 7) throw new Error('expected 7 groups, got ' + r.stats.rowsOut);`,
  );
  assert.ok(
    files.some((f) => f.includes('lib/operators/group-table.ts')),
    'the check sees the modules the run loads',
  );
  const unwanted = [
    'node_modules/csv-parse/',
    'node_modules/fzstd/',
    'node_modules/lru-cache/',
    'lib/formats/spill/writer.ts',
    'lib/formats/spill/reader.ts',
    'lib/formats/records/record-codec.ts',
    'lib/workers/pool/pool-worker.ts',
    'lib/formats/csv/parallel/reader.ts',
  ];
  assert.deepEqual(
    files.filter((f) => unwanted.some((part) => f.includes(part))),
    [],
  );
});
