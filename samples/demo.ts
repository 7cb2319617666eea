/**
 * The demo `npm run demo` runs: generates about a million trades (with quoted fields, embedded
 * newlines and some bad lines) into a temporary folder, then runs a real ETL over them:
 * gzip CSV in, bad rows dead-lettered, non-positive quantities filtered out, a notional column
 * added, CSV out. Prints what it did.
 *
 *   npm run demo                # 1,000,000 rows
 *   npm run demo -- 200000      # another size
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, fromCsv, filter, map, toCsv } from 'spillway';
import { formatBytes } from 'spillway/extend';
import { writeTradesCsv } from './trades-data.ts';

interface Trade {
  id: number;
  ts: string;
  symbol: string;
  side: 'B' | 'S';
  price: number;
  qty: number;
  venue: string;
  note: string | null;
}

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'spillway-demo-'));
const input = join(dir, 'trades.csv.gz');
const output = join(dir, 'trades-clean.csv');
const deadLetter = join(dir, 'bad-rows.jsonl');

console.log(`Generating ${rows.toLocaleString()} trades into ${input} ...`);
// one bad line per 50,000 rows, and at least a few on a small run, so the dead-letter file shows something
const generated = await writeTradesCsv(input, { rows, badEvery: Math.max(2, Math.min(50_000, Math.floor(rows / 10))) });
console.log(`  ${formatBytes(statSync(input).size)} gzip, ${generated.badLines} deliberately bad lines\n`);

console.log('Running: fromCsv(gzip, cast, dead-letter) -> filter(qty > 0) -> map(+notional) -> toCsv');
const { output: written, stats } = await pipeline(
  fromCsv(input, { cast: true, onError: { deadLetter } }),
  filter((trade: Trade) => trade.qty > 0),
  map((trade: Trade) => ({ ...trade, notional: Math.round(trade.price * trade.qty * 100) / 100 })),
  toCsv(output),
);

const seconds = stats.durationMs / 1000;
console.log(
  `  read      ${stats.rowsIn.toLocaleString()} rows (${formatBytes(stats.bytesRead)} compressed) in ${stats.batchesIn} batches`,
);
console.log(`  bad rows  ${stats.errors.deadLettered} dead-lettered to ${deadLetter}`);
console.log(`  wrote     ${written.rows.toLocaleString()} rows, ${formatBytes(written.bytes)} to ${output}`);
console.log(`  took      ${seconds.toFixed(2)} s, ${Math.round(stats.rowsIn / seconds).toLocaleString()} rows/s`);
console.log('  per stage:');
for (const stage of stats.stages) {
  console.log(
    `    ${stage.name.padEnd(8)} ${String(stage.rowsIn).padStart(9)} in ${String(stage.rowsOut).padStart(9)} out ${stage.timeMs.toFixed(0).padStart(6)} ms`,
  );
}
// the dead-letter file exists only when a row went to it
const firstBad = existsSync(deadLetter) ? readFileSync(deadLetter, 'utf8').split('\n')[0] : undefined;
console.log(firstBad ? `\nFirst dead-lettered row: ${firstBad}` : '\nNo row was dead-lettered.');
console.log(`\nFiles are in ${dir} (remove it when done).`);
