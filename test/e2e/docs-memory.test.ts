/**
 * The ```ts examples of docs/memory.md run as written (with `spillway` pointing at this checkout),
 * each in its own process, and print only `true`s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, tempDir } from '../helpers.ts';

const blocks = [...readFileSync(join(ROOT, 'docs/memory.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('docs/memory.md has examples', () => {
  assert.ok(blocks.length >= 3);
});

for (const [i, code] of blocks.entries()) {
  test(`docs/memory.md example ${i + 1} runs`, { timeout: 120_000 }, async () => {
    const file = join(tempDir('spillway-docs-'), `example-${i + 1}.mts`);
    writeFileSync(file, code.replaceAll("from 'spillway'", `from ${JSON.stringify(join(ROOT, 'index.ts'))}`));
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', file], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
    const words = stdout.trim().split(/\s+/).filter((w) => w.length > 0 && !/^(ok|spill|pause|critical)$/.test(w) && !/^\d+$/.test(w));
    assert.ok(words.length > 0, `example ${i + 1} printed nothing`);
    for (const w of words) assert.equal(w, 'true', `example ${i + 1} printed ${stdout}`);
  });
}
