/**
 * One ingest case in a fresh process, so its peak RSS is its own: prints one JSON line
 * `{ rows, ms, maxRss }` (ms excludes process start and module loading).
 * Usage: ingest-case.ts <case> <input file (CSV; Parquet for parquet-read)> <scratch dir>
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { pipeline, fromCsv, fromParquet, map, filter, select, drain, toParquet, toCsv } from 'spillway';
import { peakRss } from './peak-rss.ts';

const [name, input, dir] = process.argv.slice(2) as [string, string, string];
const csv = input;

async function rawCsvParse(): Promise<number> {
  const parser = createReadStream(csv, { highWaterMark: 256 * 1024 }).pipe(parse({ columns: true }));
  let rows = 0;
  parser.on('data', () => {
    rows++;
  });
  await once(parser, 'end');
  return rows;
}

function duckdb(threads: string, to: string): Promise<number> {
  return duckdbCopy(threads, `SELECT * FROM read_csv('${csv}')`, `'${to}' (FORMAT parquet, COMPRESSION snappy)`);
}

/** DuckDB's `COPY (query) TO target`, timed from after the engine loads. */
async function duckdbCopy(threads: string, query: string, target: string): Promise<number> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads });
  const connection = await db.connect();
  const started = performance.now();
  const reader = await connection.runAndReadAll(`COPY (${query}) TO ${target}`);
  timedFrom = started;
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

let timedFrom: number | undefined;
const cases: Record<string, () => Promise<number>> = {
  raw: rawCsvParse,
  rows: async () =>
    (
      await pipeline(
        fromCsv(csv, { cast: true }),
        map((row) => row),
        drain(),
      )
    ).stats.rowsOut,
  arrow: async () => (await pipeline(fromCsv(csv, { cast: true, output: 'arrow' }), drain())).stats.rowsOut,
  parquet: async () =>
    (await pipeline(fromCsv(csv, { cast: true, output: 'arrow' }), toParquet(join(dir, 'spillway.parquet')))).output
      .rows,
  'filter-parquet': async () => {
    const { output } = await pipeline(
      fromCsv(csv, { cast: true, output: 'arrow' }),
      filter((r: { qty: number }) => r.qty > 100),
      toParquet(join(dir, 'filtered.parquet')),
    );
    return output.rows;
  },
  // the README's pipeline, no performance option: negotiated Arrow, parser threads when the cores allow
  readme: async () =>
    (await pipeline(fromCsv(csv, { cast: true }), toParquet(join(dir, 'readme.parquet')))).output.rows,
  // the same with one parser thread (bench/ingest.ts runs it with SPILLWAY_CSV_THREADS=1): what a thread adds
  'readme-threads': async () =>
    (await pipeline(fromCsv(csv, { cast: true }), toParquet(join(dir, 'readme-threads.parquet')))).output.rows,
  // the same with a filter and a map that only read fields
  'readme-filter-map': () => readmeFilterMap('readme-filter-map'),
  // the same filter and the README's map: add a column to the whole row (`{ ...row, notional }`)
  'readme-spread': async () => {
    const { output } = await pipeline(
      fromCsv(csv, { cast: true }),
      filter((r: { qty: number }) => r.qty > 100),
      map((row: { price: number; qty: number }) => ({ ...row, notional: row.price * row.qty })),
      toParquet(join(dir, 'readme-spread.parquet')),
    );
    return output.rows;
  },
  // the same, with the columns the filter and map read named first (the reader then fills only them)
  'readme-filter-map-select': () => readmeFilterMap('readme-filter-map-select', ['id', 'symbol', 'price', 'qty']),
  'parquet-read': async () => (await pipeline(fromParquet(input), drain())).stats.rowsOut,
  'parquet-read-arrow': async () => (await pipeline(fromParquet(input, { output: 'arrow' }), drain())).stats.rowsOut,
  // the README's own pipeline, as the README writes it (dead letters, filter, `{ ...row, notional }`, toCsv)
  'readme-csv': async () => {
    const { output } = await pipeline(
      fromCsv(csv, { cast: true, onError: { deadLetter: join(dir, 'bad-rows.jsonl') } }),
      filter((row: { qty: number }) => row.qty > 0),
      map((row: { price: number; qty: number }) => ({ ...row, notional: row.price * row.qty })),
      toCsv(join(dir, 'readme-csv.csv')),
    );
    return output.rows;
  },
  'duckdb1-csv': () =>
    duckdbCopy(
      '1',
      `SELECT *, price * qty AS notional FROM read_csv('${csv}') WHERE qty > 0`,
      `'${join(dir, 'duckdb1-csv.csv')}' (HEADER)`,
    ),
  duckdb1: () => duckdb('1', join(dir, 'duckdb1.parquet')),
  duckdb2: () => duckdb('2', join(dir, 'duckdb2.parquet')),
};

/** The README's pipeline with a filter and a map that only read fields, after `select(columns)` when given. */
async function readmeFilterMap(out: string, columns?: string[]): Promise<number> {
  const { output } = await pipeline(
    fromCsv(csv, { cast: true }),
    ...(columns ? [select(columns)] : []),
    filter((r: { qty: number }) => r.qty > 100),
    map((r: { id: number; symbol: string; price: number; qty: number }) => ({
      id: r.id,
      symbol: r.symbol,
      notional: r.price * r.qty,
    })),
    toParquet(join(dir, `${out}.parquet`)),
  );
  return output.rows;
}

const fn = cases[name];
if (!fn) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(', ')}`);
const started = performance.now();
const rows = await fn();
const ms = performance.now() - (timedFrom ?? started);
process.stdout.write(`${JSON.stringify({ rows, ms, maxRss: peakRss() })}\n`);
