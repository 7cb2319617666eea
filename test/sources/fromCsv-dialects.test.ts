/** fromCsv on messy files without options: detected dialects, unique names in file order, casts, compression, strict options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { zstdCompressSync as zstdCompress } from '../../lib/formats/zstd.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  pipeline,
  fromCsv,
  fromArrow,
  fromIterable,
  collect,
  toCsv,
  toArrow,
  toParquet,
  inspectCsv,
  ErrorCodes,
  type CsvParseError,
  type ValidationError,
} from '../../index.ts';
import { ROOT, nodeScript, pollUntil, tempDir } from '../helpers.ts';

const dir = tempDir();
function write(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('an unknown option is a ValidationError naming the closest known one', () => {
  assert.throws(
    () => fromCsv('x.csv', { batchsize: 10 } as never),
    (e: ValidationError) =>
      e.code === ErrorCodes.INVALID_OPTION && /`options.batchsize`.*did you mean `batchSize`\?/.test(e.message),
  );
  assert.throws(() => fromCsv('x.csv', { delimeter: ';' } as never), /did you mean `delimiter`/);
  assert.throws(
    () => fromCsv('x.csv', { zzz: 1 } as never),
    (e: Error) => /Unknown option `options.zzz`/.test(e.message) && !/did you mean/.test(e.message),
  );
  // csv-parse's own options still pass
  assert.doesNotThrow(() => fromCsv('x.csv', { relax_column_count: true, trim: true }));
});

test('semicolon, pipe and header-less files read without options', async () => {
  const semi = await pipeline(fromCsv(write('s.csv', 'x;y\n1;2\n3;4\n')), collect());
  assert.deepEqual(semi.output, [
    { x: '1', y: '2' },
    { x: '3', y: '4' },
  ]);
  assert.equal(semi.stats.stages[0]?.details.delimiter, ';');
  const bare = await pipeline(fromCsv(write('n.csv', '1|2\n3|4\n')), collect());
  assert.deepEqual(bare.output, [
    { column0: '1', column1: '2' },
    { column0: '3', column1: '4' },
  ]);
  assert.equal(bare.stats.stages[0]?.details.header, false);
});

test('duplicate and empty header names keep every value under unique names, reported in stats', async () => {
  const { output, stats } = await pipeline(fromCsv(write('d.csv', 'a,b,a,,a\n1,2,3,4,5\n')), collect());
  assert.deepEqual(output, [{ a: '1', b: '2', a_1: '3', column3: '4', a_2: '5' }]);
  assert.equal(stats.stages[0]?.details.renamed, '"a" -> a_1, "" -> column3, "a" -> a_2');
});

test('integer-like header names keep the file order in toCsv, Arrow and Parquet output', async () => {
  const path = write('order.csv', 'b,2,1,a\nx,y,z,w\n');
  const csv = join(dir, 'order-out.csv');
  await pipeline(fromCsv(path), toCsv(csv));
  assert.equal(readFileSync(csv, 'utf8'), 'b,2,1,a\nx,y,z,w\n');
  const arrow = join(dir, 'order.arrow');
  await pipeline(fromCsv(path), toArrow(arrow));
  for await (const batch of fromArrow(arrow)) assert.deepEqual(batch.columns, ['b', '2', '1', 'a']);
  const parquet = join(dir, 'order.parquet');
  await pipeline(fromCsv(path), toParquet(parquet));
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  const names = (await c.runAndReadAll(`DESCRIBE SELECT * FROM '${parquet}'`)).getRowsJson().map((r) => String(r[0]));
  assert.deepEqual(names, ['b', '2', '1', 'a']);
});

test('the batch carries its column list, and its Arrow form follows it', async () => {
  const source = fromCsv(write('cols.csv', 'z,10,2\n1,2,3\n'), { cast: true });
  for await (const batch of source) {
    assert.deepEqual(batch.columns, ['z', '10', '2']);
    assert.deepEqual(
      batch.arrow.schema.fields.map((f: { name: string }) => f.name),
      ['z', '10', '2'],
    );
  }
});

test("cast: 'auto' applies the detected types; types override them; an int64 overflow says it is out of range", async () => {
  const path = write('t.csv', 'id,price,day,note\n1,1.5,2024-01-02,x\n2,2,2024-01-03,007\n');
  const { output } = await pipeline(fromCsv(path, { cast: 'auto', types: { id: 'text' } }), collect());
  assert.deepEqual(output, [
    { id: '1', price: 1.5, day: new Date('2024-01-02T00:00:00Z'), note: 'x' },
    { id: '2', price: 2, day: new Date('2024-01-03T00:00:00Z'), note: '007' },
  ]);
  const big = write('u.csv', 'id\n1\n18446744073709551615\n');
  await assert.rejects(
    pipeline(fromCsv(big, { types: { id: 'int64' } }), collect()),
    (e: CsvParseError) =>
      e.code === ErrorCodes.CSV_PARSE && /out of range for int64/.test(e.message) && e.context.line === 3,
  );
});

test('blank lines are skipped (multi-column), kept as empty values in a one-column file; skipBlankLines: false refuses them', async () => {
  const path = write('b.csv', 'a,b\n1,2\n\n3,4\n\n');
  assert.equal((await pipeline(fromCsv(path), collect())).output.length, 2);
  assert.equal((await pipeline(fromCsv(path, { parser: 'csv-parse' }), collect())).output.length, 2);
  await assert.rejects(
    pipeline(fromCsv(path, { skipBlankLines: false }), collect()),
    (e: CsvParseError) => e.code === ErrorCodes.CSV_PARSE && e.context.line === 3,
  );
  const one = await pipeline(fromCsv(write('one.csv', 'a\n1\n\n2\n')), collect());
  assert.deepEqual(one.output, [{ a: '1' }, { a: '' }, { a: '2' }]);
});

test('a preamble and comment lines are skipped; line numbers still count from the start of the file', async () => {
  const path = write('p.csv', 'My export\n# note\nid,qty\n1,10\n2,20,extra\n');
  const run = pipeline(fromCsv(path), collect());
  await assert.rejects(run, (e: CsvParseError) => e.code === ErrorCodes.CSV_PARSE && e.context.line === 5);
  const { output } = await pipeline(fromCsv(write('p2.csv', 'My export\n\nid,qty\n1,10\n2,20\n')), collect());
  assert.deepEqual(output, [
    { id: '1', qty: '10' },
    { id: '2', qty: '20' },
  ]);
});

test('.zst and .gz files are decompressed and sniffed', async () => {
  const text = 'a;b\n1;2\n3;4\n';
  const zst = write('z.csv.zst', Buffer.from(await zstdCompress(Buffer.from(text))));
  assert.deepEqual((await pipeline(fromCsv(zst), collect())).output, [
    { a: '1', b: '2' },
    { a: '3', b: '4' },
  ]);
  const gz = write('z.csv.gz', gzipSync(text));
  assert.deepEqual((await pipeline(fromCsv(gz, { parser: 'csv-parse' }), collect())).output, [
    { a: '1', b: '2' },
    { a: '3', b: '4' },
  ]);
});

test("toCsv writes binary values as hex, or base64 with binary: 'base64' (both formatters)", async () => {
  const rows = [
    { id: 1, data: Buffer.from('hi') },
    { id: 2, data: new Uint8Array([0, 255]) },
  ];
  const hex = join(dir, 'hex.csv');
  await pipeline(fromIterable(rows), toCsv(hex));
  assert.equal(readFileSync(hex, 'utf8'), 'id,data\n1,6869\n2,00ff\n');
  const b64 = join(dir, 'b64.csv');
  await pipeline(fromIterable(rows), toCsv(b64, { binary: 'base64', quoted: true }));
  assert.equal(readFileSync(b64, 'utf8'), '"id","data"\n"1","aGk="\n"2","AP8="\n');
  assert.throws(() => toCsv(join(dir, 'x.csv'), { binary: 'utf8' as 'hex' }), /options\.binary/);
});

test('inspectCsv describes dialect, header and typed columns; spillway inspect prints it', async () => {
  const path = write('i.csv', 'title line\nk|k|when\n1|x|2024-01-01 10:00:00\n2|y|2024-01-02 11:00:00.5\n');
  const info = await inspectCsv(path);
  assert.equal(info.dialect.delimiter, '|');
  assert.equal(info.dialect.skipLines, 1);
  assert.equal(info.header, true);
  assert.deepEqual(info.columns, [
    { name: 'k', header: 'k', type: 'integer' },
    { name: 'k_1', header: 'k', type: 'text' },
    { name: 'when', header: 'when', type: 'timestamp' },
  ]);
  assert.equal(info.rowsSampled, 2);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeScript('lib/cli/main.ts'), 'inspect', path, '--json'],
      { cwd: ROOT, encoding: 'utf8' },
      (error, out) => (error ? reject(error) : resolve(out)),
    );
  });
  assert.deepEqual(JSON.parse(stdout), info);
});

test('a broken quote costs only its own record: the demo data dead-letters one record per bad line and keeps every good row', async () => {
  const { writeTradesCsv } = await import('../../samples/trades-data.ts');
  const path = join(dir, 'trades.csv');
  const generated = await writeTradesCsv(path, { rows: 4000, badEvery: 100 });
  const deadLetter = join(dir, 'trades-bad.jsonl');
  // with relax_quotes: true a broken quote is text (csv-parse's relaxing): only the lines with extra fields are bad
  const relaxed = await pipeline(fromCsv(path, { cast: true, relax_quotes: true, onError: 'skip' }), collect());
  assert.equal(relaxed.stats.errors.skipped, Math.floor(generated.badLines / 2));
  assert.ok(relaxed.output.some((r) => (r as Record<string, unknown>).note === '"broken "quote" here'));
  const { output, stats } = await pipeline(fromCsv(path, { cast: true, onError: { deadLetter } }), collect());
  assert.equal(stats.errors.deadLettered, generated.badLines);
  assert.equal(output.length, 4000 - generated.badLines);
  const lines = readFileSync(deadLetter, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { raw: string; line: number });
  assert.ok(
    lines.every((l) => l.raw.split('\n').filter(Boolean).length === 1),
    'each dead letter is one line of the file',
  );
  // fail mode still stops at the first broken line
  await assert.rejects(
    pipeline(fromCsv(path), collect()),
    (e: CsvParseError) => e.code === ErrorCodes.CSV_PARSE && e.context.line === lines[0]?.line,
  );
});

test('an integer beyond int64 is refused when a batch becomes Arrow, not wrapped around', async () => {
  const path = write('u64.csv', 'id\n1\n18446744073709551615\n');
  for await (const batch of fromCsv(path, { cast: true })) {
    assert.throws(
      () => batch.arrow,
      (e: Error & { code?: string }) => e.code === ErrorCodes.UNSUPPORTED && /out of range for int64/.test(e.message),
    );
  }
});

test('expectColumns means a header, whatever the sniffer would say', async () => {
  const path = write('e.csv', '1,2\n3,4\n');
  await assert.rejects(
    pipeline(fromCsv(path, { expectColumns: ['a', 'b'] }), collect()),
    (e: CsvParseError) => e.code === ErrorCodes.CSV_PARSE && /differs from the expected/.test(e.message),
  );
  const { output } = await pipeline(fromCsv(path, { expectColumns: ['1', '2'] }), collect());
  assert.deepEqual(output, [{ 1: '3', 2: '4' }]);
});

test('a quote inside an unquoted field is text by default (as DuckDB), a bad record with relax_quotes: false', async () => {
  const path = write('q.csv', 'a,b\n1,4"0\n3,4\n');
  await assert.rejects(
    pipeline(fromCsv(path, { relax_quotes: false }), collect()),
    (e: CsvParseError) => e.code === ErrorCodes.CSV_PARSE && e.context.line === 2,
  );
  const { output } = await pipeline(fromCsv(path), collect());
  assert.deepEqual(output, [
    { a: '1', b: '4"0' },
    { a: '3', b: '4' },
  ]);
});

test('mixed line ends (files concatenated from two systems): \\r\\n and \\n both end lines on every path, with exact line numbers', async () => {
  const text = 'id,note\n1,a\r\n2,"b\nc"\n3,x,extra\r\n4,d\n5,e\r\n';
  const files = {
    utf8: write('mixed.csv', text),
    gzip: write('mixed.csv.gz', gzipSync(text)),
    utf16: write('mixed16.csv', Buffer.concat([Buffer.of(0xff, 0xfe), Buffer.from(text, 'utf16le')])),
  };
  const want = [
    { id: 1, note: 'a' },
    { id: 2, note: 'b\nc' },
    { id: 4, note: 'd' },
    { id: 5, note: 'e' },
  ];
  for (const [kind, path] of Object.entries(files)) {
    for (const parser of ['auto', 'fast', 'csv-parse'] as const) {
      if (kind === 'utf16' && parser === 'fast') continue;
      const label = `${kind} ${parser}`;
      const deadLetter = join(dir, `mixed-${kind}-${parser}.jsonl`);
      const { output } = await pipeline(fromCsv(path, { parser, cast: true, onError: { deadLetter } }), collect());
      assert.deepEqual(output, want, label);
      const [letter] = readFileSync(deadLetter, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(letter.line, 5, `${label}: the bad record's line`);
      // its text without the line end (was "3,x,extra\r" until 2026-12-07)
      assert.equal(letter.raw, '3,x,extra', `${label}: the bad record's text`);
      await assert.rejects(
        pipeline(fromCsv(path, { parser, cast: true }), collect()),
        (e: CsvParseError) => e.code === ErrorCodes.CSV_PARSE && e.context.line === 5,
        label,
      );
    }
  }
  // a first line ending in a lone \r (old Mac files) keeps \r as the only line end, as before
  const mac = write('mac.csv', 'id,note\r1,a\r2,b\r');
  for (const parser of ['fast', 'csv-parse'] as const) {
    const { output } = await pipeline(fromCsv(mac, { parser, cast: true }), collect());
    assert.deepEqual(
      output,
      [
        { id: 1, note: 'a' },
        { id: 2, note: 'b' },
      ],
      parser,
    );
  }
});

test('csv-parse path: an abort while the first line has not ended (a stream that stalls) rejects, nothing left open', async () => {
  const { PassThrough } = await import('node:stream');
  const input = new PassThrough();
  input.write('id,note,');
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(
    pipeline(fromCsv(input, { parser: 'csv-parse' }), collect(), { signal: controller.signal }),
    (e: Error & { code?: string }) => e.code === ErrorCodes.ABORTED,
  );
  const released = await pollUntil(
    async () => input.destroyed,
    (destroyed) => destroyed,
    5_000,
  );
  assert.ok(released, 'the input stream is released');
});

test("cast: 'auto' types dates and timestamps of the years 0001-0099 as DuckDB does (they were text)", async () => {
  const path = write(
    'old-dates.csv',
    'd,ts\n2024-02-29,2024-01-01 10:00:00\n0001-01-01,0001-01-01 00:00:00\n0099-12-31,0050-06-15 12:30:00\n',
  );
  const { output } = await pipeline(fromCsv(path, { cast: 'auto' }), collect());
  const iso = (output as { d: Date; ts: Date }[]).map((r) => [r.d.toISOString(), r.ts.toISOString()]);
  assert.deepEqual(iso, [
    ['2024-02-29T00:00:00.000Z', '2024-01-01T10:00:00.000Z'],
    ['0001-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z'],
    ['0099-12-31T00:00:00.000Z', '0050-06-15T12:30:00.000Z'],
  ]);
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_csv('${path}')`)).getRowObjectsJson();
  assert.deepEqual(
    types.map((r) => r.column_type),
    ['DATE', 'TIMESTAMP'],
  );
});
