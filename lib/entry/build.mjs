/**
 * `npm run build`: dist/ as the package ships it. tsc writes the declarations (and type-checks);
 * esbuild bundles the JavaScript, one file per entry (the package's exports, the CLI and the
 * entries spillway starts in threads and processes, see lib/core/own-module.ts), with the code
 * they share in dist/chunks/ and every lazily loaded part (a format, the dashboard, BullMQ's
 * backend) in a chunk of its own, still loaded only when first used.
 *
 * Why: Node resolves and loads each file of an import on its own, which cost more than running
 * them. Measured on 2026-12-04 (2 cores, Node 20), `await import('spillway')` in a fresh process:
 * 193 files, 132-186 ms from tsc's one file per module, against 57 files, 56-77 ms bundled; every
 * worker thread and child process pays the same again.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = join(root, 'dist');

/** Modules spillway starts by path, in a thread or a process (see ownModule). */
const STARTED_BY_PATH = [
  'lib/formats/parquet/encode/encoder-thread.ts',
  'lib/formats/csv/parallel/worker.ts',
  'lib/workers/pool/worker-entry.ts',
  'lib/workers/distributed/probe-entry.ts',
];

const entryPoints = [
  'index.ts',
  'lib/cli/main.ts',
  ...readdirSync(join(root, 'lib/entry'))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `lib/entry/${name}`),
  ...STARTED_BY_PATH,
];

rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
await build({
  absWorkingDir: root,
  entryPoints,
  outbase: '.',
  outdir: dist,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // dependencies stay in node_modules: they are the user's to update, and some are native
  packages: 'external',
  sourcemap: 'linked',
  // the maps name the TypeScript sources by path (the package does not ship them): lines, not text
  sourcesContent: false,
  logLevel: 'warning',
});
