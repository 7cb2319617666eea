/** lib/cli/sniff.ts: the first bytes that make a file Parquet or Arrow for `convert` and `inspect`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataFormatOf, sniffDataFile } from '../../../lib/cli/sniff.ts';
import { tempDir } from '../../helpers.ts';

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

test('dataFormatOf: Parquet, encrypted Parquet, Arrow file and stream; nothing else', () => {
  assert.equal(dataFormatOf(bytes('PAR1', [0, 0, 0, 0])), 'parquet');
  assert.equal(dataFormatOf(bytes('PARE', [0x2d, 0, 0, 0])), 'parquet');
  assert.equal(dataFormatOf(bytes('ARROW1', [0, 0])), 'arrow');
  // continuation marker, then a metadata length
  assert.equal(dataFormatOf(bytes([0xff, 0xff, 0xff, 0xff, 0xc8, 1, 0, 0])), 'arrow');
  // a marker followed by a negative length is no stream
  assert.equal(dataFormatOf(bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), undefined);
  // a pre-0.15 stream (bare length) is not told apart from text: left to the extension or --from
  assert.equal(dataFormatOf(bytes([0x7c, 7, 0, 0, 0x10, 0, 0, 0])), undefined);
  assert.equal(dataFormatOf(bytes('id,name\n')), undefined);
  assert.equal(dataFormatOf(bytes('PAR')), undefined);
  assert.equal(dataFormatOf(bytes([0xff, 0xff, 0xff, 0xff])), undefined);
  assert.equal(dataFormatOf(new Uint8Array(0)), undefined);
  // a view into a larger buffer is read at its own offset
  const inside = bytes('xxxx', 'ARROW1', [0, 0]).subarray(4);
  assert.equal(dataFormatOf(inside), 'arrow');
});

test('sniffDataFile: a missing file, a directory and an empty file are undefined, not errors', () => {
  const dir = tempDir();
  assert.equal(sniffDataFile(join(dir, 'missing.bin')), undefined);
  mkdirSync(join(dir, 'sub'));
  assert.equal(sniffDataFile(join(dir, 'sub')), undefined);
  writeFileSync(join(dir, 'empty'), '');
  assert.equal(sniffDataFile(join(dir, 'empty')), undefined);
  writeFileSync(join(dir, 'a'), bytes('PAR1', [1, 2, 3, 4], 'PAR1'));
  assert.equal(sniffDataFile(join(dir, 'a')), 'parquet');
});
