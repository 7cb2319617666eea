/**
 * Differential tests: the fast CSV path against csv-parse, on the corpus and on generated CSV
 * split at random byte positions: identical rows, or identical errors (code and line), and in
 * skip mode the same dropped records with the same raw text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, type CsvError, type Options } from 'csv-parse';
import { FastCsvReader } from '../../../../../lib/formats/csv/fast/reader.ts';
import { CSV_SEAM } from '../../../../../lib/formats/csv/fast/scanner.ts';
import { inferRows } from '../../../../../lib/formats/csv/cast.ts';
import { recordBatchToRows } from '../../../../../lib/formats/arrow/convert.ts';
import { fromCsv } from '../../../../../sources/fromCsv.ts';
import { pipeline } from '../../../../../lib/core/pipeline.ts';
import { collect } from '../../../../../sinks/collect.ts';
import { ErrorCodes, type CsvParseError } from '../../../../../lib/core/errors.ts';
import { CORPUS, corpusSkip, tempDir } from '../../../../helpers.ts';

interface Outcome {
  rows: unknown[];
  bad: { code: string | undefined; line: number | undefined; raw: string | undefined }[];
  error?: { code: string | undefined; line: number | undefined };
}

type Columns = boolean | string[];

/**
 * The reference's line ends, as the fast path takes them: csv-parse discovers the first (one
 * pass over the input with its own discovery), and past a first `\n` or `\r\n` both end lines.
 */
async function lineEnds(chunks: Uint8Array[], delimiter: string, relax: boolean): Promise<string[] | undefined> {
  const parser = parse({ bom: true, delimiter, relax_quotes: relax, skip_records_with_error: true } as Options);
  parser.on('data', () => {});
  const done = new Promise((resolve) => {
    parser.on('end', resolve);
    parser.on('error', resolve);
  });
  for (const chunk of chunks) parser.write(Buffer.from(chunk));
  parser.end();
  await done;
  const found = (parser as unknown as { options: { record_delimiter: Buffer[] } }).options.record_delimiter;
  return found[0]?.toString() === '\r' ? undefined : ['\r\n', '\n'];
}

async function viaCsvParse(
  chunks: Uint8Array[],
  columns: Columns,
  skip: boolean,
  infer: boolean,
  delimiter = ',',
  relax = false,
): Promise<Outcome> {
  const record_delimiter = await lineEnds(chunks, delimiter, relax);
  return new Promise((resolve) => {
    const out: Outcome = { rows: [], bad: [] };
    const parser = parse({
      record_delimiter,
      bom: true,
      delimiter,
      relax_quotes: relax,
      columns: Array.isArray(columns) ? [...columns] : columns,
      skip_records_with_error: skip,
      raw: skip,
      on_skip: skip
        ? (error: CsvError | undefined, raw: string | undefined) => {
            out.bad.push({ code: error?.code, line: (error as unknown as { lines?: number } | undefined)?.lines, raw });
          }
        : undefined,
    } as Options);
    parser.on('data', (record: { record: unknown }) => out.rows.push(skip ? record.record : record));
    parser.on('error', (error: CsvError & { lines?: number }) => {
      out.error = { code: error.code, line: error.lines };
      resolve(out);
    });
    parser.on('end', () => {
      if (infer) inferRows(out.rows as Record<string, unknown>[]);
      resolve(out);
    });
    for (const chunk of chunks) parser.write(Buffer.from(chunk));
    parser.end();
  });
}

function viaFast(
  chunks: Uint8Array[],
  columns: Columns,
  skip: boolean,
  infer: boolean,
  output: 'rows' | 'arrow',
  batchSize = 3,
  delimiter = ',',
  relax = false,
): Outcome {
  const out: Outcome = { rows: [], bad: [] };
  const reader = new FastCsvReader({
    delimiter: delimiter.charCodeAt(0),
    columns,
    infer,
    fail: !skip,
    raw: skip,
    onBad: (error, line, raw) => out.bad.push({ code: (error as CsvError).code, line, raw }),
    onCastFailure: () => assert.fail('no schema here'),
    output,
    relaxQuotes: relax,
  });
  reader.batchSize = batchSize;
  const drainReady = (): void => {
    for (const b of reader.ready.splice(0)) out.rows.push(...(b.rows ?? recordBatchToRows(b.arrow!)));
  };
  try {
    for (const chunk of chunks) {
      reader.push(chunk);
      drainReady();
    }
    reader.end();
    drainReady();
  } catch (error) {
    const e = error as CsvError & { lines?: number };
    if (typeof e.code !== 'string') throw error;
    out.error = { code: e.code, line: e.lines };
  }
  return out;
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(at, p));
    at = p;
  }
  chunks.push(bytes.subarray(at));
  return chunks;
}

async function compare(
  bytes: Uint8Array,
  cuts: number[],
  columns: Columns,
  skip: boolean,
  infer: boolean,
  label: string,
  relax = false,
): Promise<void> {
  const chunks = split(bytes, cuts);
  const expected = await viaCsvParse(chunks, columns, skip, infer, ',', relax);
  for (const output of ['rows', 'arrow'] as const) {
    const got = viaFast(chunks, columns, skip, infer, output, 3, ',', relax);
    if (expected.error) {
      // rows before a fatal error depend on batching; the error must be the same
      assert.deepEqual(got.error, expected.error, `${label} (${output}): error`);
    } else {
      assert.equal(got.error, undefined, `${label} (${output}): unexpected error ${JSON.stringify(got.error)}`);
      assert.deepEqual(got.rows, expected.rows, `${label} (${output}): rows`);
    }
    assert.deepEqual(got.bad, expected.bad, `${label} (${output}): skipped records`);
  }
}

test('every corpus CSV reads the same through the fast path and csv-parse (all modes)', {
  skip: corpusSkip,
}, async () => {
  const dirs = ['csv-spectrum', 'csv-test-data', 'arrow-testing'].map((d) => join(CORPUS, 'csv', d));
  let files = 0;
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.csv'))) {
      const bytes = readFileSync(join(dir, name));
      files++;
      for (const columns of [true, false] as const) {
        for (const skip of [false, true]) {
          for (const infer of [false, true]) {
            for (const relax of [false, true]) {
              const label = `columns=${columns} skip=${skip} infer=${infer} relax_quotes=${relax}`;
              await compare(bytes, [], columns, skip, infer, `${name} ${label}`, relax);
              await compare(
                bytes,
                [1, 2, 3, 5, 8, 13, 21, 34],
                columns,
                skip,
                infer,
                `${name} (split) ${label}`,
                relax,
              );
            }
          }
        }
      }
    }
  }
  assert.ok(files >= 30, `expected the corpus CSV files, found ${files}`);
});

const cell = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9 .-]{0,6}$/) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.integer(), fc.double({ noNaN: true }), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }))
      .map(String),
  },
  { weight: 1, arbitrary: fc.constantFrom('', 'true', 'false', '-0', '1e5', '.5', '5.', '+3', '-', '.', '007') },
  // blanks around numbers and words (` 42`, `3.5\t`, ` true`): cast: true reads the numbers inside
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('', ' ', '\t', '  ', ' \t'),
        fc.oneof(
          fc.integer().map(String),
          fc.double({ noNaN: true }).map(String),
          fc.constantFrom('true', '.5', '-', '1e5', '9007199254740993', ''),
        ),
        fc.constantFrom('', ' ', '\t', '  '),
      )
      .map(([before, text, after]) => `${before}${text}${after}`),
  },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom('a', '"', ',', '\n', '\r', '\r\n', 'é', '日本', '😀', ' ', '\0'),
      maxLength: 6,
    }),
  },
);
/** A field written quoted (escaping quotes), raw (possibly malformed), or broken on purpose. */
const field = fc.tuple(cell, fc.constantFrom('quoted', 'raw', 'raw', 'bad', 'stray')).map(([text, how]) => {
  if (how === 'quoted') return `"${text.replaceAll('"', '""')}"`;
  if (how === 'bad') return `"${text}`;
  // a quote inside an unquoted field, or text after a closing quote (relax_quotes keeps both)
  if (how === 'stray')
    return text.length % 2 === 0 ? `x"${text.replace(/[,\r\n]/g, '')}` : `"${text.replace(/"/g, '')}"y`;
  return text.replace(/[",\r\n]/g, '');
});
const csvText = fc
  .tuple(
    fc.integer({ min: 1, max: 4 }),
    fc.array(fc.tuple(fc.array(field, { minLength: 0, maxLength: 5 }), fc.boolean()), { minLength: 0, maxLength: 8 }),
    // 'mixed': files concatenated from two systems, each line ending in \n or \r\n
    fc.constantFrom('\n', '\r\n', '\r', 'mixed'),
    fc.boolean(),
    fc.boolean(),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
  )
  .map(([width, lines, kind, bom, trailing, broken, crlf]) => {
    const eol = (i: number): string => (kind !== 'mixed' ? kind : crlf[i] ? '\r\n' : '\n');
    const rows = lines.map(([fields, ragged]) => {
      const cells = ragged ? fields : Array.from({ length: width }, (_, i) => fields[i] ?? String(i));
      // mostly well-formed: keep the malformed fields for a fraction of the runs
      return cells
        .map((c) => (broken > 0.3 && c.startsWith('"') && !/^"([^"]|"")*"$/.test(c) ? c.slice(1) : c))
        .join(',');
    });
    const text = rows.map((row, i) => (i < rows.length - 1 || trailing ? row + eol(i) : row)).join('');
    return `${bom ? '\uFEFF' : ''}${text}`;
  });

test('generated CSV (quotes, commas, newlines, CRLF, unicode, empty and ragged rows, bad quoting) at random chunk boundaries', async () => {
  await fc.assert(
    fc.asyncProperty(
      csvText,
      fc.array(fc.nat(400), { maxLength: 6 }),
      fc.constantFrom<Columns>(true, false, ['a', 'b', 'c']),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      async (text, cuts, columns, skip, infer, relax) => {
        await compare(
          Buffer.from(text, 'utf8'),
          cuts,
          columns,
          skip,
          infer,
          `${JSON.stringify(text)} relax_quotes=${relax}`,
          relax,
        );
      },
    ),
    { numRuns: 1500 },
  );
});

test('the seam between chunks (the unfinished record scanned on a copy with the head of the next chunk, the chunk then in place) reads the same', async () => {
  const saved = { ...CSV_SEAM };
  // every chunk of 2 bytes or more goes through the seam, its head starting at 1 byte
  Object.assign(CSV_SEAM, { bytes: 1, minChunk: 2 });
  try {
    await fc.assert(
      fc.asyncProperty(
        csvText,
        fc.array(fc.nat(400), { minLength: 1, maxLength: 8 }),
        fc.constantFrom<Columns>(true, false),
        fc.boolean(),
        fc.boolean(),
        async (text, cuts, columns, infer, relax) => {
          await compare(Buffer.from(text, 'utf8'), cuts, columns, true, infer, `seam ${JSON.stringify(text)}`, relax);
          await compare(Buffer.from(text, 'utf8'), cuts, columns, false, infer, `seam ${JSON.stringify(text)}`, relax);
          // and each batch ends at the same line and byte as without the seam (resume and parallel ranges use them)
          const chunks = split(Buffer.from(text, 'utf8'), cuts);
          const seamed = batchEnds(chunks, columns, infer, relax);
          Object.assign(CSV_SEAM, saved);
          const whole = batchEnds(chunks, columns, infer, relax);
          Object.assign(CSV_SEAM, { bytes: 1, minChunk: 2 });
          assert.deepEqual(seamed, whole, `seam ${JSON.stringify(text)}: batch ends`);
        },
      ),
      { numRuns: 800 },
    );
    // a record longer than the first heads: the head grows, then the chunk is joined whole to it;
    // and one that a larger head finishes
    for (const long of [70, 20]) {
      const text = `a,b\n1,"x"\n${'y'.repeat(long)},2\n${'3,4\n'.repeat(60)}`;
      const at = text.indexOf('"x"') + 5;
      const chunks = [Buffer.from(text.slice(0, at)), Buffer.from(text.slice(at))];
      await compare(Buffer.from(text), [at], true, false, true, 'seam with two records in the left-over bytes');
      const seamed = batchEnds(chunks, true, true, false);
      Object.assign(CSV_SEAM, saved);
      assert.deepEqual(seamed, batchEnds(chunks, true, true, false));
      Object.assign(CSV_SEAM, { bytes: 1, minChunk: 2 });
    }
  } finally {
    Object.assign(CSV_SEAM, saved);
  }
});

/** Where each one-row batch ends (line, byte), read by the fast reader from `chunks`. */
function batchEnds(chunks: Uint8Array[], columns: Columns, infer: boolean, relax: boolean): [number, number][] {
  const reader = new FastCsvReader({
    delimiter: 44,
    columns,
    infer,
    fail: false,
    raw: false,
    onBad: () => {},
    onCastFailure: () => assert.fail('no schema here'),
    output: 'arrow',
    relaxQuotes: relax,
  });
  reader.batchSize = 1;
  const ends: [number, number][] = [];
  const take = (): void => {
    for (const b of reader.ready.splice(0)) ends.push([b.endLine, b.endByte]);
  };
  for (const chunk of chunks) {
    reader.push(chunk);
    take();
  }
  reader.end();
  take();
  return ends;
}

test('chunks that cut multi-byte UTF-8 characters at every position decode the same', async () => {
  const text = 'name,city\n"Zoë, ""the"" first","Kraków\n日本"\nÅsa,😀😀\n';
  const bytes = Buffer.from(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    await compare(bytes, [cut, cut + 1, cut + 3], true, false, false, `cut at ${cut}`);
  }
});

test('Arrow batches hold typed columns with widening inside a batch; a mixed column falls back to rows', () => {
  const reader = new FastCsvReader({
    columns: true,
    infer: true,
    fail: true,
    raw: false,
    onBad: () => undefined,
    onCastFailure: () => undefined,
    output: 'arrow',
  });
  reader.batchSize = 10;
  reader.push(Buffer.from('i,f,big,b,s,n,mixed\n1,2,9007199254740993,true,x,,1\n2,2.5,3,false,y,,a\n'));
  reader.end();
  const [batch] = reader.ready;
  assert.ok(batch?.rows, 'the mixed column makes the batch rows');
  const reader2 = new FastCsvReader({
    columns: true,
    infer: true,
    fail: true,
    raw: false,
    onBad: () => undefined,
    onCastFailure: () => undefined,
    output: 'arrow',
  });
  reader2.batchSize = 10;
  reader2.push(Buffer.from('i,f,big,b,s,n\n1,2,9007199254740993,true,x,\n2,2.5,3,false,y,\n'));
  reader2.end();
  const arrow = reader2.ready[0]?.arrow;
  assert.ok(arrow);
  assert.deepEqual(
    arrow.schema.fields.map((f) => String(f.type)),
    ['Int32', 'Float64', 'Int64', 'Bool', 'Utf8', 'Null'],
  );
  assert.deepEqual(recordBatchToRows(arrow), [
    { i: 1, f: 2, big: 9007199254740993n, b: true, s: 'x', n: null },
    { i: 2, f: 2.5, big: 3, b: false, s: 'y', n: null },
  ]);
});

test('fromCsv picks the fast path when it can, says so in stats, and gives the rows csv-parse gives', async () => {
  const dir = tempDir();
  const file = join(dir, 'a.csv');
  writeFileSync(file, 'a,b\n1,"x,y"\n2,\n3,"q""q"\n');
  for (const parser of ['auto', 'fast', 'csv-parse'] as const) {
    for (const cast of [false, true]) {
      const { output, stats } = await pipeline(fromCsv(file, { cast, parser } as never), collect());
      assert.equal(stats.stages[0]?.details.parser, parser === 'csv-parse' ? 'csv-parse' : 'fast');
      assert.deepEqual(
        output,
        cast
          ? [
              { a: 1, b: 'x,y' },
              { a: 2, b: null },
              { a: 3, b: 'q"q' },
            ]
          : [
              { a: '1', b: 'x,y' },
              { a: '2', b: '' },
              { a: '3', b: 'q"q' },
            ],
      );
    }
  }
  const { stats } = await pipeline(fromCsv(file, { trim: true }), collect());
  assert.equal(stats.stages[0]?.details.parser, 'csv-parse', 'an option only csv-parse has falls back');
});

test('UTF-16LE reads exactly as its UTF-8 twin on every parser: broken quotes, dead letters and the records after them', async () => {
  const dir = tempDir('spillway-u16-');
  // csv-parse decoding UTF-16 itself garbled text after a closing quote ("ab挢), decoded dead
  // letters one byte off, and in strict mode lost the records after a bad one
  const text = 'a,b\n"ab"c,1\n3,4\n"日本"語,5\nx"y,6\n7,"😀"\n';
  const utf8 = join(dir, 'u8.csv');
  const utf16 = join(dir, 'u16.csv');
  writeFileSync(utf8, text);
  writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
  const read = async (path: string, options: Record<string, unknown>) => {
    const deadLetter = `${path}.${JSON.stringify(options).replace(/\W/g, '')}.jsonl`;
    const { output, stats } = await pipeline(fromCsv(path, { ...options, onError: { deadLetter } }), collect());
    const letters = existsSync(deadLetter)
      ? readFileSync(deadLetter, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { line: number; raw: string; code: string })
          .map((l) => [l.line, l.raw, l.code])
      : [];
    return { output, letters, parser: stats.stages[0]?.details.parser };
  };
  for (const parser of ['auto', 'fast', 'csv-parse'] as const) {
    for (const relax_quotes of [undefined, false]) {
      const options = { parser, ...(relax_quotes === undefined ? {} : { relax_quotes }) };
      const want = await read(utf8, options);
      assert.deepEqual(await read(utf16, options), want, JSON.stringify(options));
    }
  }
  // the twins' results are not empty: csv-parse keeps the broken quotes as text, the fast path's strict mode refuses them
  const relaxed = await read(utf16, { parser: 'csv-parse' });
  assert.deepEqual(relaxed.output[0], { a: '"ab"c', b: '1' });
  const strict = await read(utf16, { parser: 'fast', relax_quotes: false });
  assert.deepEqual(strict.output, [
    { a: '3', b: '4' },
    { a: '7', b: '😀' },
  ]);
  assert.deepEqual(strict.letters.map((l) => l[1]).slice(0, 2), ['"ab"c,1', '"日本"語,5']);
  assert.equal(strict.letters.length, 3);
  // a lone surrogate is refused with its byte offset, or read as U+FFFD when asked
  const bad = join(dir, 'bad16.csv');
  const lone = Buffer.of(0x00, 0xd8);
  writeFileSync(bad, Buffer.concat([Buffer.from('a,b\n1,', 'utf16le'), lone, Buffer.from('x\n', 'utf16le')]));
  for (const parser of ['fast', 'csv-parse'] as const) {
    await assert.rejects(
      pipeline(fromCsv(bad, { parser, encoding: 'utf16le' }), collect()),
      (e: CsvParseError) => e.code === ErrorCodes.CSV_PARSE && e.context.byteOffset === 12 && /UTF-16/.test(e.message),
      parser,
    );
    const { output } = await pipeline(fromCsv(bad, { parser, encoding: 'utf16le', invalidUtf8: 'replace' }), collect());
    assert.deepEqual(output, [{ a: '1', b: '\ufffdx' }], parser);
  }
});

test('short repeated fields share one string, and 50,000 distinct short values (many per intern slot) all come back right', async () => {
  const dir = tempDir();
  const file = join(dir, 'codes.csv');
  const codes = Array.from({ length: 50_000 }, (_, i) => `c${(i * 7919).toString(36)}`);
  writeFileSync(file, `code,again\n${codes.map((c, i) => `${c},${codes[(i * 13) % codes.length]}`).join('\n')}\n`);
  const { output } = await pipeline(fromCsv(file), collect());
  const rows = output as { code: string; again: string }[];
  assert.deepEqual(
    rows.map((r) => r.code),
    codes,
  );
  assert.deepEqual(
    rows.map((r) => r.again),
    codes.map((_, i) => codes[(i * 13) % codes.length]),
  );
});

test('a column of unique short values (interning turns off) and a repetitive one (interning stays on) both read right', async () => {
  const dir = tempDir();
  const file = join(dir, 'mixed.csv');
  const n = 20_000;
  const lines = Array.from({ length: n }, (_, i) => `id${i},${['AAPL', 'MSFT', 'GOOG'][i % 3]}`);
  writeFileSync(file, `id,sym\n${lines.join('\n')}\n`);
  const { output } = await pipeline(fromCsv(file), collect());
  const rows = output as { id: string; sym: string }[];
  assert.deepEqual(
    rows.map((r) => r.id),
    lines.map((l) => l.split(',')[0]),
  );
  assert.deepEqual(
    rows.map((r) => r.sym),
    lines.map((l) => l.split(',')[1]),
  );
});
