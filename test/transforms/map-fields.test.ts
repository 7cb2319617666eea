/**
 * A map or flatMap whose source shows the fields it reads (lib/core/fields-read.ts) is given
 * objects of those columns only, or row views when it only reads primitives, and the source
 * fills only those columns. None of that may change a single output value: every function here
 * runs once over whole row objects (the source told to produce rows) and once on the default
 * path, over a messy CSV and a DuckDB-written Parquet file of many types, and the outputs must
 * be equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import {
  pipeline,
  fromCsv,
  fromParquet,
  map,
  flatMap,
  filter,
  collect,
  none,
  toCsv,
  toParquet,
  Stop,
} from '../../index.ts';
import type { PipelineStats } from '../../index.ts';
import { tempDir } from '../helpers.ts';
import { duckRun, parquetReadBack, sqlString } from '../lib/formats/parquet/duckdb.ts';

const dir = tempDir();
const ROWS = 3000;

function line(i: number): string {
  const ts = i % 11 === 0 ? '' : new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString();
  const price = i % 13 === 0 ? '' : i % 2 === 0 ? String(i % 500) : `${i % 500}.5`;
  const note = i % 7 === 0 ? '' : i % 5 === 0 ? `"a, ""b""\nc${i} é✓"` : i % 17 === 0 ? `😀${i}` : `n${i}`;
  const big = String(9007199254740993n + BigInt(i));
  return [i, ts, `S${i % 37}`, price, i % 300, i % 3 === 0, note, big].join(',');
}
const csv = join(dir, 'mixed.csv');
writeFileSync(
  csv,
  `id,ts,symbol,price,qty,flag,note,big\n${Array.from({ length: ROWS }, (_, i) => line(i)).join('\n')}\n`,
);

const parquet = join(dir, 'types.parquet');
await duckRun(`COPY (
  SELECT i AS id, (i * 7)::BIGINT AS big, i / 3.0 AS ratio, (i / 7)::DECIMAL(12, 3) AS dec,
    CASE WHEN i % 9 = 0 THEN NULL ELSE 'text-' || i END AS txt,
    DATE '2024-01-01' + i::INTEGER AS day, TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 1 SECOND AS at,
    [i, i + 1] AS list, {'a': i, 'b': 'x' || i} AS rec, ('b' || i)::BLOB AS bin
  FROM range(${ROWS}) t(i)
) TO ${sqlString(parquet)} (FORMAT PARQUET, ROW_GROUP_SIZE 700)`);

/** Rows of many types, read as each function pleases. */
type Any = Record<string, any>;

/** Per-row functions for the CSV, each a different use of the row. */
const csvFunctions: Record<string, (r: Any, i: number) => unknown> = {
  primitives: (r) => ({ id: r.id, symbol: r.symbol, n: r.price * r.qty, big: r.big }),
  destructured: ({ id, note }) => ({ id, len: note?.length ?? -1, note }),
  timestamp: (r) => ({ id: r.id, day: r.ts?.slice(0, 10) ?? null }),
  'writes a field': (r) => {
    r.extra = r.id * 2;
    return { e: r.extra, flag: r.flag };
  },
  closure: (r) => {
    const later = () => r.symbol;
    return { s: later() };
  },
  async: async (r) => {
    await null;
    return { id: r.id, note: r.note };
  },
  drops: (r) => (r.qty > 100 ? { id: r.id } : undefined),
  'none sentinel': (r) => (r.flag ? none : { id: r.id }),
  'a field no column has': (r) => ({ missing: r.nope ?? 'none', id: r.id }),
  'uses the index': (r, i) => ({ id: r.id, i }),
  'copies columns': (r) => ({ s: r.symbol, again: r.symbol, id: r.id, flag: r.flag, price: r.price, note: r.note }),
  'copies columns, then stops': (r) => {
    if (r.id === 1700) throw new Stop();
    return { s: r.symbol, n: r.qty * 2, big: r.big };
  },
  'makes two types under one key': (r) => ({ v: r.id % 2 ? r.id : String(r.id) }),
  'makes a Date': (r) => ({ id: r.id, d: new Date(r.id * 1000) }),
  'makes nothing but a constant': (r) => ({ one: 1, big: r.big }),
  'adds a column': (r) => ({ ...r, notional: r.price * r.qty }),
  'a copy of the row': (r) => ({ ...r }),
  'replaces a column where it stands': (r) => ({
    ...r,
    price: r.price === null ? null : r.price * 2,
    id: String(r.id),
  }),
  'adds bigints and booleans': (r) => ({ ...r, big2: r.big, odd: r.id % 2 === 1 }),
  'block body': (r) => {
    const n = r.qty * 2;
    return { ...r, n, symbol: `${r.symbol}!` };
  },
  'a lone surrogate set': (r) => ({ ...r, first: r.note?.slice(0, 1) ?? null }),
  'numbers and strings under one key': (r) => ({ ...r, v: r.id % 2 ? r.id : String(r.id) }),
  'undefined set': (r) => ({ ...r, u: r.flag ? undefined : 1 }),
  'a bigint past 64 bits set': (r) => ({ ...r, huge: r.id === 7 ? r.big * 2n ** 64n : r.big }),
  stops: (r) => {
    if (r.id === 1500) throw new Stop();
    return { ...r, x: 1 };
  },
  throws: (r) => ({ ...r, x: r.id === 2999 ? JSON.parse('{') : 1 }),
  'whole row': (r) => r,
  spread: (r) => ({ ...r, x: 1 }),
  keys: (r) => ({ k: Object.keys(r).join() }),
};

/** A Parquet file of flat types only, which fromParquet reads as Arrow (the file above reads as rows). */
const flat = join(dir, 'flat.parquet');
await duckRun(`COPY (
  SELECT i AS id, (i * 7)::BIGINT AS big, i / 3.0 AS ratio,
    CASE WHEN i % 9 = 0 THEN NULL ELSE 'text-' || i END AS txt,
    DATE '2024-01-01' + i::INTEGER AS day, TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 1 SECOND AS at,
    ('b' || i)::BLOB AS bin
  FROM range(${ROWS}) t(i)
) TO ${sqlString(flat)} (FORMAT PARQUET, ROW_GROUP_SIZE 700)`);

const flatFunctions: Record<string, (r: Any, i: number) => unknown> = {
  'adds beside every flat type': (r) => ({ ...r, twice: r.id * 2, big3: r.big * 3 }),
  'changes a spread Date': (r) => ({ ...r, y: r.at.setUTCFullYear(2000) }),
  'reads a Date twice after changing it': (r) => {
    r.day.setUTCFullYear(1999);
    return { y: r.day.getUTCFullYear() };
  },
  'adds from bytes': (r) => ({ ...r, n: r.bin.length }),
  'copies columns of every flat type': (r) => ({ id: r.id, big: r.big, ratio: r.ratio, txt: r.txt, n: r.id * 2 }),
};

/** The same for the Parquet file's types. */
const parquetFunctions: Record<string, (r: Any, i: number) => unknown> = {
  numbers: (r) => ({ id: r.id, big: r.big, ratio: r.ratio, dec: r.dec }),
  'dates and text': (r) => ({ day: r.day, at: r.at, txt: r.txt }),
  nested: (r) => ({ first: r.list[0], a: r.rec.a, b: r.rec.b, bytes: r.bin.length }),
  'date read twice after mutating it': (r) => {
    r.at.setUTCFullYear(2000);
    return { year: r.at.getUTCFullYear() };
  },
  'adds a column beside every type': (r) => ({ ...r, twice: r.id * 2, txt: r.txt ?? 'none' }),
  'adds from a timestamp': (r) => ({ ...r, y: r.at.getUTCFullYear() }),
  'adds from a list': (r) => ({ ...r, n: r.list.length }),
  'nested mutated then read again': (r) => {
    r.list.push(99);
    return { n: r.list.length };
  },
};

async function both(
  read: (rows: boolean) => Readable,
  stage: () => Transform,
  between?: () => Transform,
): Promise<{ whole: unknown[]; fast: unknown[]; stats: PipelineStats }> {
  const run = (rows: boolean) =>
    pipeline(read(rows), ...(between ? [between()] : []), stage(), collect()) as Promise<{
      output: unknown[];
      stats: PipelineStats;
    }>;
  const settle = (rows: boolean) =>
    run(rows).then(
      (result) => result,
      (error: Error & { code?: string; context?: unknown }) => ({
        output: [{ error: error.message, code: error.code }],
        stats: undefined as unknown as PipelineStats,
      }),
    );
  const whole = await settle(true);
  const fast = await settle(false);
  return { whole: whole.output, fast: fast.output, stats: fast.stats };
}

const fromCsvFile = (rows: boolean) =>
  fromCsv(csv, { cast: true, batchSize: 256, ...(rows ? { output: 'rows' } : {}) });
const fromParquetFile = (rows: boolean) => fromParquet(parquet, rows ? { output: 'rows' } : {});

for (const [name, fn] of Object.entries(csvFunctions)) {
  test(`CSV, map: ${name}: the same output as over whole rows`, async () => {
    const { whole, fast } = await both(fromCsvFile, () => map(fn));
    assert.ok(whole.length > 0);
    assert.deepEqual(fast, whole);
  });
  test(`CSV, filter then map: ${name}: the same output as over whole rows`, async () => {
    const keep = (r: { id: number }) => r.id % 4 !== 1;
    const { whole, fast } = await both(
      fromCsvFile,
      () => map(fn),
      () => filter(keep),
    );
    assert.deepEqual(fast, whole);
  });
}

for (const [name, fn] of Object.entries(parquetFunctions)) {
  test(`Parquet, map: ${name}: the same output as over whole rows`, async () => {
    const { whole, fast } = await both(fromParquetFile, () => map(fn));
    assert.equal(whole.length, ROWS);
    assert.deepEqual(fast, whole);
  });
}

for (const [name, fn] of Object.entries(flatFunctions)) {
  test(`Parquet of flat types, map: ${name}: the same output as over whole rows`, async () => {
    const { whole, fast, stats } = await both(
      (rows) => fromParquet(flat, rows ? { output: 'rows' } : {}),
      () => map(fn),
    );
    assert.equal(whole.length, ROWS);
    assert.equal(stats.stages[0]!.details.output, 'arrow');
    assert.deepEqual(fast, whole);
  });
}

test('a column named like an array index, which objects list first, keeps the whole-row order', async () => {
  const indexed = join(dir, 'indexed.csv');
  writeFileSync(indexed, `a,1,b\n${Array.from({ length: 50 }, (_, i) => `${i},${i * 2},x${i}`).join('\n')}\n`);
  const write = async (rows: boolean) => {
    const out = join(dir, `indexed-${rows}.parquet`);
    await pipeline(
      fromCsv(indexed, { cast: true, ...(rows ? { output: 'rows' } : {}) }),
      map((r: Any) => ({ ...r, c: r.a + 1 })),
      toParquet(out),
    );
    return parquetReadBack(out);
  };
  const whole = await write(true);
  const fast = await write(false);
  assert.deepEqual(fast.types, whole.types);
  assert.equal(fast.rows, whole.rows);
});

test('flatMap with known fields: the same output as over whole rows', async () => {
  const { whole, fast, stats } = await both(fromCsvFile, () =>
    flatMap((r: Any) => (r.qty % 2 === 0 ? [r.id, r.symbol] : [])),
  );
  assert.deepEqual(fast, whole);
  assert.equal(stats.stages[0]!.details.projection, 'id, symbol, qty');
});

test('the fast path is taken: the source fills only the fields read, and stats say so', async () => {
  const { stats } = await both(
    fromCsvFile,
    () => map(csvFunctions.primitives!),
    () => filter((r: { flag: boolean }) => r.flag),
  );
  const [source, , mapped] = stats.stages;
  assert.equal(source!.details.output, 'arrow');
  assert.equal(source!.details.projection, 'id, symbol, price, qty, flag, big');
  assert.equal(mapped!.details.fieldsRead, 'id, symbol, price, qty, big');
  // a field the file lacks: every column is read, and the output is still the whole-row one
  const missing = await both(fromCsvFile, () => map(csvFunctions['a field no column has']!));
  assert.equal(missing.stats.stages[0]!.details.projection, undefined);
  // a function that needs the whole row: rows from the source, no field list
  const whole = await both(fromCsvFile, () => map(csvFunctions.keys!));
  assert.equal(whole.stats.stages[0]!.details.output, 'rows');
  assert.equal(whole.stats.stages[1]!.details.fieldsRead, undefined);
});

test('a filter passes on the rows it was given whole, whatever fields its function reads', async () => {
  for (const input of ['object', 'view'] as const) {
    // after a filter over views, so that Arrow reaches it
    const { whole, fast } = await both(
      fromCsvFile,
      () => filter((r: { id: number }) => r.id % 2 === 0, { input }),
      () => filter((r: { qty: number }) => r.qty > 10),
    );
    assert.equal(Object.keys(fast[0] as object).length, 8, input);
    assert.deepEqual(fast, whole, input);
  }
});

test('the README idiom `{ ...row, k: v }` runs by column: Arrow in and out, the same Parquet file as from whole rows', async () => {
  // `twice` is integers only: Float64 as rows of numbers write it, never an Int32 batch
  const notional = (r: Any) => ({ ...r, notional: r.price * r.qty, twice: r.qty * 2 });
  const write = async (rows: boolean) => {
    const out = join(dir, `readme-${rows}.parquet`);
    const { stats } = await pipeline(
      fromCsvFile(rows),
      filter((r: { qty: number }) => r.qty > 10),
      map(notional),
      toParquet(out, { rowGroupSize: 700 }),
    );
    return { stats, back: await parquetReadBack(out, 'id') };
  };
  const whole = await write(true);
  const fast = await write(false);
  assert.deepEqual(fast.back.types, whole.back.types);
  assert.equal(fast.back.rows, whole.back.rows);
  const [source, , mapped, sink] = fast.stats.stages;
  assert.equal(source!.details.output, 'arrow');
  assert.equal(mapped!.details.setsColumns, 'notional, twice');
  assert.equal(sink!.details.input, 'arrow', 'no row object on the way');
  assert.equal(whole.stats.stages[3]!.details.input, 'rows');
});

test("the README's pipeline as written (gzip, dead letters, toCsv) writes the same bytes by column as from whole rows", async () => {
  const lines = readFileSync(csv, 'utf8').split('\n');
  // two malformed lines (a field too many, an unclosed quote at the end) for the dead letters
  lines.splice(100, 0, '1,2,3,4,5,6,7,8,9');
  const gz = join(dir, 'readme.csv.gz');
  writeFileSync(gz, gzipSync(`${lines.join('\n')}"unclosed\n`));
  const write = async (rows: boolean) => {
    const out = join(dir, `readme-${rows}.csv`);
    const { stats } = await pipeline(
      fromCsv(gz, {
        cast: true,
        onError: { deadLetter: join(dir, `bad-${rows}.jsonl`) },
        ...(rows ? { output: 'rows' } : {}),
      }),
      filter((row: { qty: number }) => row.qty > 0),
      map((row: { price: number; qty: number }) => ({ ...row, notional: row.price * row.qty })),
      toCsv(out),
    );
    return { stats, bytes: readFileSync(out), bad: readFileSync(join(dir, `bad-${rows}.jsonl`), 'utf8') };
  };
  const whole = await write(true);
  const fast = await write(false);
  assert.equal(fast.stats.stages[3]!.details.input, 'arrow');
  assert.equal(fast.stats.errors.deadLettered, 2);
  assert.ok(fast.bytes.equals(whole.bytes), 'the same CSV bytes');
  assert.equal(fast.bad, whole.bad);
});

test('a map returning a literal of fixed keys runs by column: the same Parquet file as from whole rows', async () => {
  const made = (r: Any) => ({
    id: r.id,
    symbol: r.symbol,
    big: r.big,
    odd: r.id % 2 === 1,
    n: r.price * r.qty,
    none: null,
  });
  const write = async (rows: boolean) => {
    const out = join(dir, `made-${rows}.parquet`);
    const { stats } = await pipeline(fromCsvFile(rows), map(made), toParquet(out, { rowGroupSize: 700 }));
    return { stats, back: await parquetReadBack(out, 'id') };
  };
  const whole = await write(true);
  const fast = await write(false);
  assert.deepEqual(fast.back.types, whole.back.types);
  assert.equal(fast.back.rows, whole.back.rows);
  assert.equal(fast.stats.stages[1]!.details.makesColumns, 'id, symbol, big, odd, n, none');
  assert.equal(fast.stats.stages[2]!.details.input, 'arrow');
});

test('a map copying columns passes on only those it would rebuild as they are: the same Parquet file as from whole rows', async () => {
  const copy = (r: Any) => ({ id: r.id, big: r.big, ratio: r.ratio, txt: r.txt, n: r.id * 2 });
  const write = async (rows: boolean) => {
    const out = join(dir, `copies-${rows}.parquet`);
    const { stats } = await pipeline(
      fromParquet(flat, rows ? { output: 'rows' } : {}),
      filter((r: { id: number }) => r.id % 3 !== 0),
      map(copy),
      toParquet(out),
    );
    return { stats, back: await parquetReadBack(out, 'id') };
  };
  const whole = await write(true);
  const fast = await write(false);
  assert.equal(fast.stats.stages[3]!.details.input, 'arrow');
  // BIGINT read as numbers is rebuilt as DOUBLE, as rows write it; DOUBLE and VARCHAR pass as they are
  assert.deepEqual(fast.back.types, whole.back.types);
  assert.equal(fast.back.rows, whole.back.rows);
});
