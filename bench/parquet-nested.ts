/**
 * Nested Parquet reads (issue 18): a list<list<int>> column of NESTED_ROWS rows (default
 * 200,000; 600,000 for the full size) in one row group of 256 KB pages, written by
 * hyparquet-writer, read by spillway (rows and Arrow output), hyparquet's parquetReadObjects
 * (the baseline: spillway must be at least as fast) and DuckDB (the reference), each in a
 * process of its own for its peak RSS. Every case checks the row count and the sum of all values.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteFile } from 'hyparquet-writer';
import { DATA_DIR, BENCH_RUNS, median, type BenchRow } from './common.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ROWS = Number(process.env.NESTED_ROWS ?? 200_000);

function row(i: number): number[][] | null {
  if (i % 11 === 0) return null;
  return Array.from({ length: i % 7 }, (_, j) => [j, i, j + i]);
}

function expectedSum(): number {
  let sum = 0;
  for (let i = 0; i < ROWS; i++) for (const inner of row(i) ?? []) for (const v of inner) sum += v;
  return sum;
}

function nestedFile(): string {
  mkdirSync(DATA_DIR, { recursive: true });
  const path = join(DATA_DIR, `nested-${ROWS}.parquet`);
  if (!existsSync(path)) {
    parquetWriteFile({
      filename: `${path}.partial`,
      rowGroupSize: ROWS,
      pageSize: 256 * 1024,
      schema: [
        { name: 'root', num_children: 1 },
        { name: 'll', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: 'OPTIONAL', type: 'INT32' },
      ],
      columnData: [{ name: 'll', data: Array.from({ length: ROWS }, (_, i) => row(i)) }],
    });
    renameSync(`${path}.partial`, path);
  }
  return path;
}

interface Measured { rows: number; sum: number; ms: number; peakRss: number }

function measure(mode: string, path: string): Measured {
  const out = execFileSync(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', join(here, 'workloads/nested-read.ts'), mode, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Measured;
}

export async function run(): Promise<BenchRow[]> {
  const path = nestedFile();
  const sum = expectedSum();
  const modes = ['hyparquet', 'spillway-rows', 'spillway-arrow', 'duckdb'] as const;
  const runs = new Map<string, Measured[]>(modes.map((m) => [m, []]));
  for (let r = 0; r < BENCH_RUNS; r++) {
    for (const mode of modes) {
      const m = measure(mode, path);
      if (m.rows !== ROWS || m.sum !== sum) throw new Error(`${mode} read ${m.rows} rows summing to ${m.sum}; expected ${ROWS} rows summing to ${sum}`);
      runs.get(mode)!.push(m);
    }
  }
  const base = median(runs.get('hyparquet')!.map((m) => m.ms));
  const mb = statSync(path).size / 1e6;
  return modes.map((mode) => {
    const ms = median(runs.get(mode)!.map((m) => m.ms));
    return {
      group: 'parquet-nested',
      case: mode,
      rowsPerSec: ROWS / (ms / 1000),
      mbPerSec: mb / (ms / 1000),
      ratio: base / ms,
      peakRss: median(runs.get(mode)!.map((m) => m.peakRss)),
      note: `${ROWS.toLocaleString('en-US')} rows of list<list<int32>>, ${mb.toFixed(1)} MB file; ratio = speed against hyparquet`,
    };
  });
}
