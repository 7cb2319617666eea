/**
 * toCsv and toJsonl compress `.gz` output but have no zstd compressor: a `.zst` or `.zstd` name
 * is refused when the sink is made (before any file exists), not written as plain text that
 * spillway's own readers then refuse as invalid zstd data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, toCsv, toJsonl } from '../../index.ts';
import { tempDir } from '../helpers.ts';

for (const [name, make] of [
  ['toCsv', (path: string, gzip?: boolean) => toCsv(path, gzip === undefined ? {} : { gzip })],
  ['toJsonl', (path: string, gzip?: boolean) => toJsonl(path, gzip === undefined ? {} : { gzip })],
] as const) {
  test(`${name} refuses a .zst / .zstd output name with a coded error, creating nothing`, () => {
    const dir = tempDir();
    const ext = name === 'toCsv' ? 'csv' : 'jsonl';
    for (const file of [`out.${ext}.zst`, `out.${ext}.zstd`, `OUT.${ext.toUpperCase()}.ZST`]) {
      for (const gzip of [undefined, false, true]) {
        assert.throws(
          () => make(join(dir, file), gzip),
          (error: Error & { code?: string }) => {
            assert.equal(error.code, ErrorCodes.INVALID_OPTION);
            assert.match(error.message, /zstd/);
            assert.match(error.message, /\.gz/);
            return true;
          },
          `${name} ${file} gzip=${gzip}`,
        );
      }
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  test(`${name} still takes .gz and plain names, and a name with .zst inside it`, () => {
    const dir = tempDir();
    const ext = name === 'toCsv' ? 'csv' : 'jsonl';
    for (const file of [`out.${ext}`, `out.${ext}.gz`, `out.zst.${ext}`]) make(join(dir, file));
  });
}
