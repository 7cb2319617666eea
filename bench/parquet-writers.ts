/**
 * Parquet writers side by side on the same rows (issue 9: "measure parquetjs-lite,
 * hyparquet-writer and your own column encoding; choose by figures"): spillway's encoder from
 * Arrow batches and from row objects, hyparquet-writer from column arrays, parquetjs-lite from
 * rows; snappy everywhere; the file written to disk. A 300k-row trades CSV (parquetjs-lite is
 * slow), read once into memory so only the writing is timed.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { pipeline, fromCsv, fromIterable, toParquet, collect } from 'spillway';
import type { Batch } from 'spillway/extend';
import type { RecordBatch } from 'apache-arrow';
import { arrowBatchSource, benchCsv, interleaved, type BenchRow } from './common.ts';

const ROWS = 300_000;
const require = createRequire(import.meta.url);

interface ParquetJs {
  ParquetSchema: new (fields: Record<string, { type: string; optional?: boolean; compression?: string }>) => unknown;
  ParquetWriter: {
    openFile(schema: unknown, path: string): Promise<{ appendRow(row: object): Promise<void>; close(): Promise<void> }>;
  };
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv(ROWS);
  const dir = mkdtempSync(join(tmpdir(), 'spillway-pqw-'));
  try {
    // the same rows as Arrow batches and as objects, in memory: only the writing is timed
    const batches: RecordBatch[] = [];
    for await (const batch of fromCsv(data.path, { cast: true, output: 'arrow' }) as AsyncIterable<Batch>)
      batches.push(batch.arrow);
    const rows = (await pipeline(fromCsv(data.path, { cast: true }), collect())).output as Record<string, unknown>[];
    const names = Object.keys(rows[0]!);
    const file = (name: string): string => join(dir, name);
    const parquetjs = require('parquetjs-lite') as ParquetJs;
    const pjSchema = new parquetjs.ParquetSchema(
      Object.fromEntries(
        names.map((n) => [
          n,
          { type: typeof rows[0]![n] === 'number' ? 'DOUBLE' : 'UTF8', optional: true, compression: 'SNAPPY' },
        ]),
      ),
    );
    const ms = await interleaved({
      arrow: () => pipeline(arrowBatchSource(batches), toParquet(file('arrow.parquet')), { governor: false }),
      rows: () =>
        pipeline(fromIterable(rows, { batchSize: 8192 }), toParquet(file('rows.parquet')), { governor: false }),
      hyparquet: async () => {
        const columnData = names.map((name) => ({ name, data: rows.map((r) => r[name] ?? null) }));
        writeFileSync(file('hyparquet.parquet'), new Uint8Array(parquetWriteBuffer({ columnData, codec: 'SNAPPY' })));
      },
      parquetjs: async () => {
        const w = await parquetjs.ParquetWriter.openFile(pjSchema, file('parquetjs.parquet'));
        for (const row of rows) await w.appendRow(row);
        await w.close();
      },
    });
    const size = (name: string): string => `${(statSync(file(name)).size / 1e6).toFixed(1)} MB`;
    const rate = (name: string): number => ROWS / ((ms[name] as number) / 1000);
    const row = (label: string, name: string, fileName: string): BenchRow => ({
      group: 'parquet-writers',
      case: label,
      rowsPerSec: rate(name),
      ratio: rate(name) / rate('hyparquet'),
      note: `file ${size(fileName)}; ratio vs hyparquet-writer`,
    });
    return [
      row('spillway toParquet, Arrow batches in', 'arrow', 'arrow.parquet'),
      row('spillway toParquet, row objects in', 'rows', 'rows.parquet'),
      row('hyparquet-writer parquetWriteBuffer (column arrays), then one write', 'hyparquet', 'hyparquet.parquet'),
      row('parquetjs-lite ParquetWriter.appendRow', 'parquetjs', 'parquetjs.parquet'),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
