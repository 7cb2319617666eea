/**
 * What the fuzz suite mutates: every corpus file (read in place from ../shared/corpus, never
 * copied into the repository) and small files spillway writes itself (Parquet in each codec,
 * Arrow IPC file and stream in each compression, CSV, a spill directory). Each target names the
 * readers that run it and whether its format carries checksums (a spill directory does: a
 * mutated spill must never give rows that differ from the original).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromIterable, pipeline, toArrow, toCsv, toParquet, toSpill } from '../../index.ts';
import type { Spilled } from '../../index.ts';
import type { ReaderName } from './child.ts';

/** One file (or spill directory) the suite mutates. */
export interface Target {
  /** Short name for reports (relative to the corpus, or `gen/...`). */
  readonly name: string;
  readonly format: 'parquet' | 'arrow-file' | 'arrow-stream' | 'csv' | 'spill';
  /** The file, or the spill directory. */
  readonly path: string;
  readonly readers: readonly ReaderName[];
  /** True when the format checks every byte it reads (wrong rows are a failure, not "undetectable"). */
  readonly checksummed: boolean;
}

const READERS: Record<Target['format'], readonly ReaderName[]> = {
  parquet: ['parquet-rows', 'parquet-arrow'],
  'arrow-file': ['arrow'],
  'arrow-stream': ['arrow'],
  csv: ['csv-fast', 'csv-parse', 'csv-arrow'],
  spill: ['spill'],
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

/** The corpus files, by format (none when the corpus is absent). */
export function corpusTargets(corpus: string): Target[] {
  if (!existsSync(corpus)) return [];
  const targets: Target[] = [];
  for (const path of walk(corpus)) {
    const name = path.slice(corpus.length + 1);
    let format: Target['format'] | undefined;
    if (path.endsWith('.parquet')) format = 'parquet';
    else if (path.endsWith('.arrow_file')) format = 'arrow-file';
    else if (path.endsWith('.stream')) format = 'arrow-stream';
    else if (path.endsWith('.csv') && name.startsWith('csv/')) format = 'csv';
    if (format) targets.push({ name, format, path, readers: READERS[format], checksummed: false });
  }
  return targets;
}

function rows(n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      id: i,
      big: BigInt(i) * 1_000_000_007n,
      price: i / 7,
      name: i % 5 === 0 ? null : `name-${i}-${'x'.repeat(i % 13)}`,
      flag: i % 3 === 0,
      at: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
    });
  }
  return out;
}

/** Small files written by spillway's own writers into `dir`. */
export async function generatedTargets(dir: string): Promise<Target[]> {
  const data = rows(300);
  const targets: Target[] = [];
  const source = () => fromIterable(data, { batchSize: 100 });
  for (const compression of ['none', 'snappy', 'gzip', 'zstd', 'brotli', 'lz4_raw'] as const) {
    const path = join(dir, `gen-${compression}.parquet`);
    try {
      await pipeline(source(), toParquet(path, { compression: compression as never, rowGroupSize: 128 }), {
        governor: false,
      });
    } catch {
      continue; // a codec this writer does not offer
    }
    targets.push({
      name: `gen/${compression}.parquet`,
      format: 'parquet',
      path,
      readers: READERS.parquet,
      checksummed: false,
    });
  }
  for (const format of ['file', 'stream'] as const) {
    for (const compression of ['none', 'lz4', 'zstd'] as const) {
      const path = join(dir, `gen-${compression}.${format === 'file' ? 'arrow' : 'arrows'}`);
      await pipeline(source(), toArrow(path, { format, compression }), { governor: false });
      const kind = format === 'file' ? 'arrow-file' : 'arrow-stream';
      targets.push({
        name: `gen/${compression}.${format}`,
        format: kind,
        path,
        readers: READERS[kind],
        checksummed: false,
      });
    }
  }
  const csv = join(dir, 'gen.csv');
  await pipeline(source(), toCsv(csv), { governor: false });
  targets.push({ name: 'gen/gen.csv', format: 'csv', path: csv, readers: READERS.csv, checksummed: false });
  const spillDir = join(dir, 'gen-spill');
  const { output } = (await pipeline(
    source(),
    toSpill({ budget: 1, compression: 'lz4', fileSize: 8000, keep: true, dir: spillDir }),
    { governor: false },
  )) as { output: Spilled };
  await output.dispose({ remove: false });
  targets.push({ name: 'gen/spill', format: 'spill', path: output.dir, readers: READERS.spill, checksummed: true });
  return targets;
}
