import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import {
  pipeline,
  fromIterable,
  fromArrow,
  fromCsv,
  map,
  toCsv,
  collect,
  drain,
  toArrow,
  toJsonl,
  toParquet,
  toSpill,
  type CollectLimitError,
  ErrorCodes,
  type FormatError,
  type SchemaMismatchError,
} from '../../index.ts';
import { nodeScript, tempDir } from '../helpers.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

test('toCsv writes a header and rows, dates as ISO and bigints as digits, then renames into place', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.csv');
  const rows = [
    {
      id: 1,
      name: 'a "quoted", name',
      when: new Date('2024-05-06T07:08:09.010Z'),
      big: 12345678901234567890n,
      ok: true,
      none: null,
    },
    { id: 2, name: 'multi\nline', when: new Date(0), big: 1n, ok: false, none: null },
  ];
  const { output } = await pipeline(fromIterable(rows), toCsv(out), {});
  assert.equal(output.path, out);
  assert.equal(output.rows, 2);
  const written = readFileSync(out, 'utf8');
  assert.equal(output.bytes, Buffer.byteLength(written));
  assert.equal(
    written,
    'id,name,when,big,ok,none\n1,"a ""quoted"", name",2024-05-06T07:08:09.010Z,12345678901234567890,true,\n2,"multi\nline",1970-01-01T00:00:00.000Z,1,false,\n',
  );
  assert.deepEqual(readdirSync(dir), ['out.csv']);
  // and it reads back
  const back = await pipeline(fromCsv(out), collect());
  assert.equal((back.output[0] as Record<string, string>).name, 'a "quoted", name');
});

test('toCsv gzips .gz output', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.csv.gz');
  await pipeline(fromIterable([{ a: 1 }, { a: 2 }]), toCsv(out));
  assert.equal(gunzipSync(readFileSync(out)).toString(), 'a\n1\n2\n');
});

test('toCsv refuses a column the header lacks instead of dropping it, and leaves no file', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.csv');
  await assert.rejects(
    pipeline(fromIterable([{ a: 1 }, { a: 2, b: 3 }], { batchSize: 1 }), toCsv(out)),
    (e: FormatError) => e.code === ErrorCodes.FORMAT && /`b`/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), []);
  const ok = await pipeline(fromIterable([{ a: 1 }, { a: 2, b: 3 }], { batchSize: 1 }), toCsv(out, { columns: ['a'] }));
  assert.equal(ok.output.rows, 2);
});

test('toCsv refuses options.columns naming a column the input lacks (a typo wrote an empty column), rows and Arrow, and leaves no file', async () => {
  const dir = tempDir();
  const out = join(dir, 'typo.csv');
  const rows = [{ symbol: 'A', price: 1 }, { symbol: 'B' }];
  await assert.rejects(
    pipeline(fromIterable(rows, { batchSize: 1 }), toCsv(out, { columns: ['symbol', 'prcie'] })),
    (e: SchemaMismatchError) => e.code === ErrorCodes.SCHEMA_MISMATCH && /`"prcie"`.*symbol, price/.test(e.message),
  );
  const arrow = join(dir, 'in.arrow');
  await pipeline(fromIterable(rows), toArrow(arrow));
  await assert.rejects(pipeline(fromArrow(arrow), toCsv(out, { columns: ['prcie'] })), {
    code: ErrorCodes.SCHEMA_MISMATCH,
  });
  assert.deepEqual(readdirSync(dir), ['in.arrow']);
  // sparse rows: a column only some rows have is fine, its other cells empty
  await pipeline(fromIterable(rows, { batchSize: 1 }), toCsv(out, { columns: ['price', 'symbol'] }));
  assert.equal(readFileSync(out, 'utf8'), 'price,symbol\n1,A\n,B\n');
});

test("toCsv checks every row's keys whatever their order: known keys in any order pass, an unknown one in a known one's place is refused", async () => {
  const dir = tempDir();
  const out = join(dir, 'out.csv');
  // header a,b,c from the first row; then the same keys reordered, fewer keys, and none missing
  const rows = [{ a: 1, b: 2, c: 3 }, { c: 6, a: 4, b: 5 }, { b: 8 }, { a: 7, c: 9 }];
  const ok = await pipeline(fromIterable(rows, { batchSize: 2 }), toCsv(out));
  assert.equal(ok.output.rows, 4);
  assert.equal(readFileSync(out, 'utf8'), 'a,b,c\n1,2,3\n4,5,6\n,8,\n7,,9\n');
  // as many keys as the header (from the first batch), one of them unknown, in the place of a known one
  const bad = join(dir, 'bad.csv');
  await assert.rejects(
    pipeline(
      fromIterable(
        [
          { a: 1, b: 2, c: 3 },
          { a: 4, x: 5, c: 6 },
        ],
        { batchSize: 1 },
      ),
      toCsv(bad),
    ),
    (e: FormatError) => e.code === ErrorCodes.FORMAT && /`x`/.test(e.message),
  );
  assert.ok(!readdirSync(dir).includes('bad.csv'));
});

test('toCsv writes array rows without a header, and to a Writable', async () => {
  const sink = new PassThrough();
  const done = text(sink);
  await pipeline(
    fromIterable([
      [1, 'x'],
      [2, 'y'],
    ]),
    toCsv(sink),
  );
  assert.equal(await done, '1,x\n2,y\n');
});

test('toCsv fails with an IoError naming the path when the directory does not exist', async () => {
  await assert.rejects(
    pipeline(fromIterable([{ a: 1 }]), toCsv('/nonexistent-dir/out.csv')),
    (e: Error & { code: string }) => e.code === ErrorCodes.IO && /nonexistent-dir/.test(e.message),
  );
});

test('toCsv: a failure mid-run leaves the previous file untouched', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.csv');
  writeFileSync(out, 'previous\n');
  await assert.rejects(
    pipeline(
      fromIterable(
        Array.from({ length: 100 }, (_, i) => ({ i })),
        { batchSize: 10 },
      ),
      map((r: { i: number }) => {
        if (r.i === 55) throw new Error('x');
        return r;
      }),
      toCsv(out),
    ),
  );
  assert.equal(readFileSync(out, 'utf8'), 'previous\n');
  assert.deepEqual(readdirSync(dir), ['out.csv']);
});

test('collect refuses past its row or byte limit with a clear error', async () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ i, s: 'x'.repeat(100) }));
  await assert.rejects(
    pipeline(fromIterable(rows), collect({ maxRows: 50 })),
    (e: CollectLimitError) => e.code === ErrorCodes.COLLECT_LIMIT && /50 rows/.test(e.message),
  );
  await assert.rejects(
    pipeline(fromIterable(rows), collect({ maxBytes: '5kB' })),
    (e: CollectLimitError) => e.code === ErrorCodes.COLLECT_LIMIT && /bytes/.test(e.message),
  );
  assert.throws(() => collect({ maxBytes: 'lots' }), /options\.maxBytes/);
});

test('drain counts what it discards', async () => {
  const { output } = await pipeline(
    fromIterable(
      Array.from({ length: 10 }, (_, i) => ({ i })),
      { batchSize: 3 },
    ),
    drain(),
  );
  assert.deepEqual(output, { rows: 10, batches: 4 });
  assert.equal(existsSync('undefined'), false);
});

test('toCsv writes the same bytes through its fast formatter as through csv-stringify, and a dialect reads back', async () => {
  const dir = tempDir();
  const rows = Array.from({ length: 500 }, (_, i) => ({
    id: i,
    text: ['plain', 'with, comma', 'say "hi"', 'two\nlines', 'cr\rhere', '', 'é😀;|'][i % 7],
    x: i % 5 === 0 ? null : i / 7,
    flag: i % 2 === 0,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    nested: i % 9 === 0 ? { a: [1, 2], b: 'q"' } : undefined,
  }));
  // `bom: false` is an option only csv-stringify handles: the same rows through csv-stringify
  await pipeline(fromIterable(rows), toCsv(join(dir, 'fast.csv')));
  await pipeline(fromIterable(rows), toCsv(join(dir, 'stringify.csv'), { bom: false }));
  assert.equal(readFileSync(join(dir, 'fast.csv'), 'utf8'), readFileSync(join(dir, 'stringify.csv'), 'utf8'));
  await pipeline(fromIterable(rows), toCsv(join(dir, 'semi.csv'), { delimiter: ';', record_delimiter: 'windows' }));
  const back = await pipeline(fromCsv(join(dir, 'semi.csv'), { delimiter: ';' }), collect());
  assert.deepEqual(
    (back.output as Record<string, string>[]).map((r) => r.text),
    rows.map((r) => r.text),
  );
});

test('toCsv writes Arrow batches through row views with the same bytes as their rows', async () => {
  const dir = tempDir();
  const rows = Array.from({ length: 3000 }, (_, i) => ({
    id: i,
    name: i % 3 === 0 ? `quote "${i}"` : i % 3 === 1 ? `comma, ${i}` : null,
    x: i / 4,
    ok: i % 2 === 0,
  }));
  const input = join(dir, 'in.csv');
  await pipeline(fromIterable(rows), toCsv(input));
  await pipeline(fromCsv(input, { cast: true, output: 'arrow' }), toCsv(join(dir, 'from-arrow.csv')));
  await pipeline(fromCsv(input, { cast: true }), toCsv(join(dir, 'from-rows.csv')));
  const expected = readFileSync(join(dir, 'from-rows.csv'), 'utf8');
  assert.equal(readFileSync(join(dir, 'from-arrow.csv'), 'utf8'), expected);
  assert.equal(expected, readFileSync(input, 'utf8'));
});

test('a row that is not an object is a coded error naming the sink and the row, and no file is left', async () => {
  const dir = tempDir();
  const sinks = {
    toCsv: () => toCsv(join(dir, 'v.csv')),
    toJsonl: () => toJsonl(join(dir, 'v.jsonl')),
    toParquet: () => toParquet(join(dir, 'v.parquet')),
    toArrow: () => toArrow(join(dir, 'v.arrow')),
    toSpill: () => toSpill({ budget: 0 }),
  };
  for (const bad of [42, 'x', null]) {
    for (const [name, sink] of Object.entries(sinks)) {
      await assert.rejects(
        pipeline(
          fromIterable([{ i: 0 }, { i: 1 }, { i: 2 }]),
          map((r: { i: number }) => (r.i === 1 ? bad : r)),
          sink(),
        ),
        (e: Error & { code?: string; context?: { stage?: string; rowInBatch?: number } }) =>
          e.code === ErrorCodes.SCHEMA_MISMATCH && e.context?.stage === name && e.context.rowInBatch === 1,
        `${name} ${JSON.stringify(bad)}`,
      );
    }
  }
  assert.deepEqual(readdirSync(dir), []);
  // collect and drain take any values
  const values = [1, 'x', null] as unknown as object[];
  assert.deepEqual((await pipeline(fromIterable(values), collect())).output, values);
  await pipeline(fromIterable(values), drain());
});

test('toJsonl writes binary values as base64 strings, bigints and NaN exactly, at any depth', async () => {
  const dir = tempDir();
  const file = join(dir, 'bin.jsonl');
  const rows = [
    { id: 1, b: new Uint8Array([1, 2, 255]), nested: { parts: [new Uint8Array([7])] } },
    { id: 2, b: new Uint8Array(0), nested: { parts: [] as Uint8Array[] } },
    { id: 3, b: null, nested: { n: Number.NaN, big: 2n ** 70n } },
  ];
  await pipeline(fromIterable(rows), toJsonl(file));
  assert.deepEqual(readFileSync(file, 'utf8').trim().split('\n'), [
    '{"id":1,"b":"AQL/","nested":{"parts":["Bw=="]}}',
    '{"id":2,"b":"","nested":{"parts":[]}}',
    '{"id":3,"b":null,"nested":{"n":NaN,"big":1180591620717411303424}}',
  ]);
});

test("toJsonl writes a Buffer as base64 (not its toJSON's {type, data}), other typed arrays as arrays of their numbers", async () => {
  // until 2026-12-07 a Buffer (what crypto, fs and zlib give) was written {"type":"Buffer","data":[...]} (helper-74)
  const file = join(tempDir(), 'buffers.jsonl');
  const rows = [
    { id: 1, hash: Buffer.from([1, 2, 255]), parts: [Buffer.from('hi')], empty: Buffer.alloc(0) },
    { id: 2n ** 63n, hash: Buffer.from([7]), parts: [], empty: null },
    {
      id: 3,
      floats: new Float64Array([1.5, Number.NaN]),
      bigs: new BigInt64Array([2n ** 62n]),
      ints: new Int32Array(0),
    },
  ];
  await pipeline(fromIterable(rows), toJsonl(file));
  assert.deepEqual(readFileSync(file, 'utf8').trim().split('\n'), [
    '{"id":1,"hash":"AQL/","parts":["aGk="],"empty":""}',
    '{"id":9223372036854775808,"hash":"Bw==","parts":[],"empty":null}',
    '{"id":3,"floats":[1.5,NaN],"bigs":[4611686018427387904],"ints":[]}',
  ]);
});

test('toCsv with quote: "\'" doubles the quote inside a field, and fromCsv and DuckDB read every value back', async () => {
  // csv-stringify escapes with `"` whatever the quote: `it's` was written `'it"'s'` and read back as `'it"'s'`
  const file = join(tempDir(), 'quote.csv');
  const rows = [{ a: "it's", b: 'x,y', c: 'say "hi"', d: "''" }];
  await pipeline(fromIterable(rows), toCsv(file, { quote: "'" }));
  assert.equal(readFileSync(file, 'utf8'), "a,b,c,d\n'it''s','x,y',say \"hi\",''''''\n");
  const { output } = await pipeline(fromCsv(file, { quote: "'" }), collect());
  assert.deepEqual(output, rows);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const back = (await c.runAndReadAll(`SELECT * FROM read_csv('${file}', quote = '''', escape = '''')`)).getRows();
  c.closeSync();
  db.closeSync();
  assert.deepEqual(back, [Object.values(rows[0]!)]);
});

test('sinks writing to process.stdout leave it open: a second table and later output still arrive', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, nodeScript('test/fixtures/stdio/sinks-to-stdout.ts'), {
    timeout: 60_000,
  });
  assert.equal(stdout, 'a,b\n1,x\n2,y\n{"a":1,"b":"x"}\n{"a":2,"b":"y"}\nAFTER\n');
});

test("a run under Node's own stream.pipeline that fails and ends the process leaves no temporary file", async () => {
  const dir = tempDir();
  await assert.rejects(
    promisify(execFile)(process.execPath, [...nodeScript('test/fixtures/stdio/node-pipeline-fails.ts'), dir], {
      timeout: 60_000,
    }),
    /boom/,
  );
  assert.deepEqual(readdirSync(dir), []);
});
