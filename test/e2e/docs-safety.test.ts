/**
 * The examples of docs/safety.md run as they are: each ```ts block is written to a module in
 * the project (so `spillway` resolves to this package) and run by node, and the values its
 * comments promise (`// 3`) are what it prints.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers.ts';

const run = promisify(execFile);
const blocks = [...readFileSync(join(ROOT, 'docs/safety.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('docs/safety.md has examples', () => assert.ok(blocks.length >= 2));

blocks.forEach((code, i) => {
  test(`docs/safety.md example ${i + 1} runs and prints what its comments say`, async () => {
    const file = join(ROOT, `.docs-safety-example-${process.pid}-${i}.mts`);
    writeFileSync(file, code);
    try {
      const { stdout } = await run(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', file], { cwd: ROOT, timeout: 60_000 });
      const expected = [...code.matchAll(/console\.log\([^)]*\);\s*\/\/ (\S+)/g)].map((m) => m[1]);
      assert.deepEqual(stdout.trim().split('\n'), expected);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
