/**
 * CSV ingest: raw csv-parse against spillway's fromCsv on the same file and options, measured
 * interleaved in one run; and the cost of governing an unpressured pipeline (governor on vs off).
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { parse } from 'csv-parse';
import { pipeline, fromCsv, map, drain, MemoryGovernor } from 'spillway';
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

async function spillwayCsv(path: string, cast: boolean, governor?: MemoryGovernor | false): Promise<number> {
  const { stats } = await pipeline(fromCsv(path, { cast }), map((row) => row), drain(), { governor });
  return stats.rowsOut;
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv();
  const mb = data.bytes / 1e6;
  const governor = new MemoryGovernor();
  const ms = await interleaved({
    raw: () => rawCsvParse(data.path, false),
    spillway: () => spillwayCsv(data.path, false, governor),
    rawCast: () => rawCsvParse(data.path, true),
    spillwayCast: () => spillwayCsv(data.path, true, governor),
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
    row('pipeline(fromCsv, map(identity), drain())', 'spillway', 'raw', 'goal >= 0.9 of raw'),
    row('raw csv-parse (columns, cast: true)', 'rawCast', 'rawCast', 'baseline'),
    row('pipeline(fromCsv { cast: true }, map, drain)', 'spillwayCast', 'rawCast', 'vs raw with cast'),
    row('same pipeline, governor: false', 'ungoverned', 'spillway', 'governed/ungoverned cost = 1 - 1/ratio'),
  ];
}
