/**
 * Invalid UTF-8 in a CSV file is refused by default, as DuckDB refuses it, with a CsvParseError
 * naming the file, the line and (on the fast path) the column; `invalidUtf8: 'replace'` reads it
 * with U+FFFD. Valid text cut by chunk boundaries, a literal U+FFFD and a bad byte at the very end
 * of the file are told apart, on the fast path (rows and Arrow, one thread and parser threads) and
 * on csv-parse.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { pipeline, fromCsv, collect, ErrorCodes, type FromCsvOptions } from '../../index.ts';
import { CsvParseError } from '../../lib/core/errors.ts';
import { PARALLEL_CSV } from '../../lib/formats/csv/parallel/settings.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir('spillway-csv-utf8-');
const saved = { ...PARALLEL_CSV };
after(() => Object.assign(PARALLEL_CSV, saved));

function write(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function read(path: string, options: FromCsvOptions = {}) {
  const { output, stats } = await pipeline(fromCsv(path, options), collect(), { governor: false });
  return {
    rows: output as Record<string, unknown>[],
    details: stats.stages[0]!.details,
    skipped: stats.stages[0]!.rowsSkipped,
  };
}

/** `id,name,note` rows; row `bad` has a Latin-1 `é` (0xE9, not UTF-8) in `name`. */
function rowsWithBadByte(rows: number, bad: number): Buffer {
  const parts: Buffer[] = [Buffer.from('id,name,note\n')];
  for (let i = 0; i < rows; i++) {
    const name = i === bad ? Buffer.from([0x4a, 0x6f, 0x73, 0xe9]) : Buffer.from(`Zoë ${i} 東京`);
    parts.push(Buffer.from(`${i},`), name, Buffer.from(`,"ok, ${i}"\n`));
  }
  return Buffer.concat(parts);
}

const PATHS: [string, FromCsvOptions][] = [
  ['fast rows', { output: 'rows' }],
  ['fast arrow', { output: 'arrow' }],
  ['csv-parse', { parser: 'csv-parse' }],
];

test('invalid UTF-8 is refused with the file, line and column (the line only on csv-parse), as DuckDB refuses it', async () => {
  const path = write('bad.csv', rowsWithBadByte(50_000, 41_234));
  for (const [label, options] of PATHS) {
    await assert.rejects(read(path, options), (error: unknown) => {
      assert.ok(error instanceof CsvParseError, `${label}: ${String(error)}`);
      assert.equal(error.code, ErrorCodes.CSV_PARSE);
      assert.equal(error.context.file, path, label);
      assert.equal(error.context.line, 41_236, `${label}: the header is line 1`);
      assert.match(error.message, /invalid UTF-8/, label);
      assert.match(error.message, /invalidUtf8: 'replace'/, label);
      if (label.startsWith('fast')) assert.match(error.message, /column "name"/, label);
      return true;
    });
  }
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  await assert.rejects(duck.run(`SELECT * FROM read_csv('${path}')`), /UTF-8|unicode/i, 'DuckDB refuses it too');
});

test("invalidUtf8: 'replace' reads the bad bytes as U+FFFD; onError 'skip' drops only the bad record", async () => {
  const path = write('bad-small.csv', rowsWithBadByte(5, 3));
  for (const [label, options] of PATHS) {
    const { rows } = await read(path, { ...options, invalidUtf8: 'replace' });
    assert.equal(rows.length, 5, label);
    assert.equal(rows[3]!.name, 'Jos\uFFFD', label);
    assert.equal(rows[4]!.name, 'Zoë 4 東京', label);
  }
  for (const output of ['rows', 'arrow'] as const) {
    const { rows, skipped } = await read(path, { output, onError: 'skip' });
    assert.deepEqual(
      rows.map((r) => r.id),
      ['0', '1', '2', '4'],
      output,
    );
    assert.equal(skipped, 1, output);
  }
});

test('valid multi-byte text cut by every chunk boundary, and a literal U+FFFD, read exactly on every path', async () => {
  // 3- and 4-byte characters in every field, over several 256 KB read chunks
  const text = `id,name,note\n${Array.from({ length: 40_000 }, (_, i) => `${i},東京𝄞${i},"a\uFFFDb, ${i}"`).join('\n')}\n`;
  const path = write('good.csv', Buffer.from(text));
  const expected = Array.from({ length: 40_000 }, (_, i) => ({
    id: String(i),
    name: `東京𝄞${i}`,
    note: `a\uFFFDb, ${i}`,
  }));
  for (const [label, options] of PATHS) assert.deepEqual((await read(path, options)).rows, expected, label);
  Object.assign(PARALLEL_CSV, { minBytes: 0, chunkBytes: 32 * 1024, threads: 2, threadRoom: 0 });
  try {
    const threaded = await read(path, { output: 'arrow' });
    assert.deepEqual(threaded.rows, expected, 'parser threads');
    const bad = write('bad-threads.csv', rowsWithBadByte(50_000, 41_234));
    await assert.rejects(read(bad, { output: 'arrow' }), /invalid UTF-8 in column "name".*line 41236/s);
  } finally {
    Object.assign(PARALLEL_CSV, saved);
  }
});

test('a multi-byte character cut short at the end of the file is refused, not dropped', async () => {
  const path = write('cut.csv', Buffer.concat([Buffer.from('a,b\n1,東京\n2,'), Buffer.from('東').subarray(0, 2)]));
  for (const [label, options] of PATHS)
    await assert.rejects(read(path, options), (error: unknown) => {
      assert.ok(error instanceof CsvParseError, `${label}: ${String(error)}`);
      assert.equal(error.context.line, 3, label);
      return true;
    });
});

test('invalid UTF-8 in the header is refused even when bad records are skipped', async () => {
  const path = write(
    'bad-header.csv',
    Buffer.concat([Buffer.from('id,'), Buffer.from([0xff]), Buffer.from('\n1,2\n')]),
  );
  await assert.rejects(read(path, { onError: 'skip' }), /invalid UTF-8 in header field 2/);
});
