/**
 * The package as users get it: `npm pack`, install the tarball into an empty folder, import it
 * from a plain .mjs file run by plain `node` (the main entry and each subpath), and run the
 * `spillway` bin. A TypeScript consumer
 * compiles against the published declarations with `skipLibCheck: false` and only @types/node
 * (no devDependency of ours, e.g. @types/debug, may be needed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers.ts';

test('the packed tarball installs into an empty folder and works from plain JavaScript', { timeout: 300_000 }, () => {
  const packDir = tempDir('spillway-pack-');
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: ROOT, encoding: 'utf8' });
  const tarball = join(packDir, out.trim().split('\n').pop() ?? '');
  assert.ok(existsSync(tarball), `npm pack wrote ${tarball}`);

  const app = tempDir('spillway-consumer-');
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], {
    cwd: app,
    encoding: 'utf8',
  });

  writeFileSync(join(app, 'in.csv'), 'sym,price,qty\nA,10,2\nB,20,0\n"C, Inc",5,4\n');
  writeFileSync(
    join(app, 'main.mjs'),
    `import { pipeline, fromCsv, map, filter, toCsv } from 'spillway';
const { output, stats } = await pipeline(
  fromCsv('in.csv', { cast: true }),
  filter((row) => row.qty > 0),
  map((row) => ({ ...row, notional: row.price * row.qty })),
  toCsv('out.csv'),
);
console.log(JSON.stringify({ rows: output.rows, rowsIn: stats.rowsIn, rowsOut: stats.rowsOut, allocator: stats.memory.allocator }));
`,
  );
  const printed = execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' });
  const run = JSON.parse(printed) as { allocator: string };
  // the install script built the allocator helper with npm's node-gyp (glibc Linux; elsewhere it says why not)
  const glibc = Boolean(
    (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime,
  );
  // built and loaded; it tunes glibc only once a governor's level leaves ok, which this small run never does
  if (glibc) assert.equal(run.allocator, 'loaded');
  else assert.match(run.allocator, /^unavailable: /);
  assert.deepEqual(run, { rows: 2, rowsIn: 3, rowsOut: 2, allocator: run.allocator });
  assert.equal(readFileSync(join(app, 'out.csv'), 'utf8'), 'sym,price,qty,notional\nA,10,2,20\n"C, Inc",5,4,20\n');

  // Parquet through the built encoder thread (dist/.../encoder-thread.js), read back
  writeFileSync(
    join(app, 'parquet.mjs'),
    `import { pipeline, fromCsv, fromParquet, toParquet, collect } from 'spillway';
await pipeline(fromCsv('in.csv', { cast: true, output: 'arrow' }), toParquet('out.parquet', { encoderThread: true }));
const { output } = await pipeline(fromParquet('out.parquet'), collect());
console.log(JSON.stringify(output));
`,
  );
  const parquetRows = execFileSync(process.execPath, ['parquet.mjs'], { cwd: app, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(parquetRows), [
    { sym: 'A', price: 10, qty: 2 },
    { sym: 'B', price: 20, qty: 0 },
    { sym: 'C, Inc', price: 5, qty: 4 },
  ]);

  // the bundle starts its own entries by path (lib/core/own-module.ts): pool threads, pool
  // processes and CSV parser threads (a file past PARALLEL_CSV.minBytes, one thread asked for)
  writeFileSync(join(app, 'double.mjs'), 'export default (row) => ({ n: row.n * 2 });\n');
  writeFileSync(join(app, 'big.csv'), `n,text\n${'1,"a, quoted ""text"" field padding the file"\n'.repeat(400_000)}`);
  writeFileSync(
    join(app, 'threads.mjs'),
    `import { pipeline, fromCsv, fromIterable, parallel, collect, drain } from 'spillway';
const rows = Array.from({ length: 50 }, (_, n) => ({ n }));
const out = {};
for (const isolation of ['thread', 'process']) {
  const { output } = await pipeline(fromIterable(rows), parallel(new URL('./double.mjs', import.meta.url), { workers: 2, isolation }), collect());
  out[isolation] = output.reduce((sum, row) => sum + row.n, 0);
}
const csv = await pipeline(fromCsv('big.csv', { cast: true }), drain(), { governor: false });
const source = csv.stats.stages.find((s) => s.name.startsWith('fromCsv'));
out.csv = { rows: csv.stats.rowsIn, parserThreads: source.details.parserThreads };
console.log(JSON.stringify(out));
`,
  );
  const threaded = JSON.parse(
    execFileSync(process.execPath, ['threads.mjs'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, SPILLWAY_CSV_THREADS: '1' },
    }),
  ) as unknown;
  assert.deepEqual(threaded, { thread: 2450, process: 2450, csv: { rows: 400_000, parserThreads: 1 } });
  // each subpath resolves from the tarball; bullmq and ioredis (optional peers) are not installed,
  // so the distributed entry imports but its first use asks for them with a coded error
  assert.ok(!existsSync(join(app, 'node_modules/bullmq')), 'an optional peer dependency is not installed');
  writeFileSync(
    join(app, 'subpaths.mjs'),
    `import { rowsToRecordBatch, recordBatchToRows } from 'spillway/arrow';
import { ParquetFileWriter, PreciseDate } from 'spillway/parquet';
import { WorkerPool } from 'spillway/workers';
import { BullmqBackend, QueueWorker } from 'spillway/distributed';
import { Batch, BatchTransform, formatBytes } from 'spillway/extend';
import { pipeline, fromIterable, parallel, collect } from 'spillway';
const rows = recordBatchToRows(rowsToRecordBatch([{ a: 1 }, { a: 2 }]));
const out = { rows, kinds: [ParquetFileWriter, PreciseDate, WorkerPool, BullmqBackend, QueueWorker, Batch, BatchTransform].map((f) => typeof f), bytes: formatBytes(2048) };
try {
  await pipeline(fromIterable([{ n: 1 }]), parallel(new URL('./noop.mjs', import.meta.url), { backend: { type: 'bullmq', connection: { host: '127.0.0.1', port: 1 }, queue: 'q' } }), collect(), { governor: false });
} catch (error) {
  out.distributed = { code: error.code, message: error.message };
}
console.log(JSON.stringify(out));
`,
  );
  writeFileSync(join(app, 'noop.mjs'), 'export default (row) => row;\n');
  const subpaths = JSON.parse(execFileSync(process.execPath, ['subpaths.mjs'], { cwd: app, encoding: 'utf8' })) as {
    rows: unknown;
    kinds: string[];
    bytes: string;
    distributed?: { code: string; message: string };
  };
  assert.deepEqual(subpaths.rows, [{ a: 1 }, { a: 2 }]);
  assert.deepEqual(subpaths.kinds, Array(7).fill('function'));
  assert.equal(typeof subpaths.bytes, 'string');
  assert.equal(subpaths.distributed?.code, 'ERR_SPILLWAY_UNSUPPORTED');
  assert.match(subpaths.distributed?.message ?? '', /npm install bullmq ioredis/);

  // types ship with the package, and compile for a strict consumer that checks them
  assert.ok(existsSync(join(app, 'node_modules/spillway/dist/index.d.ts')));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        // @types/node only, from our own tree (a consumer has it); nothing else of ours is visible
        typeRoots: [join(ROOT, 'node_modules/@types')],
        types: ['node'],
      },
      files: ['consumer.ts'],
    }),
  );
  writeFileSync(
    join(app, 'consumer.ts'),
    `import { pipeline, fromCsv, map, toCsv, collect, type PipelineResult } from 'spillway';
import { rowsToRecordBatch } from 'spillway/arrow';
import { ParquetFileWriter } from 'spillway/parquet';
import { WorkerPool, type PoolStats } from 'spillway/workers';
import { BullmqBackend, type BullmqBackendOptions } from 'spillway/distributed';
import { BatchTransform, type StageContext } from 'spillway/extend';
interface Trade { sym: string; price: number; qty: number }
const result: PipelineResult<unknown> = await pipeline(fromCsv('in.csv', { cast: true }), map((row: Record<string, unknown>) => row), toCsv('typed.csv'));
const typed: PipelineResult<Trade[]> = await pipeline(fromCsv<Trade>('in.csv', { cast: true }), collect<Trade>());
const used: unknown[] = [rowsToRecordBatch, ParquetFileWriter, WorkerPool, BullmqBackend, BatchTransform];
const types: [PoolStats?, BullmqBackendOptions?, StageContext?] = [];
console.log(result.stats.rowsIn, typed.output[0]?.sym, used.length, types.length);
`,
  );
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], {
      cwd: app,
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (error) {
    assert.fail(
      `the published declarations do not compile with skipLibCheck: false:\n${(error as { stdout?: string }).stdout ?? String(error)}`,
    );
  }
  // the bin prints its version and help
  const bin = join(app, 'node_modules/.bin/spillway');
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  assert.equal(version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  assert.match(execFileSync(bin, ['--help'], { encoding: 'utf8' }), /Usage: spillway/);
});
