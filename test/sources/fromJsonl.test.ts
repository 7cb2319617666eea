import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { zstdCompressSync as compress } from '../../lib/formats/zstd.ts';
import { pipeline, collect, fromJsonl, toJsonl, fromIterable, ErrorCodes, SpillwayError } from '../../index.ts';
import { parseJsonExact } from '../../lib/formats/json/lines.ts';
import { jsonLineFormatter } from '../../lib/formats/json/format.ts';
import { setMaxRecordBytes } from '../../lib/formats/csv/fast/limits.ts';
import { tempDir } from '../helpers.ts';
import { duckRows, duckRun, sqlString } from '../lib/formats/parquet/duckdb.ts';

const dir = tempDir('spillway-jsonl-');
const TEXT =
  '{"id":1,"big":9007199254740993,"neg":-9223372036854775808,"f":1.5,"s":"a\\"b"}\n\r\n{"id":2,"big":3,"nested":{"n":12345678901234567890},"list":[1,2]}\r\n';

test('integers beyond 2^53 are bigints, never rounded; CRLF and blank lines are accepted', async () => {
  const file = join(dir, 'big.jsonl');
  writeFileSync(file, TEXT);
  const { output } = await pipeline(fromJsonl(file), collect());
  assert.deepEqual(output, [
    { id: 1, big: 9007199254740993n, neg: -9223372036854775808n, f: 1.5, s: 'a"b' },
    { id: 2, big: 3, nested: { n: 12345678901234567890n }, list: [1, 2] },
  ]);
});

test('a line of JSON white space is blank; one holding other Unicode white space is a bad line, as DuckDB reads it', async () => {
  const blank = join(dir, 'blank-lines.jsonl');
  writeFileSync(blank, '{"a":1}\n \t \r\n\t\n{"a":2}\n');
  assert.deepEqual((await pipeline(fromJsonl(blank), collect())).output, [{ a: 1 }, { a: 2 }]);
  // until 2026-12-07 a line starting with a space was tested with String.prototype.trim, which
  // strips U+00A0 and U+2028 too: the line was dropped without a word (helper-74)
  const nbsp = join(dir, 'nbsp-line.jsonl');
  writeFileSync(nbsp, '{"a":1}\n \u00a0\u2028\n{"a":2}\n');
  await assert.rejects(
    pipeline(fromJsonl(nbsp), collect()),
    (e: SpillwayError) => e.code === ErrorCodes.JSON_PARSE && e.context.line === 2,
  );
});

test('number literals of any length read as JSON.parse reads them (a 400-character window refused longer ones)', async () => {
  const file = join(dir, 'long-numbers.jsonl');
  const digits = '1'.repeat(450);
  // a 16-digit run sends a line to the exact parser, which cut numbers at 400 characters
  writeFileSync(file, `{"id":9007199254740993,"a":0.${digits}}\n{"id":2,"a":${digits}}\n`);
  const { output } = await pipeline(fromJsonl(file), collect());
  assert.deepEqual(output, [
    { id: 9007199254740993n, a: JSON.parse(`0.${digits}`) },
    { id: 2, a: BigInt(digits) },
  ]);
});

/** Bigints back to numbers (rounded as JSON.parse rounds), checking each was beyond 2^53. */
const rounded = (value: unknown): unknown => {
  if (typeof value === 'bigint') {
    assert.ok(value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER), `${value} is safe`);
    return Number(value);
  }
  if (Array.isArray(value)) return value.map(rounded);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
};

test('the exact parser agrees with JSON.parse on every JSON value, unsafe integers as bigint (fast-check)', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const text = JSON.stringify(value);
      // force the exact parser by padding with a long digit run inside a string
      const wrapped = `[${text},"1234567890123456"]`;
      assert.deepEqual(rounded(parseJsonExact(wrapped)), JSON.parse(wrapped));
    }),
    { numRuns: 500 },
  );
  for (const bad of [
    '{"a":1234567890123456789',
    '{"a":01234567890123456789}',
    '[1234567890123456789,]',
    '{"a" 12345678901234567}',
  ]) {
    assert.throws(() => parseJsonExact(bad), SyntaxError);
  }
});

test('bigints round-trip through toJsonl and fromJsonl; gzip and zstd by extension', async () => {
  const rows = [
    { id: 1, big: 2n ** 63n - 1n, at: 'x' },
    { id: 2, big: -(2n ** 62n), at: 'y\u0000z' },
  ];
  for (const name of ['out.jsonl', 'out.jsonl.gz']) {
    const file = join(dir, name);
    const written = await pipeline(fromIterable(rows), toJsonl(file));
    assert.equal(written.output.rows, 2);
    const back = await pipeline(fromJsonl(file), collect());
    assert.deepEqual(back.output, rows);
  }
  const zst = join(dir, 'in.jsonl.zst');
  writeFileSync(zst, compress(Buffer.from(TEXT)));
  const z = await pipeline(fromJsonl(zst), collect());
  assert.equal(z.output.length, 2);
  const gz = join(dir, 'in.jsonl.gz');
  writeFileSync(gz, gzipSync(TEXT));
  assert.equal((await pipeline(fromJsonl(gz), collect())).output.length, 2);
  assert.equal(
    readFileSync(join(dir, 'out.jsonl'), 'utf8').split('\n')[0],
    `{"id":1,"big":${2n ** 63n - 1n},"at":"x"}`,
  );
});

test('NaN and infinities round-trip as the bare tokens DuckDB writes (JSON.stringify made them null); DuckDB reads ours, we read its', async () => {
  const rows = [
    { id: 1, x: Number.NaN, y: Number.POSITIVE_INFINITY, z: null, s: 'NaN Infinity null' },
    {
      id: 2,
      x: Number.NEGATIVE_INFINITY,
      y: 2n ** 63n - 1n,
      z: [1, Number.NaN, { deep: Number.NEGATIVE_INFINITY }],
      s: '',
    },
    { id: 3, x: 0.5, y: null, z: 'null', s: 'x' },
  ];
  const file = join(dir, 'non-finite.jsonl');
  await pipeline(fromIterable(rows), toJsonl(file));
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines[0], '{"id":1,"x":NaN,"y":Infinity,"z":null,"s":"NaN Infinity null"}');
  assert.equal(lines[1], `{"id":2,"x":-Infinity,"y":${2n ** 63n - 1n},"z":[1,NaN,{"deep":-Infinity}],"s":""}`);
  assert.equal(lines[2], '{"id":3,"x":0.5,"y":null,"z":"null","s":"x"}');
  assert.deepEqual((await pipeline(fromJsonl(file), collect())).output, rows);
  const duck = await duckRows(
    `SELECT id, x::VARCHAR AS x FROM read_json(${sqlString(file)}, columns = {id: 'INTEGER', x: 'DOUBLE'}) ORDER BY id`,
  );
  assert.deepEqual(
    duck.rows.map((r) => r.x),
    ['nan', '-inf', '0.5'],
  );
  // and what DuckDB writes: the same tokens, and -0.0
  const theirs = join(dir, 'duck.jsonl');
  await duckRun(
    `COPY (SELECT 'nan'::DOUBLE AS a, '-inf'::DOUBLE AS b, -0.0::DOUBLE AS c, NULL::DOUBLE AS d) TO ${sqlString(theirs)} (FORMAT json)`,
  );
  assert.deepEqual((await pipeline(fromJsonl(theirs), collect())).output, [
    { a: Number.NaN, b: Number.NEGATIVE_INFINITY, c: -0, d: null },
  ]);
  // a token inside a string, or a misspelt one, is still what it was: text, or a bad line
  assert.deepEqual(parseJsonExact('{"a":"NaN"}'), { a: 'NaN' });
  assert.throws(() => parseJsonExact('{"a":Nan}'), SyntaxError);
  assert.throws(() => parseJsonExact('{"a":-NaN}'), SyntaxError);
});

const BAD = '{"a":1}\n{"a":2,}\n[1,2]\n{"a":4}\n';

test("a malformed line fails with its line number ('fail', the default)", async () => {
  await assert.rejects(pipeline(fromJsonl(Readable.from([BAD])), collect()), (e: unknown) => {
    assert.ok(e instanceof SpillwayError);
    assert.equal(e.code, ErrorCodes.JSON_PARSE);
    assert.equal(e.context.line, 2);
    return true;
  });
});

test("'skip' drops bad lines and counts them; a dead-letter file keeps them with line numbers", async () => {
  const skipped = await pipeline(fromJsonl(Readable.from([BAD]), { onError: 'skip' }), collect());
  assert.deepEqual(skipped.output, [{ a: 1 }, { a: 4 }]);
  assert.equal(skipped.stats.stages[0]!.rowsSkipped, 2);
  const dl = join(dir, 'dead.jsonl');
  const file = join(dir, 'bad.jsonl');
  writeFileSync(file, BAD);
  const kept = await pipeline(fromJsonl(file, { onError: { deadLetter: dl } }), collect());
  assert.equal(kept.output.length, 2);
  const records = readFileSync(dl, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { line: number; raw: string; code: string });
  assert.deepEqual(
    records.map((r) => [r.line, r.raw, r.code]),
    [
      [2, '{"a":2,}', 'ERR_SPILLWAY_JSON_PARSE'],
      [3, '[1,2]', 'ERR_SPILLWAY_JSON_PARSE'],
    ],
  );
});

test('lines split across chunks (and multi-byte characters split across chunks) are joined', async () => {
  const text = '{"s":"\u00e9\u{1F600}"}\n{"s":"x"}\n';
  const bytes = Buffer.from(text);
  const chunks = Array.from(bytes, (b) => Buffer.from([b]));
  const { output } = await pipeline(fromJsonl(Readable.from(chunks), { batchSize: 1 }), collect());
  assert.deepEqual(output, [{ s: '\u00e9\u{1F600}' }, { s: 'x' }]);
});

test('a JSON Lines dataset: glob, file column', async () => {
  writeFileSync(join(dir, 'p1.jsonl'), '{"a":1}\n');
  writeFileSync(join(dir, 'p2.jsonl'), '{"a":2}\n');
  const { output } = await pipeline(fromJsonl(join(dir, 'p*.jsonl'), { fileColumn: 'f' }), collect());
  assert.deepEqual(output, [
    { a: 1, f: join(dir, 'p1.jsonl') },
    { a: 2, f: join(dir, 'p2.jsonl') },
  ]);
});

test('a JSON Lines URL is read with one streaming GET (gzip by extension); an HTTP error is an IoError', async () => {
  const { createServer } = await import('node:http');
  const body = gzipSync(TEXT);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/events.jsonl.gz')) res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const { output } = await pipeline(fromJsonl(`${base}/events.jsonl.gz?sig=abc`), collect());
    assert.equal(output.length, 2);
    assert.equal((output[0] as { big: bigint }).big, 9007199254740993n);
    await assert.rejects(pipeline(fromJsonl(`${base}/missing.jsonl?key=secret`), collect()), (e: unknown) => {
      assert.ok(e instanceof SpillwayError);
      assert.equal(e.code, ErrorCodes.IO);
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('options are validated at once', () => {
  const invalid = (e: unknown): boolean => e instanceof SpillwayError && e.code === ErrorCodes.INVALID_OPTION;
  assert.throws(() => fromJsonl('x.jsonl', { batchSize: 0 }), invalid);
  assert.throws(() => fromJsonl('x.jsonl', { onError: 'ignore' as never }), invalid);
  assert.throws(() => fromJsonl('x.jsonl', { delimiter: ',' } as never), invalid);
  assert.throws(() => toJsonl('x.jsonl', { pretty: true } as never), invalid);
  assert.equal(jsonLineFormatter()({ a: 1n }), '{"a":1}');
});

test('a line with bytes that are not UTF-8 is a bad line (its number given), never read as U+FFFD unless asked', async () => {
  // 3-byte characters on every line, over many read chunks; line 30001 holds a Latin-1 byte
  const lines = Array.from({ length: 40_000 }, (_, i) => Buffer.from(`{"id":${i},"city":"東京 ${i}"}\n`));
  lines[30_000] = Buffer.concat([Buffer.from('{"id":30000,"city":"Z'), Buffer.from([0xfc]), Buffer.from('rich"}\n')]);
  const file = join(dir, 'bad-utf8.jsonl');
  writeFileSync(file, Buffer.concat(lines));
  await assert.rejects(pipeline(fromJsonl(file), collect()), (error: unknown) => {
    assert.ok(error instanceof SpillwayError);
    assert.equal(error.code, ErrorCodes.JSON_PARSE);
    assert.equal(error.context.line, 30_001);
    assert.equal(error.context.file, file);
    assert.match(error.message, /Invalid UTF-8 on line 30001/);
    return true;
  });
  const skipped = await pipeline(fromJsonl(file, { onError: 'skip' }), collect());
  assert.equal(skipped.output.length, 39_999);
  assert.equal(
    (skipped.output as { city: string }[])[30_000]!.city,
    '東京 30001',
    'the lines after it are read exactly',
  );
  const replaced = await pipeline(fromJsonl(file, { invalidUtf8: 'replace' }), collect());
  assert.equal((replaced.output as { city: string }[])[30_000]!.city, 'Z\uFFFDrich');
  // a character cut short at the end of the text (no newline after it)
  const cut = join(dir, 'cut-utf8.jsonl');
  writeFileSync(
    cut,
    Buffer.concat([Buffer.from('{"a":1}\n{"a":"'), Buffer.from('東').subarray(0, 2), Buffer.from('"}')]),
  );
  await assert.rejects(pipeline(fromJsonl(cut), collect()), /Invalid UTF-8 on line 2/);
});

/** Runs `body` with the line bound lowered to `bytes` (the real one is 128 MiB). */
async function withLineLimit(bytes: number, body: () => Promise<void>): Promise<void> {
  const restore = setMaxRecordBytes(bytes);
  try {
    await body();
  } finally {
    restore();
  }
}

const tooLong = (file: string | undefined, line: number) => (error: unknown) => {
  assert.ok(error instanceof SpillwayError);
  assert.equal(error.code, ErrorCodes.JSON_PARSE);
  assert.equal(error.context.line, line);
  if (file !== undefined) assert.equal(error.context.file, file);
  assert.match(error.message, new RegExp(`JSONL_MAX_LINE_SIZE: Line ${line} is longer than 100000 bytes`));
  return true;
};

test('a line longer than the bound (in UTF-8 bytes) is refused with its file and line, whatever onError says', async () => {
  await withLineLimit(100_000, async () => {
    // 2-byte characters: a bound counted in characters would let both lines through
    const atBound = `{"s":"${'\u00e9'.repeat(49_996)}"}`;
    const over = `${atBound} `;
    assert.equal(Buffer.byteLength(atBound), 100_000);
    const text = `{"a":1}\n${atBound}\n{"a":3}\n${over}\n{"a":5}\n`;
    const file = join(dir, 'long-line.jsonl');
    writeFileSync(file, text);
    const gz = join(dir, 'long-line.jsonl.gz');
    writeFileSync(gz, gzipSync(text));
    const dead = join(dir, 'long-line-dead.jsonl');
    for (const onError of ['fail', 'skip', { deadLetter: dead }] as const) {
      // the long lines span read chunks (64 KiB from a file, 16 KiB from gunzip)
      await assert.rejects(pipeline(fromJsonl(file, { onError }), collect()), tooLong(file, 4));
      await assert.rejects(pipeline(fromJsonl(gz, { onError }), collect()), tooLong(gz, 4));
      // one chunk holding every line
      await assert.rejects(pipeline(fromJsonl(Readable.from([text]), { onError }), collect()), tooLong(undefined, 4));
    }
    const last = join(dir, 'long-last-line.jsonl');
    writeFileSync(last, `{"a":1}\n${over}`);
    await assert.rejects(pipeline(fromJsonl(last, { onError: 'skip' }), collect()), tooLong(last, 2));
    writeFileSync(file, `{"a":1}\n${atBound}\n{"a":3}`);
    const { output } = await pipeline(fromJsonl(file), collect());
    assert.deepEqual(
      (output as { a?: number; s?: string }[]).map((row) => row.a ?? row.s!.length),
      [1, 49_996, 3],
    );
  });
});

test('a line that never ends is refused once it passes the bound, not read to the end of the input', async () => {
  await withLineLimit(100_000, async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x78);
    let pulled = 0;
    async function* noNewline(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 1024; i++) {
        pulled += chunk.length;
        yield chunk;
      }
    }
    await assert.rejects(
      pipeline(fromJsonl(Readable.from(noNewline()), { onError: 'skip' }), collect()),
      tooLong(undefined, 1),
    );
    // the bound and what the streams read ahead (16 chunks), not the 16 MiB on offer
    assert.ok(pulled < 1 << 20, `${pulled} bytes were read`);
  });
});

test('a UTF-8 byte order mark before the first line is read past; a dead letter of a CRLF line keeps no CR', async () => {
  const dir = tempDir();
  const file = join(dir, 'bom.jsonl');
  writeFileSync(
    file,
    Buffer.concat([Buffer.from('\uFEFF{"a":1}\r\n{"a":2}\r\n'), Buffer.from([0x7b, 0xff, 0x7d, 0x0d, 0x0a])]),
  );
  const dead = join(dir, 'dead.jsonl');
  const { output } = await pipeline(fromJsonl(file, { onError: { deadLetter: dead } }), collect());
  assert.deepEqual(output, [{ a: 1 }, { a: 2 }]);
  const letter = JSON.parse(readFileSync(dead, 'utf8').trim()) as { line: number; raw: string };
  assert.equal(letter.line, 3);
  assert.equal(letter.raw, '{\uFFFD}');
});

test('a Map or a Set in a row is written as its entries or values, not `{}` (toJsonl and Parquet JSON columns)', () => {
  // JSON.stringify writes both as {}, so their contents were lost without a word
  const format = jsonLineFormatter();
  assert.equal(
    format({
      m: new Map<unknown, unknown>([
        ['a', 1],
        [2, 'x'],
      ]),
      s: new Set([1, 2]),
      l: [new Map([['k', 1n]])],
    }),
    '{"m":[{"key":"a","value":1},{"key":2,"value":"x"}],"s":[1,2],"l":[[{"key":"k","value":1}]]}',
  );
  assert.equal(format({ m: new Map(), s: new Set() }), '{"m":[],"s":[]}');
  assert.equal(format({ o: {} }), '{"o":{}}');
});
