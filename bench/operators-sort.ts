/**
 * Operators, the sort half (issue 14): `ORDER BY price, ts` and a top-100 over the bench tick
 * CSV, CSV in and Parquet out, spillway (governor limit 256 MB) against DuckDB (one thread,
 * memory_limit 256 MB). Each case runs in a fresh process (its own VmHWM), cases interleaved,
 * medians of BENCH_RUNS runs; each case's output is read back and checked (row count, sum of
 * ids, sortedness, and the first 1000 (price, ts) pairs equal DuckDB's).
 * SORT_BENCH_ROWS sets the size (default 1,000,000; the figure is 5,000,000).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BENCH_RUNS, benchCsv, median, type BenchRow } from './common.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'workloads/sort-case.ts');
const ROWS = Number(process.env.SORT_BENCH_ROWS ?? 1_000_000);
const LIMIT_MB = Number(process.env.SORT_BENCH_LIMIT_MB ?? 256);

interface Check {
  rows: number;
  idSum: number;
  sorted: boolean;
  head: string;
}
interface CaseResult {
  ms: number;
  maxRss: number;
  details: Record<string, unknown>;
  check: Check;
}

async function runCase(name: string, csv: string, dir: string): Promise<CaseResult> {
  try {
    return await runCaseOnce(name, csv, dir);
  } catch (error) {
    // a case that fails (e.g. the governor's critical mark) is reported, not fatal to the group
    const message = String((error as { stderr?: string }).stderr ?? error).match(/(MemoryLimitError|Error)[^\n]*/)?.[0] ?? 'failed';
    return { ms: Number.NaN, maxRss: Number.NaN, details: { failed: message }, check: { rows: -1, idSum: -1, sorted: false, head: '' } };
  }
}

async function runCaseOnce(name: string, csv: string, dir: string): Promise<CaseResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', script, name, csv, join(dir, `${name}.parquet`)], {
    maxBuffer: 1 << 20,
    timeout: Number(process.env.SORT_BENCH_TIMEOUT_S ?? 900) * 1000,
    env: { ...process.env, SORT_BENCH_LIMIT: `${LIMIT_MB}MB` },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as CaseResult;
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv(ROWS);
  const dir = mkdtempSync(join(tmpdir(), 'spillway-bench-sort-'));
  try {
    const names = ['spillway-sort', 'duckdb-sort', 'spillway-topk', 'duckdb-topk'] as const;
    const results: Record<string, CaseResult[]> = {};
    for (let r = 0; r < BENCH_RUNS; r++) {
      const order = [...names.slice(r % names.length), ...names.slice(0, r % names.length)];
      for (const name of order) {
        const result = await runCase(name, data.path, dir);
        process.stderr.write(`  ${name}: ${(result.ms / 1000).toFixed(2)} s, peak ${(result.maxRss / 1e6).toFixed(0)} MB ${JSON.stringify(result.details)}\n`);
        (results[name] ??= []).push(result);
      }
    }
    // every case checks its output: the whole multiset, sorted, and the same head as DuckDB
    const expectedIdSum = (data.rows * (data.rows - 1)) / 2;
    const failed = (name: string): string | undefined => results[name]!.map((r) => r.details.failed as string | undefined).find((f) => f !== undefined);
    for (const name of names) {
      if (failed(name)) continue;
      for (const result of results[name]!) {
        const c = result.check;
        const want = name.endsWith('topk') ? 100 : data.rows;
        if (c.rows !== want) throw new Error(`${name}: ${c.rows} rows written, expected ${want}`);
        if (!c.sorted) throw new Error(`${name}: output is not sorted by (price, ts)`);
        if (!name.endsWith('topk') && c.idSum !== expectedIdSum) throw new Error(`${name}: the ids differ from the input's (sum ${c.idSum}, expected ${expectedIdSum})`);
      }
    }
    for (const [ours, theirs] of [['spillway-sort', 'duckdb-sort'], ['spillway-topk', 'duckdb-topk']] as const) {
      if (!failed(ours) && !failed(theirs) && results[ours]![0]!.check.head !== results[theirs]![0]!.check.head) throw new Error(`${ours}: the first rows differ from DuckDB's`);
    }
    const summary = (name: string): { rowsPerSec: number; mbPerSec: number; peakRss: number; spilled: string } => {
      const list = results[name]!;
      const ms = median(list.map((x) => x.ms));
      const d = list[0]!.details;
      const spilled = d.runsSpilled === undefined ? '' : `, ${String(d.runsSpilled)} runs / ${(Number(d.bytesSpilled) / 1e6).toFixed(0)} MB spilled`;
      return { rowsPerSec: data.rows / (ms / 1000), mbPerSec: data.bytes / 1e6 / (ms / 1000), peakRss: median(list.map((x) => x.maxRss)), spilled };
    };
    const row = (label: string, name: string, base: string | undefined, goal: string): BenchRow => {
      const f = failed(name);
      if (f) return { group: 'operators-sort', case: label, note: `FAILED at limit ${LIMIT_MB} MB: ${f}` };
      const s = summary(name);
      const vs = base ? s.rowsPerSec / summary(base).rowsPerSec : 1;
      const overLimit = (s.peakRss / 1e6 - LIMIT_MB).toFixed(0);
      return { group: 'operators-sort', case: label, rowsPerSec: s.rowsPerSec, mbPerSec: s.mbPerSec, ratio: vs, peakRss: s.peakRss, note: base ? `${vs.toFixed(2)}x DuckDB; peak = limit ${Number(overLimit) >= 0 ? '+' : ''}${overLimit} MB${s.spilled}; ${goal}` : 'baseline (ratio vs this)' };
    };
    return [
      row(`DuckDB ORDER BY price, ts, 1 thread, memory_limit ${LIMIT_MB}MB (${data.rows.toLocaleString('en-US')} rows)`, 'duckdb-sort', undefined, ''),
      row(`fromCsv -> sort(['price', 'ts']) -> toParquet, governor ${LIMIT_MB}MB`, 'spillway-sort', 'duckdb-sort', 'goal >= 0.5x, peak <= limit + 64 MB'),
      row('DuckDB ORDER BY price, ts LIMIT 100', 'duckdb-topk', undefined, ''),
      row(`fromCsv -> topK(100, ['price', 'ts']) -> toParquet`, 'spillway-topk', 'duckdb-topk', ''),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
