/**
 * CSV ingest: raw csv-parse against spillway's fromCsv on the same file and options, measured
 * interleaved in one run: the fast byte scanner delivering rows and Arrow batches, csv-parse
 * inside fromCsv, CSV to Parquet; and the cost of governing an unpressured pipeline.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parse } from 'csv-parse';
import { pipeline, fromCsv, map, drain, toParquet, MemoryGovernor } from 'spillway';
import { benchCsv, interleaved, type BenchRow } from './common.ts';

/** csv-parse alone, records counted as they come: the baseline. */
async function rawCsvParse(path: string, cast: boolean): Promise<number> {
  const parser = createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(parse({ columns: true, cast }));
  let rows = 0;
  parser.on('data', () => {
    rows++;
  });
  await once(parser, 'end');
  return rows;
}

async function spillwayCsv(
  path: string,
  cast: boolean,
  governor?: MemoryGovernor | false,
  parser: 'auto' | 'csv-parse' = 'auto',
): Promise<number> {
  const { stats } = await pipeline(
    fromCsv(path, { cast, parser }),
    map((row) => row),
    drain(),
    { governor },
  );
  return stats.rowsOut;
}

/** The fast path delivering Arrow batches to a sink that never asks for rows. */
async function spillwayArrow(path: string, governor: MemoryGovernor): Promise<number> {
  const { stats } = await pipeline(fromCsv(path, { cast: true, output: 'arrow' }), drain(), { governor });
  return stats.rowsOut;
}

async function spillwayParquet(path: string, governor: MemoryGovernor): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-bench-'));
  try {
    const { stats } = await pipeline(
      fromCsv(path, { cast: true, output: 'arrow' }),
      toParquet(join(dir, 'out.parquet')),
      { governor },
    );
    return stats.rowsOut;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv();
  const mb = data.bytes / 1e6;
  const governor = new MemoryGovernor();
  const ms = await interleaved({
    raw: () => rawCsvParse(data.path, false),
    spillway: () => spillwayCsv(data.path, false, governor),
    csvParse: () => spillwayCsv(data.path, false, governor, 'csv-parse'),
    rawCast: () => rawCsvParse(data.path, true),
    spillwayCast: () => spillwayCsv(data.path, true, governor),
    csvParseCast: () => spillwayCsv(data.path, true, governor, 'csv-parse'),
    arrow: () => spillwayArrow(data.path, governor),
    parquet: () => spillwayParquet(data.path, governor),
    ungoverned: () => spillwayCsv(data.path, false, false),
  });
  governor.close();
  const rate = (name: string): number => data.rows / ((ms[name] as number) / 1000);
  const row = (label: string, name: string, base: string, note?: string): BenchRow => ({
    group: 'csv',
    case: label,
    rowsPerSec: rate(name),
    mbPerSec: mb / ((ms[name] as number) / 1000),
    ratio: rate(name) / rate(base),
    note,
  });
  return [
    row('raw csv-parse (columns: true)', 'raw', 'raw', 'baseline'),
    row(
      "pipeline(fromCsv { parser: 'csv-parse' }, map(identity), drain())",
      'csvParse',
      'raw',
      'the pipeline around the same parser; goal >= 0.9 of raw',
    ),
    row(
      'pipeline(fromCsv, map(identity), drain()) [fast rows]',
      'spillway',
      'raw',
      'the default (fast) path vs raw csv-parse',
    ),
    row('raw csv-parse (columns, cast: true)', 'rawCast', 'rawCast', 'baseline'),
    row(
      'pipeline(fromCsv { cast: true }, map, drain) [fast rows]',
      'spillwayCast',
      'raw',
      'vs raw objects; goal >= 4x',
    ),
    row("same, parser: 'csv-parse'", 'csvParseCast', 'raw', 'vs raw objects'),
    row(
      "pipeline(fromCsv { cast: true, output: 'arrow' }, drain) [fast Arrow]",
      'arrow',
      'raw',
      'vs raw objects; goal >= 1M rows/s',
    ),
    row("pipeline(fromCsv { cast: true, output: 'arrow' }, toParquet)", 'parquet', 'raw', 'CSV -> Parquet (snappy)'),
    row(
      'pipeline(fromCsv, map, drain) [fast rows], governor: false',
      'ungoverned',
      'spillway',
      'ratio vs governed: the cost of governing is 1 - 1/ratio; goal < 3%',
    ),
  ];
}
