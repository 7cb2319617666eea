import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from '../helpers.ts';

const run = promisify(execFile);
const page = readFileSync(join(ROOT, 'docs/datasets.md'), 'utf8');
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const index = pathToFileURL(join(ROOT, 'index.ts')).href;
// tsx is resolved from the project, since the examples run in a temporary directory
const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href;

/** What each example must print (the page's comments say the same). */
const expected: RegExp[] = [
  /file: 'daily\/2026-11-30\.csv'/,
  /^2000 [\s\S]*rowGroupsSkipped: 9/m,
  /^334 2$/m,
  /id: 9007199254740993n[\s\S]*\] 1$/m,
];

test('docs/datasets.md: every example runs and prints what the page says', async () => {
  assert.equal(blocks.length, expected.length);
  const dir = tempDir('spillway-docs-datasets-');
  for (const [i, block] of blocks.entries()) {
    const file = join(dir, `example-${i}.mts`);
    writeFileSync(file, block.replaceAll("from 'spillway'", `from '${index}'`));
    const { stdout } = await run(process.execPath, ['--conditions=spillway-source', '--import', tsx, file], { cwd: dir, timeout: 120_000 });
    assert.match(stdout, expected[i]!, `example ${i} printed:\n${stdout}`);
  }
});
