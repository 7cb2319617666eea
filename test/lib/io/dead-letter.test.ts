/**
 * A dead-letter path that names the input file (as written, through `./` or a link) is refused
 * before anything is written: it was opened for writing and truncated the input as it was read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pipeline, fromCsv, fromJsonl, collect, ValidationError } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';

test('onError.deadLetter naming the input itself is a ValidationError; the input is untouched', async () => {
  const dir = tempDir();
  const csv = join(dir, 'in.csv');
  const jsonl = join(dir, 'in.jsonl');
  writeFileSync(csv, 'a,b\n1,2\nBAD\n3,4\n');
  writeFileSync(jsonl, '{"a":1}\nnot json\n{"a":2}\n');
  symlinkSync(csv, join(dir, 'link.csv'));
  const cases = [
    () => fromCsv(csv, { onError: { deadLetter: csv } }),
    () => fromCsv(csv, { onError: { deadLetter: join(dir, 'link.csv') } }),
    () => fromCsv(csv, { onError: { deadLetter: `./${relative(process.cwd(), csv)}` } }),
    () => fromJsonl(jsonl, { onError: { deadLetter: jsonl } }),
  ];
  for (const source of cases)
    await assert.rejects(pipeline(source(), collect()), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /is the input file .* itself/);
      return true;
    });
  assert.equal(readFileSync(csv, 'utf8'), 'a,b\n1,2\nBAD\n3,4\n');
  assert.equal(readFileSync(jsonl, 'utf8'), '{"a":1}\nnot json\n{"a":2}\n');
  // another file is written as before
  const { output } = await pipeline(fromCsv(csv, { onError: { deadLetter: join(dir, 'bad.jsonl') } }), collect());
  assert.equal(output.length, 2);
  assert.match(readFileSync(join(dir, 'bad.jsonl'), 'utf8'), /BAD/);
});
