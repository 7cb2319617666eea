import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import {
  pipeline,
  fromCsv,
  collect,
  drain,
  type CsvParseError,
  ErrorCodes,
  type ValidationError,
  type IoError,
  toParquet,
  fromParquet,
} from '../../index.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { CORPUS, corpusSkip, tempDir } from '../helpers.ts';
import { zstdCompressSync as zstdCompress } from '../../lib/formats/zstd.ts';

interface CsvTruth {
  path: string;
  format: string;
  expect: 'read' | 'reject';
  rows?: number;
  header?: boolean;
  expected_file?: string;
}

const truth = corpusSkip
  ? []
  : (JSON.parse(readFileSync(join(CORPUS, 'truth.json'), 'utf8')) as { files: CsvTruth[] }).files.filter(
      (f) => f.format === 'csv',
    );

/** Corpus files the suites call invalid that DuckDB reads (a quote inside an unquoted field is text), with DuckDB's rows. */
const READ_AS_DUCKDB: Record<string, unknown[]> = {
  // the truth file reads it without header: rows are arrays
  'csv/csv-test-data/bad-unescaped-quote.csv': [
    ['foo', 'bar', 'baz'],
    ['1', 'This "quotes" must be escaped', '3'],
  ],
};

test('every corpus CSV gives its published rows, or a clear error where the suite says it is invalid', {
  skip: corpusSkip,
}, async (t) => {
  assert.ok(truth.length >= 30, `expected the corpus CSV files, found ${truth.length}`);
  for (const file of truth) {
    await t.test(file.path, async () => {
      const path = join(CORPUS, file.path);
      // the csv-test-data header-* files expect the header foo,bar,baz
      const expectColumns = basename(path).includes('header') ? ['foo', 'bar', 'baz'] : undefined;
      const run = pipeline(fromCsv(path, { columns: file.header !== false, expectColumns }), collect());
      if (file.expect === 'reject' && file.path in READ_AS_DUCKDB) {
        // invalid for the suite, read by DuckDB: by default as DuckDB reads it, refused with strict quotes
        assert.deepEqual((await run).output, READ_AS_DUCKDB[file.path]);
        await assert.rejects(
          pipeline(fromCsv(path, { columns: file.header !== false, expectColumns, relax_quotes: false }), collect()),
          (error: CsvParseError) => error.code === ErrorCodes.CSV_PARSE && error.context.line === 2,
        );
        return;
      }
      if (file.expect === 'reject') {
        await assert.rejects(run, (error: CsvParseError) => {
          assert.equal(error.code, ErrorCodes.CSV_PARSE);
          assert.equal(error.context.file, path);
          assert.ok(error.context.line !== undefined && error.context.line >= 1, `a line number: ${error.message}`);
          return true;
        });
        return;
      }
      const { output } = await run;
      assert.equal(output.length, file.rows);
      if (file.expected_file) {
        const expected = JSON.parse(readFileSync(join(CORPUS, file.expected_file), 'utf8')) as unknown[];
        assert.deepEqual(output, expected);
      }
    });
  }
});

test('the typed corpus CSV reads with cast: true into numbers', { skip: corpusSkip }, async () => {
  const { output } = await pipeline(
    fromCsv(join(CORPUS, 'csv/arrow-testing/aggregate_test_100.csv'), { cast: true }),
    collect(),
  );
  assert.equal(output.length, 100);
  const first = output[0] as Record<string, unknown>;
  assert.equal(typeof first.c2, 'number');
  assert.equal(typeof first.c1, 'string');
});

function write(dir: string, name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('batches carry their size and position; one chunk is one batch', async () => {
  const dir = tempDir();
  const lines = ['id,name'];
  for (let i = 0; i < 2500; i++) lines.push(`${i},"name ${i}"`);
  const path = write(dir, 'a.csv', `${lines.join('\n')}\n`);
  const source = fromCsv(path, { batchSize: 1000 });
  const batches: { rows: number; index: number; rowStart: number; line?: number; bytes: number }[] = [];
  for await (const batch of source)
    batches.push({
      rows: batch.numRows,
      index: batch.position.index,
      rowStart: batch.position.rowStart,
      line: batch.position.line,
      bytes: batch.bytes,
    });
  assert.deepEqual(
    batches.map((b) => b.rows),
    [1000, 1000, 500],
  );
  assert.deepEqual(
    batches.map((b) => b.rowStart),
    [0, 1000, 2000],
  );
  assert.deepEqual(
    batches.map((b) => b.index),
    [0, 1, 2],
  );
  assert.equal(batches[0]?.line, 1);
  assert.ok(batches.every((b) => b.bytes > 0));
});

test('gzip input is decompressed on the fly and progress counts compressed bytes', async () => {
  const dir = tempDir();
  const lines = ['a,b'];
  for (let i = 0; i < 5000; i++) lines.push(`${i},${i * 2}`);
  const gz = gzipSync(`${lines.join('\n')}\n`);
  const path = write(dir, 'a.csv.gz', gz);
  const { output, stats } = await pipeline(fromCsv(path, { cast: true }), collect());
  assert.equal(output.length, 5000);
  assert.deepEqual(output[4999], { a: 4999, b: 9998 });
  assert.equal(stats.bytesRead, gz.byteLength);
});

test('a corrupt gzip file fails with an IoError naming the file', async () => {
  const dir = tempDir();
  const good = gzipSync('a,b\n1,2\n'.repeat(1000));
  const bad = Buffer.concat([good.subarray(0, 40), Buffer.alloc(60, 7)]);
  const path = write(dir, 'bad.csv.gz', bad);
  await assert.rejects(pipeline(fromCsv(path), collect()), (error: IoError) => {
    assert.equal(error.code, ErrorCodes.IO);
    assert.equal(error.context.file, path);
    return true;
  });
});

test('a corrupt zstd file fails with an IoError naming the file (the decoder loads with the first chunk)', async () => {
  const dir = tempDir();
  const good = Buffer.from(await zstdCompress(Buffer.from(`a,b\n${'1,2\n'.repeat(1000)}`)));
  const bad = Buffer.concat([good.subarray(0, 20), Buffer.alloc(60, 7)]);
  const path = write(dir, 'bad.csv.zst', bad);
  await assert.rejects(pipeline(fromCsv(path), collect()), (error: IoError) => {
    assert.equal(error.code, ErrorCodes.IO);
    assert.equal(error.context.file, path);
    assert.match(error.message, /zstd/);
    return true;
  });
  const { output } = await pipeline(fromCsv(write(dir, 'good.csv.zst', good), { cast: true }), collect());
  assert.equal(output.length, 1000);
  assert.deepEqual(output[999], { a: 1, b: 2 });
});

test('a missing file fails with an IoError naming it', async () => {
  await assert.rejects(
    pipeline(fromCsv('/nonexistent/x.csv'), drain()),
    (error: IoError) => error.code === ErrorCodes.IO && error.message.includes('/nonexistent/x.csv'),
  );
});

const BAD = 'id,qty\n1,10\n2,20,extra\n3,"unclosed\n';
const BAD_MIDDLE = 'id,qty\n1,10\n2,20,extra\n3,30\n4,4"0\n5,50\n';
/** Strict quotes: `4"0` is a bad record (by default it is text, as DuckDB reads it). */
const STRICT = { relax_quotes: false } as const;

test("onError 'fail' names the file and line of a malformed row", async () => {
  const dir = tempDir();
  const path = write(dir, 'bad.csv', BAD_MIDDLE);
  await assert.rejects(pipeline(fromCsv(path), collect()), (error: CsvParseError) => {
    assert.equal(error.code, ErrorCodes.CSV_PARSE);
    assert.equal(error.context.file, path);
    assert.equal(error.context.line, 3);
    assert.match(error.message, /bad\.csv/);
    return true;
  });
});

test("onError 'skip' drops bad rows and counts them in stats", async () => {
  const dir = tempDir();
  const path = write(dir, 'bad.csv', BAD_MIDDLE);
  const { output, stats } = await pipeline(fromCsv(path, { ...STRICT, onError: 'skip' }), collect());
  assert.deepEqual(
    output.map((r) => (r as Record<string, string>).id),
    ['1', '3', '5'],
  );
  assert.equal(stats.errors.skipped, 2);
  assert.equal(stats.stages[0]?.rowsSkipped, 2);
});

test('onError deadLetter writes each raw bad line with its line number and reason', async () => {
  const dir = tempDir();
  const path = write(dir, 'bad.csv', BAD_MIDDLE);
  const deadLetter = join(dir, 'bad.jsonl');
  const { output, stats } = await pipeline(fromCsv(path, { ...STRICT, onError: { deadLetter } }), collect());
  assert.equal(output.length, 3);
  assert.equal(stats.errors.deadLettered, 2);
  const records = readFileSync(deadLetter, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { line: number; raw: string; reason: string; file: string });
  assert.equal(records.length, 2);
  assert.equal(records[0]?.line, 3);
  assert.equal(records[0]?.raw, '2,20,extra');
  assert.match(records[0]?.reason ?? '', /Invalid Record Length/);
  assert.equal(records[1]?.line, 5);
  assert.equal(records[0]?.file, path);
});

test('a declared schema casts columns; a cell that does not fit follows the error policy with its line', async () => {
  const dir = tempDir();
  const path = write(dir, 's.csv', 'id,qty,ok,when\n1,10,true,2024-01-02\n2,x,false,2024-01-03\n3,,1,\n');
  const schema = { id: 'integer', qty: 'number', ok: 'boolean', when: 'date' } as const;
  await assert.rejects(pipeline(fromCsv(path, { cast: schema }), collect()), (error: CsvParseError) => {
    assert.equal(error.code, ErrorCodes.CSV_PARSE);
    assert.equal(error.context.line, 3);
    assert.match(error.message, /qty/);
    return true;
  });
  const deadLetter = join(dir, 'dl.jsonl');
  const { output, stats } = await pipeline(fromCsv(path, { cast: schema, onError: { deadLetter } }), collect());
  assert.deepEqual(output, [
    { id: 1, qty: 10, ok: true, when: new Date('2024-01-02T00:00:00Z') },
    { id: 3, qty: null, ok: true, when: null },
  ]);
  assert.equal(stats.errors.deadLettered, 1);
  const record = JSON.parse(readFileSync(deadLetter, 'utf8').trim()) as { line: number; raw: string };
  assert.equal(record.line, 3);
  assert.equal(record.raw, '2,x,false,2024-01-03');
});

test("a declared 'date' is YYYY-MM-DD at UTC midnight in any time zone, a DATE column; other shapes are bad rows", async (t) => {
  // it was `new Date(text)`: `2024-3-1` became the local midnight, `12` 2001-12-01, `2024-02-30` March 1st
  const dir = tempDir();
  const path = write(
    dir,
    'd.csv',
    'id,d\n1,2024-03-10\n2,2024-3-1\n3,12\n4,2024-02-30\n5,03/10/2024\n6,2024-03-10 02:30:00\n7, 1969-12-31 \n8,\n',
  );
  const zone = process.env.TZ;
  t.after(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });
  for (const tz of ['Asia/Kolkata', 'America/New_York', 'UTC']) {
    process.env.TZ = tz;
    const deadLetter = join(dir, `dl-${tz.replace('/', '-')}.jsonl`);
    const out = join(dir, `d-${tz.replace('/', '-')}.parquet`);
    const { output } = await pipeline(
      fromCsv(path, { cast: { id: 'integer', d: 'date' }, onError: { deadLetter } }),
      toParquet(out),
    );
    assert.equal(output.rows, 3, tz);
    const lines = readFileSync(deadLetter, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { line: number }).line);
    assert.deepEqual(lines, [3, 4, 5, 6, 7], tz);
    const back = await pipeline(fromParquet(out), collect());
    assert.deepEqual(back.output, [
      { id: 1, d: new Date('2024-03-10T00:00:00Z') },
      { id: 7, d: new Date('1969-12-31T00:00:00Z') },
      { id: 8, d: null },
    ]);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const types = (await (await c.run(`DESCRIBE SELECT * FROM '${out}'`)).getRows()).map((r) => String(r[1]));
    c.closeSync();
    db.closeSync();
    assert.deepEqual(types, ['BIGINT', 'DATE'], tz);
  }
});

test('cast: true infers numbers, booleans, null for empty, and keeps big integers exact as bigint', async () => {
  const dir = tempDir();
  const path = write(dir, 'c.csv', 'a,b,c,d,e,f\n1.5,true,,9007199254740993,007x,-2e3\n');
  const { output } = await pipeline(fromCsv(path, { cast: true }), collect());
  assert.deepEqual(output, [{ a: 1.5, b: true, c: null, d: 9007199254740993n, e: '007x', f: -2000 }]);
});

test('no header gives array rows; delimiter, quote and BOM options pass through', async () => {
  const dir = tempDir();
  const path = write(dir, 'h.csv', "\uFEFF1;'a;b';3\n4;5;6\n");
  const { output } = await pipeline(fromCsv(path, { columns: false, delimiter: ';', quote: "'" }), collect());
  assert.deepEqual(output, [
    ['1', 'a;b', '3'],
    ['4', '5', '6'],
  ]);
});

test('reads from a byte stream', async () => {
  const { output } = await pipeline(
    fromCsv(Readable.from([Buffer.from('a,b\n1,'), Buffer.from('2\n3,4\n')])),
    collect(),
  );
  assert.deepEqual(output, [
    { a: '1', b: '2' },
    { a: '3', b: '4' },
  ]);
});

test('UTF-8 split across chunk boundaries decodes correctly', async () => {
  const bytes = Buffer.from('name\nnaïve café 日本語\n');
  const chunks = [...bytes].map((b) => Buffer.from([b]));
  const { output } = await pipeline(fromCsv(Readable.from(chunks)), collect());
  assert.deepEqual(output, [{ name: 'naïve café 日本語' }]);
});

test('options are validated synchronously, naming the option', () => {
  assert.throws(
    () => fromCsv('x.csv', { batchSize: 0 }),
    (e: ValidationError) => e.code === ErrorCodes.INVALID_OPTION && /options\.batchSize/.test(e.message),
  );
  assert.throws(() => fromCsv('x.csv', { onError: 'ignore' as 'skip' }), /options\.onError/);
  assert.throws(() => fromCsv(42 as unknown as string), /input/);
  assert.equal(existsSync('x.csv'), false);
});

test('the source stops reading its file when the pipeline stops consuming', async () => {
  const dir = tempDir();
  const lines = ['a'];
  for (let i = 0; i < 400_000; i++) lines.push(String(i));
  const path = write(dir, 'big.csv', `${lines.join('\n')}\n`);
  const source = fromCsv(path, { batchSize: 1000 });
  const iterator = source[Symbol.asyncIterator]();
  await iterator.next();
  await new Promise((r) => setImmediate(r));
  const read = source.progress().bytes;
  assert.ok(read < 2_000_000, `read ${read} bytes of ${readdirSync(dir).length ? 'a 2.7 MB file' : ''} for one batch`);
  await iterator.return?.();
});
