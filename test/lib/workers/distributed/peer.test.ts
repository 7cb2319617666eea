/**
 * bullmq and ioredis are optional peer dependencies. Without them, `spillway/distributed` still
 * imports, and the first use of the queue backend is a coded error that says what to install. The
 * packages are made missing for real: a child process whose resolve hook answers
 * ERR_MODULE_NOT_FOUND for them, as Node does when they are not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ROOT, tempDir } from '../../../helpers.ts';

const run = promisify(execFile);

/** Runs `body` (a module) in a child where `hidden` cannot be resolved; returns its stdout as JSON. */
async function withoutPackages(hidden: string[], body: string): Promise<unknown> {
  const dir = tempDir('spillway-peer-');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `const hidden = new Set(${JSON.stringify(hidden)});
export async function resolve(specifier, context, next) {
  if (hidden.has(specifier)) {
    const error = new Error(\`Cannot find package '\${specifier}' imported from \${context.parentURL}\`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  const main = join(dir, 'main.mts');
  writeFileSync(main, body);
  const { stdout } = await run(
    process.execPath,
    ['--conditions=spillway-source', '--import', 'tsx', '--import', register, main],
    { cwd: ROOT, timeout: 120_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const entry = (path: string): string => JSON.stringify(pathToFileURL(join(ROOT, path)).href);

test('without bullmq, the distributed backend asks for `npm install bullmq ioredis` with a coded error', async () => {
  const printed = await withoutPackages(
    ['bullmq', 'ioredis'],
    `import { pipeline, fromIterable, parallel, collect } from ${entry('index.ts')};
import { QueueWorker } from ${entry('lib/entry/distributed.ts')};
const out = {};
// the hook is live: the package itself cannot be imported in this process
out.direct = await import('bullmq').then(() => 'loaded', (e) => e.code);
const stage = parallel(${JSON.stringify(join(ROOT, 'test/fixtures/distributed/echo.ts'))}, { backend: { type: 'bullmq', connection: { host: '127.0.0.1', port: 1 }, queue: 'q' } });
try {
  await pipeline(fromIterable([{ n: 1 }]), stage, collect(), { governor: false });
  out.pipeline = 'resolved';
} catch (e) {
  out.pipeline = { name: e.name, code: e.code, message: e.message };
}
const worker = new QueueWorker({ module: ${JSON.stringify(join(ROOT, 'test/fixtures/distributed/echo.ts'))}, connection: { host: '127.0.0.1', port: 1 }, queue: 'q' });
try {
  await worker.start();
  out.worker = 'started';
} catch (e) {
  out.worker = { code: e.code, message: e.message };
} finally {
  await worker.destroy();
}
console.log(JSON.stringify(out));
`,
  );
  const expected = {
    code: 'ERR_SPILLWAY_UNSUPPORTED',
    message:
      'The distributed backend needs the optional peer dependencies bullmq and ioredis: npm install bullmq ioredis',
  };
  assert.deepEqual(printed, {
    direct: 'ERR_MODULE_NOT_FOUND',
    pipeline: { name: 'UnsupportedError', ...expected },
    worker: expected,
  });
});

test('with bullmq present but ioredis missing, the same coded error', async () => {
  const printed = await withoutPackages(
    ['ioredis'],
    `import { pipeline, fromIterable, parallel, collect } from ${entry('index.ts')};
try {
  await pipeline(fromIterable([{ n: 1 }]), parallel(${JSON.stringify(join(ROOT, 'test/fixtures/distributed/echo.ts'))}, { backend: { type: 'bullmq', connection: { host: '127.0.0.1', port: 1 }, queue: 'q' } }), collect(), { governor: false });
  console.log(JSON.stringify('resolved'));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
`,
  );
  assert.deepEqual(printed, {
    code: 'ERR_SPILLWAY_UNSUPPORTED',
    message:
      'The distributed backend needs the optional peer dependencies bullmq and ioredis: npm install bullmq ioredis',
  });
});
