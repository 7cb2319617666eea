/**
 * toCsv's formatter against csv-stringify writing the same rows to the same kind of file: the
 * 300k-row trades CSV read once into memory (rows, and Arrow batches for the row-view path), so
 * only formatting and writing are timed. `bom: false` is an option only csv-stringify handles, so
 * it routes the same rows through csv-stringify.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { pipeline, fromCsv, fromIterable, toCsv, collect } from 'spillway';
import type { Batch } from 'spillway/extend';
import { arrowBatchSource, benchCsv, interleaved, type BenchRow } from './common.ts';

const ROWS = 300_000;

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv(ROWS);
  const dir = mkdtempSync(join(tmpdir(), 'spillway-csvw-'));
  try {
    const rows = (await pipeline(fromCsv(data.path, { cast: true }), collect())).output as Record<string, unknown>[];
    const batches: RecordBatch[] = [];
    for await (const batch of fromCsv(data.path, { cast: true, output: 'arrow' }) as AsyncIterable<Batch>)
      batches.push(batch.arrow);
    const file = (name: string): string => join(dir, name);
    const ms = await interleaved({
      fast: () => pipeline(fromIterable(rows, { batchSize: 8192 }), toCsv(file('fast.csv')), { governor: false }),
      views: () => pipeline(arrowBatchSource(batches), toCsv(file('views.csv')), { governor: false }),
      stringify: () =>
        pipeline(fromIterable(rows, { batchSize: 8192 }), toCsv(file('stringify.csv'), { bom: false }), {
          governor: false,
        }),
    });
    const mb = statSync(file('fast.csv')).size / 1e6;
    const rate = (name: string): number => ROWS / ((ms[name] as number) / 1000);
    const row = (label: string, name: string, note: string): BenchRow => ({
      group: 'csv-write',
      case: label,
      rowsPerSec: rate(name),
      mbPerSec: mb / ((ms[name] as number) / 1000),
      ratio: rate(name) / rate('stringify'),
      note,
    });
    return [
      row('toCsv, row objects in (spillway formatter)', 'fast', 'ratio vs csv-stringify'),
      row('toCsv, Arrow batches in (row views)', 'views', ''),
      row('toCsv { bom: false }, row objects in (csv-stringify)', 'stringify', 'baseline'),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
