/**
 * Text with a lone surrogate (half of a UTF-16 pair: a JSON escape like "\ud800" gives one, and
 * fromJsonl reads it exactly) has no UTF-8. toParquet, toArrow and toCsv wrote U+FFFD in its
 * place without a word until 2026-12-07 (helper-74); each now refuses it with a coded error
 * naming the column, leaving no file, and toJsonl, whose escapes hold it, still writes it back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ErrorCodes,
  fromJsonl,
  pipeline,
  toArrow,
  toCsv,
  toJsonl,
  toParquet,
  type SpillwayError,
} from '../../index.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir();
const input = join(dir, 'lone.jsonl');
writeFileSync(input, '{"id":1,"s":"ok","l":["a"]}\n{"id":2,"s":"ab\\ud800cd","l":["b"]}\n');
const nested = join(dir, 'lone-nested.jsonl');
writeFileSync(nested, '{"id":1,"l":["a"]}\n{"id":2,"l":["\\udfff"]}\n');

for (const [name, from, sink, column] of [
  ['toParquet', input, toParquet, 's'],
  ['toParquet, inside a list', nested, toParquet, 'l'],
  ['toArrow', input, toArrow, 's'],
  ['toCsv', input, toCsv, 's'],
] as const) {
  test(`${name} refuses text with a lone surrogate, naming the column; no file is left`, async () => {
    const out = join(dir, `${name.replaceAll(/\W+/g, '-')}.out`);
    await assert.rejects(
      pipeline(fromJsonl(from), (sink as (path: string) => ReturnType<typeof toCsv>)(out)),
      (e: SpillwayError) =>
        (e.code === ErrorCodes.FORMAT || e.code === ErrorCodes.SCHEMA_MISMATCH) &&
        e.message.includes(`${column}`) &&
        /lone surrogate.*U\+FFFD/.test(e.message),
    );
    assert.equal(existsSync(out), false);
  });
}

test('toJsonl keeps a lone surrogate, escaped', async () => {
  const out = join(dir, 'copy.jsonl');
  await pipeline(fromJsonl(input), toJsonl(out));
  assert.match(readFileSync(out, 'utf8'), /"s":"ab\\ud800cd"/);
});
