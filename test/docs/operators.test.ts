/** Runs every ```ts example of docs/operators.md as a module (each throws when its result is wrong). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers.ts';
import { writeRunnableBlock } from './code-blocks.ts';

const page = readFileSync(join(ROOT, 'docs/operators.md'), 'utf8');
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/operators.md examples', () => {
  it('has examples', () => assert.ok(blocks.length >= 10));
  for (const [i, code] of blocks.entries()) {
    it(`example ${i + 1} runs`, async () => {
      // inside the repository so that `import 'spillway'` resolves to this package
      const file = writeRunnableBlock(code, join(ROOT, 'test/docs', `.example-${process.pid}-${i}.ts`));
      try {
        await import(pathToFileURL(file).href);
      } finally {
        rmSync(file, { force: true });
      }
    });
  }
});
