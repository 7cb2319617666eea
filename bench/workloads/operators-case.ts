/**
 * One operator bench case in a fresh process, so its peak RSS (VmHWM) is its own: CSV in,
 * the operator, Parquet out, by spillway (governor limit LIMIT) or DuckDB (one thread,
 * memory_limit LIMIT). Prints one JSON line `{ ms, maxRss, details }`.
 * Usage: operators-case.ts <engine: spillway|duckdb> <case> <csv> <out.parquet> <limit e.g. 256MB>
 * (for DuckDB, `default` leaves memory_limit at its default, 80% of the machine's memory).
 */
import {
  pipeline,
  fromCsv,
  toParquet,
  sort,
  topK,
  groupBy,
  distinct,
  join,
  agg,
  select,
  filter,
  MemoryGovernor,
} from 'spillway';
import { peakRss } from './peak-rss.ts';

const [engine, name, csv, out, limit] = process.argv.slice(2) as [string, string, string, string, string];

/**
 * The 500-row symbol table: every symbol of the bench data, named as samples/trades-data.ts's
 * `tradeSymbols(500)` names them (the tickers, then S0012...; this file compiles on its own).
 */
export const SYMBOLS = ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'NVDA', 'META', 'TSLA', 'BRK.B', 'JPM', 'XOM', 'UNH', 'V'];
function symbolTable(): { symbol: string; sector: string; lot: number }[] {
  return Array.from({ length: 500 }, (_, i) => ({
    symbol: SYMBOLS[i] ?? `S${String(i).padStart(4, '0')}`,
    sector: `sector ${i % 7}`,
    lot: i < SYMBOLS.length ? 100 : 1 + (i % 10) * 10,
  }));
}

const SQL: Record<string, string> = {
  sort: `SELECT * FROM read_csv('${csv}') ORDER BY price, ts`,
  topk: `SELECT * FROM read_csv('${csv}') ORDER BY price, ts LIMIT 100`,
  'groupby-low': `SELECT symbol, count(*) AS n, sum(qty) AS total, avg(price) AS avg_price, min(price) AS lo, max(price) AS hi FROM read_csv('${csv}') GROUP BY symbol`,
  'groupby-high': `SELECT symbol, ts, count(*) AS n, sum(qty) AS total FROM read_csv('${csv}') GROUP BY symbol, ts`,
  distinct: `SELECT DISTINCT symbol, venue, qty, side FROM read_csv('${csv}')`,
  'join-small': `SELECT t.*, s.sector, s.lot FROM read_csv('${csv}') t JOIN symbols s ON t.symbol = s.symbol`,
  'join-large': `SELECT t.*, h.p2 FROM read_csv('${csv}') t JOIN (SELECT id, price AS p2 FROM read_csv('${csv}') WHERE id % 2 = 0) h ON t.id = h.id`,
};

async function duckdb(): Promise<Record<string, unknown>> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', {
    threads: '1',
    ...(limit === 'default' ? {} : { memory_limit: limit }),
    preserve_insertion_order: 'false',
  });
  const connection = await db.connect();
  if (name === 'join-small') {
    await connection.run('CREATE TABLE symbols (symbol VARCHAR, sector VARCHAR, lot INTEGER)');
    const appender = await connection.createAppender('symbols');
    for (const row of symbolTable()) {
      appender.appendVarchar(row.symbol);
      appender.appendVarchar(row.sector);
      appender.appendInteger(row.lot);
      appender.endRow();
    }
    appender.closeSync();
  }
  started = performance.now();
  startedCpu = process.cpuUsage();
  await connection.run(`COPY (${SQL[name]}) TO '${out}' (FORMAT parquet, COMPRESSION snappy)`);
  return {};
}

let started = performance.now();
// CPU time too: on a shared machine wall time mostly measures the other sessions
let startedCpu = process.cpuUsage();

async function spillway(): Promise<Record<string, unknown>> {
  // The DuckDB case loads its engine and opens its database before its clock starts; this case
  // loads apache-arrow (the library spillway's batches are made of) first too, and its clock
  // starts after. Until 2026-12-05 a static import of apache-arrow at the top of this file did the
  // same without saying so; spillway's own code, loaded lazily on first use, stays on the clock.
  await import('apache-arrow');
  started = performance.now();
  startedCpu = process.cpuUsage();
  const governor = new MemoryGovernor({ limit, leak: false });
  // as a user writes it: the reader produces what the next stage reads (format negotiation: Arrow
  // for sort, topK, groupBy and the projection before distinct; rows for a join)
  const source = fromCsv(csv, { cast: true });
  // default options, as a user writes it (the bench runs the compiled package: no tsx in the encoder thread)
  const sink = toParquet(out);
  let operator;
  switch (name) {
    case 'sort':
      operator = sort(['price', 'ts']);
      break;
    case 'topk':
      operator = topK(100, ['price', 'ts']);
      break;
    case 'groupby-low':
      operator = groupBy('symbol', {
        n: agg.count(),
        total: agg.sum('qty'),
        avg_price: agg.mean('price'),
        lo: agg.min('price'),
        hi: agg.max('price'),
      });
      break;
    case 'groupby-high':
      operator = groupBy(['symbol', 'ts'], { n: agg.count(), total: agg.sum('qty') });
      break;
    case 'distinct':
      operator = distinct(['symbol', 'venue', 'qty', 'side']);
      break;
    case 'join-small':
      operator = join(symbolTable(), { on: 'symbol' });
      break;
    case 'join-large':
      // the SQL's subquery `SELECT id, price AS p2 FROM read_csv(...) WHERE id % 2 = 0` as a chain:
      // select tells the reader the two columns it needs (projection pushdown), as DuckDB's does
      operator = join(
        [
          fromCsv(csv, { cast: true }),
          select({ id: 'id', p2: 'price' }),
          filter((row: { id: number }) => row.id % 2 === 0),
        ],
        { on: 'id' },
      );
      break;
    default:
      throw new Error(`unknown case ${name}`);
  }
  // distinct keeps whole rows: select the columns first, as the SQL does (the reader then fills only them)
  const stages =
    name === 'distinct'
      ? [source, select(['symbol', 'venue', 'qty', 'side']), operator, sink]
      : [source, operator, sink];
  const result = await (
    pipeline as (
      ...args: unknown[]
    ) => Promise<{ stats: { stages: { name: string; details: Record<string, unknown> }[] } }>
  )(...stages, { governor });
  const op = result.stats.stages.find((s) => ['sort', 'topK', 'groupBy', 'distinct', 'join'].includes(s.name));
  return op?.details ?? {};
}

const details = engine === 'duckdb' ? await duckdb() : await spillway();
const cpu = process.cpuUsage(startedCpu);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(`${JSON.stringify({ ms: performance.now() - started, cpuMs, maxRss: peakRss(), details })}\n`);
