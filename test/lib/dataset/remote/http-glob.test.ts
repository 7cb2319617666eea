/**
 * Globs over HTTP: HTTP has no listing, so a glob in a URL's path is refused when the source is
 * built, with ERR_SPILLWAY_UNSUPPORTED and the reason (and no request is made); `?` in a URL is
 * a query, never a glob; a percent-encoded `*` is a literal character of a file name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromCsv, fromParquet, ErrorCodes, SpillwayError } from '../../../../index.ts';
import { expandDataset } from '../../../../lib/dataset/expand.ts';
import { expectNoHttpGlob } from '../../../../lib/dataset/remote/url.ts';

function unsupported(error: unknown): boolean {
  assert.ok(error instanceof SpillwayError);
  assert.equal(error.code, ErrorCodes.UNSUPPORTED);
  assert.match(error.message, /HTTP has no listing/);
  assert.match(error.message, /s3:\/\//, 'the message says how to list an S3-compatible server');
  assert.equal(error.message.includes('secret'), false, 'the query string is redacted');
  return true;
}

test('a glob in an HTTP URL is refused at once with ERR_SPILLWAY_UNSUPPORTED, for every source and in arrays', () => {
  assert.throws(() => fromParquet('https://example.org/data/*.parquet?sig=secret'), unsupported);
  assert.throws(() => fromCsv(['https://example.org/a.csv', 'http://example.org/{b,c}.csv']), unsupported);
  assert.throws(() => fromCsv('https://example.org/day=[0-9]/x.csv'), unsupported);
});

test('expandDataset refuses an HTTP glob too (the CLI lists datasets through it)', async () => {
  await assert.rejects(expandDataset('https://example.org/**/x.parquet'), unsupported);
});

test('a query or an encoded * is not a glob', async () => {
  expectNoHttpGlob('https://example.org/data.parquet?x=*&y={1}');
  expectNoHttpGlob('https://example.org/a%2Ab.csv#frag*');
  assert.deepEqual(await expandDataset('https://example.org/data.csv?q=[1]'), [
    { path: 'https://example.org/data.csv?q=[1]', root: '' },
  ]);
});
