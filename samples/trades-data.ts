/**
 * Generates trades-like CSV: timestamps, symbols, sides, prices, quantities, venues and a free-text
 * note with commas and quotes, deterministically from a seed. Optionally a few bad lines (wrong
 * field count, broken quotes) to exercise error policies. Used by the demo and the benchmarks.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';

/** Options of {@link writeTradesCsv}. */
export interface TradesCsvOptions {
  rows: number;
  /** One bad line every `badEvery` rows (0 = none). */
  badEvery?: number;
  /** gzip the output (default: by the `.gz` extension). */
  gzip?: boolean;
  seed?: number;
  /**
   * How many distinct symbols (default 12, the well-known tickers; more are made up as `S0012`,
   * `S0013`, ...). The benchmarks use 500, the cardinality the operator issues measure at.
   */
  symbols?: number;
}

const TICKERS = ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'NVDA', 'META', 'TSLA', 'BRK.B', 'JPM', 'XOM', 'UNH', 'V'];
const VENUES = ['XNAS', 'XNYS', 'ARCX', 'BATS', 'IEXG'];
const NOTES = [
  '',
  'block trade',
  'client "VIP", desk 4',
  'iceberg, partial',
  'cross',
  'odd lot',
  'late print\nrevised',
];

/** The first `count` symbols: the tickers, then made-up ones. */
export function tradeSymbols(count = TICKERS.length): string[] {
  return Array.from({ length: count }, (_, i) => TICKERS[i] ?? `S${String(i).padStart(4, '0')}`);
}

/** A small fast PRNG (mulberry32), so data is the same on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quote(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes `rows` trades to `path`; returns the number of bad lines written. */
export async function writeTradesCsv(
  path: string,
  options: TradesCsvOptions,
): Promise<{ rows: number; badLines: number }> {
  const next = random(options.seed ?? 42);
  const file = createWriteStream(path);
  const gzip = options.gzip ?? path.endsWith('.gz');
  const out = gzip ? createGzip({ level: 1 }) : file;
  if (gzip) out.pipe(file);
  let chunk = 'id,ts,symbol,side,price,qty,venue,note\n';
  let badLines = 0;
  let ts = Date.UTC(2026, 0, 5, 14, 30);
  const SYMBOLS = tradeSymbols(options.symbols);
  const prices = SYMBOLS.map(() => 50 + next() * 400);
  for (let i = 0; i < options.rows; i++) {
    ts += Math.floor(next() * 50);
    const s = Math.floor(next() * SYMBOLS.length);
    const price = (prices[s] = (prices[s] ?? 100) * (1 + (next() - 0.5) * 0.002));
    const qty = Math.floor(next() * 1000) - 20; // a few non-positive quantities to filter out
    const note = NOTES[Math.floor(next() * NOTES.length)] ?? '';
    if (options.badEvery && i > 0 && i % options.badEvery === 0) {
      badLines++;
      chunk +=
        i % (options.badEvery * 2) === 0
          ? `${i},${new Date(ts).toISOString()},${SYMBOLS[s]},extra,field,count,${price.toFixed(4)},${qty},X,\n`
          : `${i},${new Date(ts).toISOString()},${SYMBOLS[s]},B,${price.toFixed(4)},${qty},XNAS,"broken "quote" here\n`;
    } else {
      chunk += `${i},${new Date(ts).toISOString()},${SYMBOLS[s]},${next() < 0.5 ? 'B' : 'S'},${price.toFixed(4)},${qty},${VENUES[i % VENUES.length]},${quote(note)}\n`;
    }
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.write(chunk);
  out.end();
  await once(file, 'close');
  return { rows: options.rows, badLines };
}
