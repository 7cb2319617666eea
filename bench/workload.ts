/**
 * How a bench case runs in a fresh process: as a user runs spillway. The workload scripts
 * (bench/workloads/*.ts) import `spillway` by its package name; they are compiled to JavaScript
 * once per bench run (tsconfig.bench.json, into dist-bench/) and run with plain node against the
 * built package (dist/, bundled as `npm run build` does it), with no TypeScript loader. Run from source through tsx,
 * a process starts about 60 MB higher (tsx's loader and the compiled sources stay in memory,
 * also in the Parquet encoder thread), which is not what a user's process holds and would count
 * against every memory goal. `SPILLWAY_BENCH_SOURCE=1` runs the sources through tsx instead.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const above = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The project root (also when this file runs compiled under .tmp/test-build/, as `npm test` does). */
const ROOT = above.endsWith(join('.tmp', 'test-build')) ? join(above, '../..') : above;
/** Read at each call: a test sets it after its imports. */
const fromSource = (): boolean => process.env.SPILLWAY_BENCH_SOURCE === '1';
let built = false;

/** Builds the package and the workloads once per process (skipped when running from source). */
function build(): void {
  if (built || fromSource()) return;
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  process.stderr.write('building dist/ and dist-bench/ so bench cases run as compiled JavaScript ...\n');
  execFileSync(process.execPath, [join(ROOT, 'lib/entry/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.bench.json')], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

/**
 * The node arguments that run workload `name` (a file in bench/workloads, e.g. `ingest-case.ts`)
 * with `args`: the compiled script, or the source through tsx with `SPILLWAY_BENCH_SOURCE=1`.
 */
export function workloadArgs(name: string, args: readonly string[]): string[] {
  // under `npm test` the whole project is compiled already (test/build.mjs): run the workload from there
  const testBuild = process.env.SPILLWAY_TEST_BUILD;
  if (testBuild) return [join(resolve(ROOT, testBuild), 'bench/workloads', name.replace(/\.ts$/, '.js')), ...args];
  if (fromSource())
    return ['--conditions=spillway-source', '--import', 'tsx', join(ROOT, 'bench/workloads', name), ...args];
  build();
  const compiled = join(ROOT, 'dist-bench', name.replace(/\.ts$/, '.js'));
  if (!existsSync(compiled) || statSync(compiled).size === 0) throw new Error(`${compiled} was not built`);
  return [compiled, ...args];
}

/** What the figures were measured on, for the notes. */
export function workloadRuntime(): string {
  return fromSource() ? 'from source through tsx' : 'compiled dist/, no tsx';
}
