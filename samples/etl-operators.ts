/**
 * The worked ETL example of docs/operators.md: trades joined to a symbol table, totalled per day
 * and symbol, sorted, written as Parquet; then the operators' spill counters. Without an input
 * file it generates trades into a temporary folder. Without `--out` the totals go there too:
 * their first rows are printed and the folder is removed at exit. A small `--budget` makes
 * every operator spill (the result is the same).
 *
 *   node --conditions=spillway-source --import tsx samples/etl-operators.ts                  # 200,000 generated rows
 *   node --conditions=spillway-source --import tsx samples/etl-operators.ts --rows 1000000 --budget 4MB
 *   node --conditions=spillway-source --import tsx samples/etl-operators.ts trades.csv --out totals.parquet
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  pipeline,
  fromCsv,
  fromParquet,
  map,
  join,
  groupBy,
  agg,
  sort,
  limit,
  collect,
  toParquet,
  type Row,
} from 'spillway';
import { writeTradesCsv } from './trades-data.ts';

/** The symbol table: one row per listed symbol (BRK.B and V are missing on purpose: inner join drops them). */
export const SYMBOLS = [
  { symbol: 'AAPL', name: 'Apple', sector: 'Tech' },
  { symbol: 'MSFT', name: 'Microsoft', sector: 'Tech' },
  { symbol: 'GOOG', name: 'Alphabet', sector: 'Tech' },
  { symbol: 'AMZN', name: 'Amazon', sector: 'Retail' },
  { symbol: 'NVDA', name: 'Nvidia', sector: 'Tech' },
  { symbol: 'META', name: 'Meta', sector: 'Tech' },
  { symbol: 'TSLA', name: 'Tesla', sector: 'Auto' },
  { symbol: 'JPM', name: 'JPMorgan', sector: 'Banks' },
  { symbol: 'XOM', name: 'Exxon', sector: 'Energy' },
  { symbol: 'UNH', name: 'UnitedHealth', sector: 'Health' },
];

/** The day (UTC, `YYYY-MM-DD`) of a CSV timestamp, typed or not. */
function dayOf(ts: unknown): string {
  return ts instanceof Date ? ts.toISOString().slice(0, 10) : String(ts).slice(0, 10);
}

/** Runs the job: `csv` in, totals per day and symbol to `out`; returns the pipeline's stats. */
export async function totalsPerDay(csv: string, out: string, budget?: string) {
  const opts = budget === undefined ? {} : { budget };
  return pipeline(
    fromCsv(csv, { cast: true }),
    map((row: Row) => {
      const t = row as { ts: unknown; symbol: string; qty: number; price: number };
      return { day: dayOf(t.ts), symbol: t.symbol, qty: t.qty, price: t.price };
    }),
    join(SYMBOLS, { on: 'symbol', how: 'inner', ...opts }),
    groupBy(
      ['day', 'symbol', 'name'],
      { trades: agg.count(), volume: agg.sum('qty'), avgPrice: agg.mean('price') },
      opts,
    ),
    sort(['day', { column: 'volume', order: 'desc' }, 'symbol'], opts),
    toParquet(out),
  );
}

/** The first rows of the totals, one line each: what the job made, shown before a temporary output goes. */
async function firstRows(parquet: string, count: number): Promise<string[]> {
  const { output } = await pipeline(fromParquet(parquet), limit(count), collect());
  return output.map((r) => {
    const t = r as { day: string; symbol: string; trades: number | bigint; volume: number | bigint };
    return `  ${t.day} ${t.symbol.padEnd(5)} ${String(t.trades).padStart(6)} trades, volume ${t.volume}`;
  });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { rows: { type: 'string', default: '200000' }, out: { type: 'string' }, budget: { type: 'string' } },
  });
  // generated trades and, without --out, the totals: removed at the end whatever happens
  const scratch = mkdtempSync(joinPath(tmpdir(), 'spillway-etl-ops-'));
  try {
    let csv = positionals[0];
    if (csv === undefined) {
      csv = joinPath(scratch, 'trades.csv');
      await writeTradesCsv(csv, { rows: Number(values.rows) });
    }
    const out = values.out ?? joinPath(scratch, 'totals.parquet');
    const { stats } = await totalsPerDay(csv, out, values.budget);
    const where = values.out === undefined ? 'a temporary file, removed at exit (--out FILE keeps it)' : out;
    console.log(
      `${stats.rowsIn.toLocaleString('en-US')} trades -> ${stats.rowsOut.toLocaleString('en-US')} rows (day, symbol) in ${where}`,
    );
    console.log((await firstRows(out, 5)).join('\n'));
    for (const stage of stats.stages.filter((s) => ['join', 'groupBy', 'sort'].includes(s.name))) {
      const d = stage.details;
      console.log(
        `${stage.name}: ${stage.rowsIn} rows in, ${stage.rowsOut} out, ${d.bytesSpilled ?? 0} bytes spilled (${d.partitionsSpilled ?? d.runsSpilled ?? 0} ${stage.name === 'sort' ? 'runs' : 'partitions'})`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) await main();
