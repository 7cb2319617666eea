/**
 * Scale (issue 17): CSV -> Parquet and Parquet -> CSV at 1M and 5M rows (and 25M, about 1.8 GB of
 * CSV, with SCALE_BENCH_25M=1; SCALE_BENCH_ROWS=a,b,c picks other sizes). Each case runs in a
 * fresh process so its peak RSS (VmHWM) is its own; rows/s counts the pipeline only. Every output
 * is read back and its row count and checksums (sum of id, sum of qty) compared with the input's.
 * The goal: throughput within 10% and peak RSS flat from the smallest size to the largest.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchCsv, median, type BenchRow } from './common.ts';
import { workloadArgs } from './workload.ts';

const RUNS = Number(process.env.SCALE_BENCH_RUNS ?? 1);

/** The sizes to run. */
export function scaleSizes(env: NodeJS.ProcessEnv = process.env): number[] {
  if (env.SCALE_BENCH_ROWS) return env.SCALE_BENCH_ROWS.split(',').map(Number);
  return env.SCALE_BENCH_25M ? [1e6, 5e6, 25e6] : [1e6, 5e6];
}

interface CaseResult {
  rows: number;
  ms: number;
  maxRss: number;
}

interface Checksum {
  rows: number;
  sumId: number;
  sumQty: number;
}

/** Runs one scale-case child and parses its JSON line. */
export async function scaleCase<T>(args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, workloadArgs('scale-case.ts', args), {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

function same(a: Checksum, b: Checksum, what: string): void {
  if (a.rows !== b.rows || a.sumId !== b.sumId || Math.abs(a.sumQty - b.sumQty) > 1e-6) {
    throw new Error(`${what}: output ${JSON.stringify(b)} differs from input ${JSON.stringify(a)}`);
  }
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-scale-'));
  const out: BenchRow[] = [];
  try {
    const results: { size: number; csvPq: CaseResult; pqCsv: CaseResult }[] = [];
    for (const size of scaleSizes()) {
      const csv = await benchCsv(size);
      const expected = await scaleCase<Checksum>(['checksum', csv.path]);
      const parquet = join(dir, `scale-${size}.parquet`);
      const back = join(dir, `scale-${size}.csv`);
      const csvPq: CaseResult[] = [];
      const pqCsv: CaseResult[] = [];
      for (let r = 0; r < RUNS; r++) {
        csvPq.push(await scaleCase<CaseResult>(['csv-parquet', csv.path, parquet]));
        pqCsv.push(await scaleCase<CaseResult>(['parquet-csv', parquet, back]));
      }
      same(expected, await scaleCase<Checksum>(['checksum', parquet]), `CSV -> Parquet at ${size} rows`);
      same(expected, await scaleCase<Checksum>(['checksum', back]), `Parquet -> CSV at ${size} rows`);
      const pick = (list: CaseResult[]): CaseResult => ({
        rows: list[0]!.rows,
        ms: median(list.map((x) => x.ms)),
        maxRss: median(list.map((x) => x.maxRss)),
      });
      results.push({ size, csvPq: pick(csvPq), pqCsv: pick(pqCsv) });
      for (const f of [parquet, back]) if (existsSync(f)) rmSync(f);
    }
    const first = results[0]!;
    for (const { size, csvPq, pqCsv } of results) {
      const label = `${(size / 1e6).toLocaleString('en-US')}M rows`;
      out.push({
        case: `fromCsv { cast: true } -> toParquet, ${label}`,
        rowsPerSec: size / (csvPq.ms / 1000),
        ratio: size / (csvPq.ms / 1000) / (first.size / (first.csvPq.ms / 1000)),
        peakRss: csvPq.maxRss,
        note: `ratio: rows/s vs the ${first.size / 1e6}M case; peak RSS ${((csvPq.maxRss - first.csvPq.maxRss) / 1e6).toFixed(0)} MB vs it; output checked (rows, sum id, sum qty)`,
      });
      out.push({
        case: `fromParquet -> toCsv, ${label}`,
        rowsPerSec: size / (pqCsv.ms / 1000),
        ratio: size / (pqCsv.ms / 1000) / (first.size / (first.pqCsv.ms / 1000)),
        peakRss: pqCsv.maxRss,
        note: `peak RSS ${((pqCsv.maxRss - first.pqCsv.maxRss) / 1e6).toFixed(0)} MB vs the ${first.size / 1e6}M case; output checked`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
