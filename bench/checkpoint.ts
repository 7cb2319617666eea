/**
 * Checkpointing overhead: the same CSV -> CSV and CSV -> Parquet pipelines with and without
 * `checkpoint` (committing every second, five times the default rate), measured interleaved in
 * one run. Checks that each checkpointed output is byte-identical to the plain one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, fromCsv, map, toCsv, toParquet } from 'spillway';
import { benchCsv, interleaved, type BenchRow } from './common.ts';

type Trade = Record<string, unknown> & { price: number; qty: number };

async function convert(
  input: string,
  output: string,
  kind: 'csv' | 'parquet',
  checkpoint: string | undefined,
): Promise<number> {
  const sink = kind === 'csv' ? toCsv(output) : toParquet(output);
  const { stats } = await pipeline(
    fromCsv(input, { cast: true }),
    map((row: Trade) => ({ ...row, notional: row.price * row.qty })),
    sink,
    {
      governor: false,
      ...(checkpoint ? { checkpoint: { dir: checkpoint, intervalMs: 1000 } } : {}),
    },
  );
  return stats.rowsOut;
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv();
  const dir = mkdtempSync(join(tmpdir(), 'spillway-bench-ckpt-'));
  try {
    const out = (name: string): string => join(dir, name);
    const ms = await interleaved({
      csvOff: () => convert(data.path, out('off.csv'), 'csv', undefined),
      csvOn: () => convert(data.path, out('on.csv'), 'csv', out('ckpt-csv')),
      parquetOff: () => convert(data.path, out('off.parquet'), 'parquet', undefined),
      parquetOn: () => convert(data.path, out('on.parquet'), 'parquet', out('ckpt-parquet')),
    });
    for (const ext of ['csv', 'parquet']) {
      if (!readFileSync(out(`off.${ext}`)).equals(readFileSync(out(`on.${ext}`))))
        throw new Error(`checkpointed ${ext} output differs from the plain one`);
    }
    const rate = (name: string): number => data.rows / ((ms[name] as number) / 1000);
    const row = (label: string, name: string, base: string, note: string): BenchRow => ({
      group: 'checkpoint',
      case: label,
      rowsPerSec: rate(name),
      ratio: rate(name) / rate(base),
      note,
    });
    return [
      row('fromCsv -> map -> toCsv', 'csvOff', 'csvOff', 'baseline'),
      row('same, checkpoint every 1 s', 'csvOn', 'csvOff', 'overhead = 1 - ratio; goal < 3%'),
      row('fromCsv -> map -> toParquet', 'parquetOff', 'parquetOff', 'baseline'),
      row('same, checkpoint every 1 s', 'parquetOn', 'parquetOff', 'overhead = 1 - ratio; goal < 3%'),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
