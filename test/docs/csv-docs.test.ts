/** Every TypeScript example in docs/csv.md runs as it is (a child process importing the package). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { ROOT } from '../helpers.ts';

const blocks = [...readFileSync(join(ROOT, 'docs/csv.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('docs/csv.md has examples, and each one runs', async (t) => {
  assert.ok(blocks.length >= 4, `expected the examples, found ${blocks.length}`);
  for (const [i, code] of blocks.entries()) {
    await t.test(`example ${i + 1}`, async () => {
      // inside the project, so `spillway` resolves to this package
      const file = join(ROOT, `.docs-example-${process.pid}-${i}.mts`);
      writeFileSync(file, code);
      try {
        const stdout = await new Promise<string>((resolve, reject) => {
          execFile(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8' }, (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)));
        });
        assert.ok(stdout.length > 0, 'the example prints what it shows');
      } finally {
        rmSync(file, { force: true });
      }
    });
  }
});
