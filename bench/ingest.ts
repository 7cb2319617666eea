/**
 * Fast ingest (issue 9): CSV in and Parquet out against raw csv-parse and DuckDB, each case in a
 * fresh process so its peak RSS is its own; cases interleaved, medians of BENCH_RUNS runs.
 * DuckDB (a devDependency) is used only here. BENCH_INGEST=readme runs only the README pipeline
 * cases (issue 17) beside DuckDB with 1 and 2 threads.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_RUNS, DATA_DIR, benchCsv, median, type BenchRow } from './common.ts';
import { workloadArgs } from './workload.ts';
import { drain, fromCsv, mapBatch, pipeline } from 'spillway';

/** Row count and the sums of `id` and `qty` of a CSV file: what two engines' outputs must share. */
async function checksum(path: string): Promise<string> {
  let rows = 0;
  let ids = 0;
  let qty = 0;
  await pipeline(
    fromCsv(path, { cast: true, output: 'rows' }),
    mapBatch((batch: { id: number; qty: number }[]) => {
      for (const row of batch) {
        rows++;
        ids += row.id;
        qty += row.qty;
      }
      return batch;
    }),
    drain(),
  );
  return `${rows} rows, sum(id) ${ids}, sum(qty) ${qty}`;
}

/** Throws unless the two CSV files hold the same rows by {@link checksum}. */
async function sameRows(ours: string, duck: string): Promise<void> {
  const [a, b] = [await checksum(ours), await checksum(duck)];
  if (a !== b) throw new Error(`the README pipeline wrote ${a}, DuckDB ${b}`);
}

interface CaseResult {
  rows: number;
  ms: number;
  maxRss: number;
}

async function runCase(name: string, csv: string, dir: string): Promise<CaseResult> {
  const { stdout } = await promisify(execFile)(process.execPath, workloadArgs('ingest-case.ts', [name, csv, dir]), {
    maxBuffer: 1 << 20,
    env: name === 'readme-threads' ? { ...process.env, SPILLWAY_CSV_THREADS: '1' } : process.env,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as CaseResult;
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv();
  const dir = mkdtempSync(join(tmpdir(), 'spillway-ingest-'));
  try {
    // the Parquet file fromParquet reads: DuckDB's conversion of the bench CSV, made once and cached
    const cached = join(DATA_DIR, `${basename(data.path, '.csv')}.duckdb.parquet`);
    if (!existsSync(cached)) {
      await runCase('duckdb1', data.path, dir);
      renameSync(join(dir, 'duckdb1.parquet'), cached);
    }
    // BENCH_INGEST=readme runs only the README cases beside DuckDB (issue 17's goal)
    const only = process.env.BENCH_INGEST === 'readme';
    const all = [
      'raw',
      'rows',
      'arrow',
      'parquet',
      'readme',
      'readme-threads',
      'readme-filter-map',
      'readme-filter-map-select',
      'readme-spread',
      'readme-csv',
      'filter-parquet',
      'parquet-read',
      'parquet-read-arrow',
      'duckdb1',
      'duckdb1-csv',
      'duckdb2',
    ] as const;
    const names = only
      ? all.filter((n) => n.startsWith('readme') || n.startsWith('duckdb'))
      : all.filter((n) => n !== 'readme-threads');
    const results: Record<string, CaseResult[]> = {};
    for (let r = 0; r < BENCH_RUNS; r++) {
      const order = [...names.slice(r % names.length), ...names.slice(0, r % names.length)];
      for (const name of order) {
        const result = await runCase(name, name.startsWith('parquet-read') ? cached : data.path, dir);
        (results[name] ??= []).push(result);
      }
    }
    // naming the columns must not change what is written
    const plain = results['readme-filter-map']?.[0]?.rows;
    const selected = results['readme-filter-map-select']?.[0]?.rows;
    if (plain !== selected) throw new Error(`filter+map wrote ${plain} rows, with select first ${selected}`);
    const spread = results['readme-spread']?.[0]?.rows;
    if (plain !== spread) throw new Error(`filter+map wrote ${plain} rows, filter + the README's map ${spread}`);
    // the README's own pipeline and DuckDB's query write the same rows (count, and sums of two columns)
    await sameRows(join(dir, 'readme-csv.csv'), join(dir, 'duckdb1-csv.csv'));
    const summary = (name: string): { rowsPerSec: number; mbPerSec: number; peakRss: number; rows: number } => {
      const list = results[name]!;
      const ms = median(list.map((x) => x.ms));
      return {
        rows: list[0]!.rows,
        rowsPerSec: data.rows / (ms / 1000),
        mbPerSec: data.bytes / 1e6 / (ms / 1000),
        peakRss: median(list.map((x) => x.maxRss)),
      };
    };
    const raw = only ? undefined : summary('raw');
    const duck1 = summary('duckdb1');
    const row = (label: string, name: string, note: string): BenchRow => {
      const s = summary(name);
      return {
        group: 'ingest',
        case: label,
        rowsPerSec: s.rowsPerSec,
        mbPerSec: s.mbPerSec,
        ratio: raw === undefined ? undefined : s.rowsPerSec / raw.rowsPerSec,
        peakRss: s.peakRss,
        note,
      };
    };
    const duck2 = summary('duckdb2');
    const vsDuck = (name: string): string => {
      const s = summary(name).rowsPerSec;
      return `${(s / duck1.rowsPerSec).toFixed(2)}x DuckDB 1 thread, ${(s / duck2.rowsPerSec).toFixed(2)}x 2 threads`;
    };
    const readme = [
      row(
        'README: fromCsv { cast: true } -> toParquet, no options (negotiated Arrow; parser threads when cores > 2)',
        'readme',
        `${vsDuck('readme')}; goal >= 1.0x / 0.6x`,
      ),
      row(
        'same with filter(qty > 100) and a map reading fields',
        'readme-filter-map',
        `${vsDuck('readme-filter-map')}; goal >= 0.8x 1 thread; rows/s counts input rows`,
      ),
      row(
        "same filter and the README's map, `{ ...row, notional: row.price * row.qty }` (every column out)",
        'readme-spread',
        `${vsDuck('readme-spread')}; rows/s counts input rows`,
      ),
      row(
        "the README's own pipeline: fromCsv (dead letters) -> filter(qty > 0) -> `{ ...row, notional }` -> toCsv",
        'readme-csv',
        `${(summary('readme-csv').rowsPerSec / summary('duckdb1-csv').rowsPerSec).toFixed(2)}x DuckDB 1 thread, the same query COPY ... TO csv`,
      ),
      row(
        "same with select(['id', 'symbol', 'price', 'qty']) first (the reader fills 4 of 8 columns)",
        'readme-filter-map-select',
        `${vsDuck('readme-filter-map-select')}; not the goal's pipeline: what naming the columns gives`,
      ),
    ];
    if (only)
      return [
        ...readme,
        row('same as README, one parser thread forced', 'readme-threads', vsDuck('readme-threads')),
        row('DuckDB COPY csv -> parquet (snappy), 1 thread', 'duckdb1', '@duckdb/node-api, devDependency'),
        row('DuckDB COPY csv -> parquet (snappy), 2 threads', 'duckdb2', ''),
        row("DuckDB, the README's query to CSV, 1 thread", 'duckdb1-csv', ''),
      ];
    const pq = summary('parquet');
    return [
      ...readme,
      row('raw csv-parse (columns: true), objects', 'raw', 'baseline; ratio column is vs this'),
      row('fromCsv { cast: true } -> map -> drain [rows]', 'rows', 'goal >= 4x raw'),
      row("fromCsv { cast: true, output: 'arrow' } -> drain [Arrow]", 'arrow', 'goal >= 1M rows/s'),
      row(
        "fromCsv { cast: true, output: 'arrow' } -> toParquet (snappy)",
        'parquet',
        `${(pq.rowsPerSec / duck1.rowsPerSec).toFixed(2)}x DuckDB 1 thread; goal >= 0.5x`,
      ),
      row(
        'same with filter(qty > 100) between (row views)',
        'filter-parquet',
        `${summary('filter-parquet').rows.toLocaleString('en-US')} rows kept; rows/s counts input rows`,
      ),
      row(
        'fromParquet (DuckDB-written file) -> drain [rows]',
        'parquet-read',
        'goal >= 1M rows/s, bounded memory; MB/s of the CSV equivalent',
      ),
      row("fromParquet { output: 'arrow' } (same file) -> drain [Arrow]", 'parquet-read-arrow', ''),
      row('DuckDB COPY csv -> parquet (snappy), 1 thread', 'duckdb1', '@duckdb/node-api, devDependency'),
      row('DuckDB COPY csv -> parquet (snappy), 2 threads', 'duckdb2', ''),
      row("DuckDB, the README's query to CSV, 1 thread", 'duckdb1-csv', ''),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
