/**
 * fromCsv's `encoding`: Latin-1 and UTF-16LE files (with and without a byte order mark, plain and
 * gzip, with a preamble, comment lines and a sample cut inside a character) read the same values as
 * their UTF-8 twin on the fast path, and as DuckDB's read_csv with its `encoding`; a UTF-16BE input
 * and encodings that would change bytes are refused with a coded error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { pipeline, fromCsv, collect, inspectCsv, ErrorCodes, type FromCsvOptions } from '../../index.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir('spillway-csv-encoding-');
let connection: DuckDBConnection | undefined;
async function duck(): Promise<DuckDBConnection> {
  connection ??= await (await DuckDBInstance.create(':memory:')).connect();
  return connection;
}

/** Text every encoding here holds (Latin-1 has no `ł`), with a quoted newline and delimiter. */
const TEXT =
  'id;name;city;score\n1;José;Zürich;1.5\n2;Ångström;"Bern; Ost";-2\n3;"Ærø\nline";Köln;3\n4;ñandú;Genève;4.25\n';

function write(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const utf16 = (text: string, bom: boolean): Buffer =>
  Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]);

async function read(path: string, options: FromCsvOptions = {}) {
  const { output, stats } = await pipeline(fromCsv(path, options), collect(), { governor: false });
  return { rows: output, details: stats.stages[0]!.details };
}

test('Latin-1 and UTF-16LE files read the rows of their UTF-8 twin, on every parser, as DuckDB reads them', async () => {
  const utf8 = write('twin.csv', Buffer.from(TEXT, 'utf8'));
  const twin = await read(utf8);
  assert.equal(twin.details.parser, 'fast');
  assert.equal(twin.details.delimiter, ';');
  const cases: [string, Buffer, FromCsvOptions, string][] = [
    ['latin1.csv', Buffer.from(TEXT, 'latin1'), { encoding: 'latin1' }, 'latin-1'],
    ['utf16le.csv', utf16(TEXT, false), { encoding: 'utf16le' }, 'utf-16'],
    ['utf16le-bom.csv', utf16(TEXT, true), {}, 'utf-16'],
    ['utf16le-bom-given.csv', utf16(TEXT, true), { encoding: 'utf-16le' as BufferEncoding }, 'utf-16'],
  ];
  const c = await duck();
  for (const [name, bytes, options, duckEncoding] of cases) {
    const path = write(name, bytes);
    const latin1 = name.startsWith('latin1');
    // UTF-16 is transcoded to UTF-8 and takes the fast path; Latin-1 goes to csv-parse
    for (const parser of latin1 ? (['auto', 'csv-parse'] as const) : (['auto', 'fast', 'csv-parse'] as const)) {
      const got = await read(path, { ...options, parser });
      assert.deepEqual(got.rows, twin.rows, `${name} (${parser})`);
      assert.equal(got.details.parser, latin1 || parser === 'csv-parse' ? 'csv-parse' : 'fast', name);
      assert.equal(got.details.delimiter, ';', `${name}: the sniffer read the sample in its encoding`);
      assert.equal(got.details.encoding, name.startsWith('latin1') ? 'latin1' : 'utf16le', name);
      const typed = await read(path, { ...options, parser, cast: 'auto' });
      assert.deepEqual(typed.rows, (await read(utf8, { cast: 'auto' })).rows, `${name} (${parser}, cast auto)`);
    }
    const result = await c.runAndReadAll(
      `SELECT id::VARCHAR, name, city, score::VARCHAR FROM read_csv('${path}', encoding='${duckEncoding}', all_varchar=true)`,
    );
    assert.deepEqual(
      (twin.rows as Record<string, string>[]).map((r) => [r.id, r.name, r.city, r.score]),
      result.getRowsJson(),
      `${name}: DuckDB's values`,
    );
  }
});

test('UTF-16LE: a preamble, comment lines, gzip and a sample cut inside a character read as the UTF-8 twin', async () => {
  const body = Array.from({ length: 400 }, (_, i) => `${i};näme ${i} 😀;${i / 4}`).join('\n');
  const text = `Report 2026\nid;name;value\n# a note\n${body}\n`;
  const twin = await read(write('long.csv', Buffer.from(text, 'utf8')));
  assert.equal(twin.details.skipLines, 1);
  assert.equal(twin.details.comment, '#');
  assert.equal((twin.rows as unknown[]).length, 400);
  const bom = write('long-utf16.csv', utf16(text, true));
  const noBom = write('long-utf16-nobom.csv', utf16(text, false));
  const gz = write('long-utf16.csv.gz', gzipSync(utf16(text, true)));
  // 1025 bytes: the sample ends inside a code unit; 1026 inside a surrogate pair somewhere in the rows
  for (const sampleBytes of [1025, 1026, 4099]) {
    for (const [path, options] of [
      [bom, {}],
      [noBom, { encoding: 'utf16le' }],
      [gz, {}],
    ] as const) {
      const got = await read(path, { ...options, sampleBytes });
      assert.deepEqual(got.rows, twin.rows, `${path} sampleBytes ${sampleBytes}`);
      assert.equal(got.details.skipLines, 1);
      assert.equal(got.details.comment, '#');
    }
  }
  const info = await inspectCsv(bom);
  assert.deepEqual(
    info.columns.map((col) => [col.name, col.type]),
    [
      ['id', 'integer'],
      ['name', 'text'],
      ['value', 'double'],
    ],
  );
});

test('a Latin-1 file read as UTF-8 is refused (it is not UTF-8); with encoding latin1 no byte becomes U+FFFD', async () => {
  const path = write('latin1-only.csv', Buffer.from('a,b\nçà,ÿ\n', 'latin1'));
  await assert.rejects(read(path), /invalid UTF-8 in column "a".*encoding: 'latin1'/s);
  const replaced = await read(path, { invalidUtf8: 'replace' });
  assert.match(JSON.stringify(replaced.rows), /\uFFFD/, "invalidUtf8: 'replace' reads it with U+FFFD");
  assert.deepEqual((await read(path, { encoding: 'latin1' })).rows, [{ a: 'çà', b: 'ÿ' }]);
  assert.deepEqual((await read(path, { encoding: 'binary' as BufferEncoding, parser: 'csv-parse' })).rows, [
    { a: 'çà', b: 'ÿ' },
  ]);
});

test('UTF-16BE input is refused with a coded error (file, gzip, stream), never read as text', async () => {
  const be = Buffer.from('a,b\n1,2\n', 'utf16le');
  be.swap16();
  const bytes = Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
  const file = write('be.csv', bytes);
  const gz = write('be.csv.gz', gzipSync(bytes));
  const attempts: [string, () => ReturnType<typeof fromCsv>][] = [
    ['file auto', () => fromCsv(file)],
    ['file csv-parse', () => fromCsv(file, { parser: 'csv-parse' })],
    ['file no sniff', () => fromCsv(file, { sniff: false, parser: 'csv-parse' })],
    ['file bom false', () => fromCsv(file, { bom: false })],
    ['gzip', () => fromCsv(gz)],
    ['stream', () => fromCsv(createReadStream(file), { parser: 'csv-parse' })],
  ];
  for (const [label, source] of attempts) {
    await assert.rejects(
      pipeline(source(), collect(), { governor: false }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, ErrorCodes.UNSUPPORTED, `${label}: ${error.message}`);
        assert.match(error.message, /UTF-16 big-endian/, label);
        return true;
      },
      label,
    );
  }
});

test('encodings that would change bytes silently, or are not text, are refused when the source is made', () => {
  for (const encoding of ['ascii', 'hex', 'base64', 'utf32', 'nope']) {
    assert.throws(
      () => fromCsv(join(dir, 'x.csv'), { encoding: encoding as BufferEncoding }),
      (error: Error & { code?: string }) =>
        error.code === ErrorCodes.INVALID_OPTION && /options\.encoding/.test(error.message),
      encoding,
    );
  }
});
