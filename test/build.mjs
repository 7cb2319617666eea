/**
 * Run by `npm test` before the tests. Compiles the whole project (sources, tests, fixtures,
 * samples) to JavaScript in .tmp/test-build/ with tsc, which type-checks all of it on the way, and
 * gives that folder a package.json whose exports point at the compiled entry points, so that
 * `import ... from 'spillway'` in a compiled fixture loads compiled code too.
 *
 * Why: `npm test` runs 180 test files, each in its own process, and they start a few hundred
 * more (CLI runs, SIGKILL reruns, fixtures, the docs' examples). Under tsx each process spends
 * about 2.2 s of CPU loading; from JavaScript about 0.8 s. So `npm test` runs the compiled test
 * files with SPILLWAY_TEST_BUILD naming this folder, and `nodeScript()`/`runnable()` in
 * test/helpers.ts start children from it too. A test file run by hand from the sources
 * (`node --conditions=spillway-source --import tsx --test test/...`) starts them through tsx.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.tmp', 'test-build');

rmSync(out, { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const flags = ['--outDir', out, '--declaration', 'false', '--sourceMap', 'false'];
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), ...flags], { stdio: 'inherit' });
} catch {
  console.error('test/build.mjs: tsc found type errors (above); the tests do not run on code that does not type-check');
  process.exit(1);
}

/** The package's export targets, moved from ./dist/ to the build's root. */
function fromDist(value) {
  if (typeof value === 'string') return value.replace(/^\.\/dist\//, './');
  const moved = {};
  for (const [key, target] of Object.entries(value))
    if (key !== 'spillway-source' && key !== 'types') moved[key] = fromDist(target);
  return moved;
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const built = {
  name: pkg.name,
  version: pkg.version,
  type: pkg.type,
  exports: fromDist(pkg.exports),
  bin: fromDist(pkg.bin),
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(built, null, 2)}\n`);
