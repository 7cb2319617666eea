/**
 * The small input files the documentation's examples read, by the names the pages use
 * (docs/README.md lists them): generated once per test run, then copied into each example's
 * own working directory.
 */
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pipeline, fromIterable, toParquet, toArrow, toJsonl } from '../../index.ts';

/** One row of the generated files. */
export interface ExampleTrade {
  id: number;
  ts: string;
  symbol: string;
  price: number;
  qty: number;
}

/** Rows of every generated file: a few trades, some with a quantity of zero or below. */
export function exampleTrades(count = 300): ExampleTrade[] {
  const symbols = ['ACME', 'INIT', 'XYZ'];
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    ts: new Date(Date.UTC(2026, 10, 30, 9, 0, i)).toISOString(),
    symbol: symbols[i % symbols.length]!,
    price: 100 + (i % 50) / 4,
    qty: (i % 7) - 1,
  }));
}

/** A worker module for `parallel('./score.mjs')` (plain JavaScript: a thread needs no loader). */
const SCORE_MODULE = [
  'export default function score(row) {',
  '  return { ...row, score: row.price * row.qty };',
  '}',
  '',
].join('\n');

/**
 * Writes trades.csv, trades.csv.gz (the same, plus one line with too few fields, for the dead-letter
 * example), events.parquet, events.arrow, events.jsonl and score.mjs into `dir`.
 */
export async function writeExampleInputs(dir: string): Promise<void> {
  const rows = exampleTrades();
  const lines = rows.map((r) => `${r.id},${r.ts},${r.symbol},${r.price},${r.qty}`);
  const csv = `id,ts,symbol,price,qty\n${lines.join('\n')}\n`;
  writeFileSync(join(dir, 'trades.csv'), csv);
  writeFileSync(join(dir, 'trades.csv.gz'), gzipSync(`${csv}301,ACME\n`));
  writeFileSync(join(dir, 'score.mjs'), SCORE_MODULE);
  await pipeline(fromIterable(rows), toParquet(join(dir, 'events.parquet')), { governor: false });
  await pipeline(fromIterable(rows), toArrow(join(dir, 'events.arrow')), { governor: false });
  await pipeline(fromIterable(rows), toJsonl(join(dir, 'events.jsonl')), { governor: false });
}

/** Copies the generated inputs of `from` into `to`. */
export function copyExampleInputs(from: string, to: string): void {
  for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
}
