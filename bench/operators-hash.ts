/**
 * Hash operators (issue 14): groupBy (low and high cardinality), distinct and joins (to a
 * 500-row table, and large x large), CSV in -> Parquet out, spillway with the governor's limit at
 * 256 MB against DuckDB with one thread and memory_limit 256 MB. Each case runs in a fresh process
 * (peak RSS = its VmHWM); cases interleaved, medians of BENCH_RUNS runs. Every output is checked:
 * DuckDB reads both engines' Parquet files and their row counts and checksums must agree.
 * OPS_HASH_ROWS sets the input size (default 1,000,000; the issue's figures are at 5,000,000).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BENCH_RUNS, benchCsv, median, type BenchRow } from './common.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'workloads/operators-hash-case.ts');
const ROWS = Number(process.env.OPS_HASH_ROWS ?? 1_000_000);
const LIMIT = process.env.OPS_HASH_LIMIT ?? '256MB';

interface CaseResult {
  ms: number;
  maxRss: number;
  details: Record<string, unknown>;
}

/** What each case's output is checked by: count and checksums over the Parquet file. */
const CHECKS: Record<string, string> = {
  'groupby-low': 'count(*), sum(n), sum(total), round(sum(avg_price), 3), round(sum(lo + hi), 3)',
  'groupby-high': 'count(*), sum(n), sum(total)',
  distinct: 'count(*), sum(qty), count(DISTINCT symbol)',
  'join-small': 'count(*), sum(qty), sum(lot)',
  'join-large': 'count(*), sum(qty), round(sum(p2), 2)',
};
const LABELS: Record<string, string> = {
  'groupby-low': 'GROUP BY symbol (count, sum, avg, min, max)',
  'groupby-high': 'GROUP BY symbol, ts (high cardinality)',
  distinct: 'DISTINCT symbol, venue, qty, side',
  'join-small': 'JOIN a 500-row symbol table',
  'join-large': 'JOIN N x N/2 rows on id',
};
const GOALS: Record<string, number> = { 'groupby-low': 0.5, 'groupby-high': 1 / 3, distinct: 1 / 3, 'join-small': 1 / 3, 'join-large': 1 / 3 };

async function runCase(engine: string, name: string, csv: string, out: string): Promise<CaseResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', script, engine, name, csv, out, LIMIT], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as CaseResult;
}

async function checksum(file: string, name: string): Promise<string> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT ${CHECKS[name]} FROM read_parquet('${file}')`);
    return reader.getRows()[0]!.map(String).join(' ');
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv(ROWS);
  const dir = mkdtempSync(join(tmpdir(), 'spillway-ops-hash-'));
  const only = process.env.OPS_HASH_CASES?.split(',');
  const names = Object.keys(CHECKS).filter((n) => !only || only.includes(n));
  try {
    const results: Record<string, CaseResult[]> = {};
    const sums: Record<string, string> = {};
    const failed: Record<string, string> = {};
    const runs = names.flatMap((name) => ['spillway', 'duckdb'].map((engine) => ({ name, engine })));
    for (let r = 0; r < BENCH_RUNS; r++) {
      const order = [...runs.slice((r * 2) % runs.length), ...runs.slice(0, (r * 2) % runs.length)];
      for (const { name, engine } of order) {
        const out = join(dir, `${engine}-${name}.parquet`);
        let result: CaseResult;
        try {
          result = await runCase(engine, name, data.path, out);
        } catch (error) {
          // one failed case (e.g. the governor's memory limit) must not hide the others
          const message = /(ERR_SPILLWAY_\w+|MemoryLimitError[^\n]*)/.exec(String((error as { stderr?: string }).stderr ?? error))?.[1] ?? String(error).split('\n')[0]!;
          failed[`${engine}:${name}`] = message;
          continue;
        }
        (results[`${engine}:${name}`] ??= []).push(result);
        const sum = await checksum(out, name);
        const other = sums[`${engine === 'spillway' ? 'duckdb' : 'spillway'}:${name}`];
        if (other !== undefined && other !== sum) throw new Error(`${name}: spillway and DuckDB outputs differ: ${engine} ${sum} vs ${other}`);
        sums[`${engine}:${name}`] = sum;
        rmSync(out, { force: true });
      }
    }
    const rows: BenchRow[] = [];
    for (const name of names) {
      const s = results[`spillway:${name}`];
      const d = results[`duckdb:${name}`];
      if (!s || !d) {
        for (const engine of ['spillway', 'duckdb']) {
          const why = failed[`${engine}:${name}`];
          if (why) rows.push({ group: 'operators-hash', case: `${engine}: ${LABELS[name]}`, note: `FAILED: ${why}` });
        }
        if (!s || !d) continue;
      }
      const sMs = median(s.map((x) => x.ms));
      const dMs = median(d.map((x) => x.ms));
      const ratio = dMs / sMs;
      const details = s.at(-1)!.details;
      const spilled = `spilled ${details.partitionsSpilled ?? 0} partitions, ${Math.round(Number(details.bytesSpilled ?? 0) / 1e6)} MB`;
      rows.push({ group: 'operators-hash', case: `spillway: ${LABELS[name]}`, rowsPerSec: ROWS / (sMs / 1000), mbPerSec: data.bytes / 1e6 / (sMs / 1000), ratio, peakRss: median(s.map((x) => x.maxRss)), note: `${ratio.toFixed(2)}x DuckDB (goal >= ${GOALS[name]!.toFixed(2)}); ${spilled}; check ${sums[`spillway:${name}`]}` });
      rows.push({ group: 'operators-hash', case: `DuckDB 1 thread: ${LABELS[name]}`, rowsPerSec: ROWS / (dMs / 1000), mbPerSec: data.bytes / 1e6 / (dMs / 1000), peakRss: median(d.map((x) => x.maxRss)), note: `memory_limit ${LIMIT}` });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
