/**
 * Columnar formats on the bench data: Arrow IPC write and read MB/s for none, lz4 and zstd with
 * compression ratios, and Parquet write and read rows/s, beside a raw disk write (and fsync) of
 * the same uncompressed Arrow bytes, measured interleaved in one run. The first FORMAT_ROWS rows
 * (default 1,000,000) of the bench CSV are read once into Arrow batches and written from memory,
 * so the figures are the formats' own, not the CSV parser's.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableToIPC, Table, type RecordBatch } from 'apache-arrow';
import { pipeline, fromCsv, fromArrow, fromParquet, toArrow, toParquet, drain } from 'spillway';
import type { Batch } from 'spillway/extend';
import { arrowBatchSource, benchCsv, interleaved, type BenchRow } from './common.ts';

const FORMAT_ROWS = Number(process.env.FORMAT_ROWS ?? 1_000_000);

/** The first FORMAT_ROWS rows of the bench CSV as Arrow batches (typed by the fast CSV path). */
async function loadBatches(path: string): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = [];
  let rows = 0;
  for await (const chunk of fromCsv(path, { cast: true, output: 'arrow' })) {
    const batch = chunk as Batch;
    batches.push(batch.toArrow());
    rows += batch.numRows;
    if (rows >= FORMAT_ROWS) break;
  }
  return batches;
}

/** Writes `bytes` to a new file and fsyncs it: the physical reference. */
async function rawWrite(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (let offset = 0; offset < bytes.byteLength; offset += 1 << 20) {
      await handle.write(bytes, offset, Math.min(1 << 20, bytes.byteLength - offset));
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv();
  const batches = await loadBatches(data.path);
  const rows = batches.reduce((n, b) => n + b.numRows, 0);
  const uncompressed = tableToIPC(new Table(batches), 'file');
  const mb = uncompressed.byteLength / 1e6;
  const dir = mkdtempSync(join(tmpdir(), 'spillway-bench-formats-'));
  const file = (name: string): string => join(dir, name);
  try {
    const compressions = ['none', 'lz4', 'zstd'] as const;
    const ms = await interleaved({
      raw: () => rawWrite(file('raw.bin'), uncompressed),
      ...Object.fromEntries(
        compressions.map((c) => [
          `write-${c}`,
          () =>
            pipeline(arrowBatchSource(batches), toArrow(file(`${c}.arrow`), { compression: c === 'none' ? null : c }), {
              governor: false,
            }),
        ]),
      ),
      ...Object.fromEntries(
        compressions.map((c) => [
          `read-${c}`,
          () => pipeline(fromArrow(file(`${c}.arrow`)), drain(), { governor: false }),
        ]),
      ),
      'parquet-write': () => pipeline(arrowBatchSource(batches), toParquet(file('out.parquet')), { governor: false }),
      'parquet-read': () => pipeline(fromParquet(file('out.parquet')), drain(), { governor: false }),
    });
    const rawMbps = mb / ((ms.raw as number) / 1000);
    const out: BenchRow[] = [
      {
        group: 'formats',
        case: `raw write + fsync of the uncompressed Arrow bytes (${mb.toFixed(0)} MB)`,
        mbPerSec: rawMbps,
        ratio: 1,
        note: 'physical reference',
      },
    ];
    for (const c of compressions) {
      const size = statSync(file(`${c}.arrow`)).size;
      const w = mb / ((ms[`write-${c}`] as number) / 1000);
      const r = mb / ((ms[`read-${c}`] as number) / 1000);
      out.push({
        group: 'formats',
        case: `toArrow ${c}`,
        mbPerSec: w,
        rowsPerSec: rows / ((ms[`write-${c}`] as number) / 1000),
        ratio: w / rawMbps,
        note: `vs raw write; compression ratio ${(uncompressed.byteLength / size).toFixed(2)}`,
      });
      out.push({
        group: 'formats',
        case: `fromArrow ${c}`,
        mbPerSec: r,
        rowsPerSec: rows / ((ms[`read-${c}`] as number) / 1000),
        note: 'uncompressed MB/s',
      });
    }
    const parquetSize = statSync(file('out.parquet')).size;
    out.push({
      group: 'formats',
      case: 'toParquet (snappy)',
      rowsPerSec: rows / ((ms['parquet-write'] as number) / 1000),
      mbPerSec: mb / ((ms['parquet-write'] as number) / 1000),
      note: `file ${(parquetSize / 1e6).toFixed(1)} MB`,
    });
    out.push({
      group: 'formats',
      case: 'fromParquet',
      rowsPerSec: rows / ((ms['parquet-read'] as number) / 1000),
      mbPerSec: mb / ((ms['parquet-read'] as number) / 1000),
    });
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
