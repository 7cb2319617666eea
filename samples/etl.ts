/**
 * An ETL job with live progress: gzip CSV in, cleaned and typed rows out as Parquet, bad rows
 * dead-lettered, then the run's report. Without an input file it first generates trades (with
 * some bad lines) into a temporary folder.
 *
 *   node --conditions=spillway-source --import tsx samples/etl.ts                   # 1,000,000 generated rows
 *   node --conditions=spillway-source --import tsx samples/etl.ts --rows 200000
 *   node --conditions=spillway-source --import tsx samples/etl.ts trades.csv.gz --out clean.parquet
 *   node --conditions=spillway-source --import tsx lib/cli/main.ts run samples/etl.ts -- --rows 200000
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pipeline, fromCsv, filter, map, toParquet, formatReport } from 'spillway';
import { formatBytes } from 'spillway/extend';
import { writeTradesCsv } from './trades-data.ts';

interface Trade {
  id: number;
  ts: string;
  symbol: string;
  side: string;
  price: number;
  qty: number;
  venue: string;
  note: string | null;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rows: { type: 'string', default: '1000000' }, out: { type: 'string' } },
});

const dir = mkdtempSync(join(tmpdir(), 'spillway-etl-'));
let input = positionals[0];
if (input === undefined) {
  input = join(dir, 'trades.csv.gz');
  const rows = Number(values.rows);
  console.log(`Generating ${rows.toLocaleString('en-US')} trades into ${input} ...`);
  const { badLines } = await writeTradesCsv(input, { rows, badEvery: 50_000 });
  console.log(`  ${formatBytes(statSync(input).size)} gzip, ${badLines} deliberately bad lines`);
}
const output = values.out ?? join(dir, 'trades-clean.parquet');
const deadLetter = join(dir, 'bad-rows.jsonl');

const { output: written, stats } = await pipeline(
  fromCsv(input, { cast: { id: 'integer', price: 'number', qty: 'integer' }, onError: { deadLetter } }),
  filter((trade: Trade) => trade.qty > 0 && trade.side !== ''),
  map((trade: Trade) => ({
    id: trade.id,
    ts: new Date(trade.ts),
    symbol: trade.symbol.toUpperCase(),
    buy: trade.side === 'B',
    price: Math.round(trade.price * 1e4) / 1e4,
    qty: trade.qty,
    notional: Math.round(trade.price * trade.qty * 100) / 100,
    venue: trade.venue,
    note: trade.note === null || trade.note === '' ? null : trade.note.replace(/\s+/g, ' '),
  })),
  toParquet(output, {
    compression: 'zstd',
    schema: {
      id: 'int64',
      ts: 'timestamp',
      symbol: 'string',
      buy: 'boolean',
      price: 'double',
      qty: 'int32',
      notional: 'double',
      venue: 'string',
      note: { type: 'string', nullable: true },
    },
  }),
  { progress: true },
);

console.log(`\nwrote ${written.rows.toLocaleString('en-US')} rows, ${formatBytes(written.bytes)} to ${output}`);
if (stats.errors.deadLettered > 0) console.log(`dead-lettered ${stats.errors.deadLettered} bad rows to ${deadLetter}`);
console.log(`\n${formatReport(stats)}`);
console.log(`\nFiles are in ${dir} (remove it when done).`);
