/**
 * What the fuzz suite mutates: every corpus file (read in place from ../shared/corpus, never
 * copied into the repository) and small files spillway writes itself (Parquet in each codec and
 * one of small pages for `where`, Arrow IPC file and stream in each compression, CSV plain, gzip
 * and zstd, JSON Lines plain and gzip, a spill directory). Each target names the readers that run
 * it and whether its format carries checksums (a spill directory and gzip do: a mutated one must
 * never give rows that differ from the original).
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fromIterable, pipeline, toArrow, toCsv, toJsonl, toParquet, toSpill } from '../../index.ts';
import type { Spilled } from '../../index.ts';
import { zstdCompressSync } from '../../lib/formats/zstd.ts';

/** The readers the suite runs. */
export type ReaderName =
  | 'parquet-rows'
  | 'parquet-arrow'
  | 'parquet-where'
  | 'parquet-inspect'
  | 'arrow'
  | 'arrow-inspect'
  | 'csv-fast'
  | 'csv-parse'
  | 'csv-arrow'
  | 'csv-inspect'
  | 'jsonl'
  | 'spill';

/**
 * The `where` of the `parquet-where` reader: a middle range of the generated files' `id` (0-299),
 * so that page and row-group pushdown skip pages on both sides of it.
 */
export const MIDDLE_IDS = {
  and: [
    { col: 'id', op: '>=', value: 110 },
    { col: 'id', op: '<', value: 190 },
  ],
} as const;

/** One file (or spill directory) the suite mutates. */
export interface Target {
  /** Short name for reports (relative to the corpus, or `gen/...`). */
  readonly name: string;
  /** What is mutated: `gzip` and `zstd` are compressed CSV or JSON Lines (their readers say which). */
  readonly format: 'parquet' | 'arrow-file' | 'arrow-stream' | 'csv' | 'jsonl' | 'gzip' | 'zstd' | 'spill';
  /** The file, or the spill directory. */
  readonly path: string;
  readonly readers: readonly ReaderName[];
  /** True when the format checks every byte it reads (wrong rows are a failure, not "undetectable"). */
  readonly checksummed: boolean;
}

const READERS: Record<Target['format'], readonly ReaderName[]> = {
  parquet: ['parquet-rows', 'parquet-arrow', 'parquet-inspect'],
  'arrow-file': ['arrow', 'arrow-inspect'],
  'arrow-stream': ['arrow', 'arrow-inspect'],
  csv: ['csv-fast', 'csv-parse', 'csv-arrow', 'csv-inspect'],
  jsonl: ['jsonl'],
  // compressed CSV: fromCsv's decompressing stream path under both parsers, and inspectCsv's sample
  gzip: ['csv-fast', 'csv-parse', 'csv-inspect'],
  zstd: ['csv-fast', 'csv-parse', 'csv-inspect'],
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

/**
 * CSV compressed (gzip, zstd), JSON Lines (plain, gzip) and a Parquet file of small pages read with
 * `where`. gzip ends with a CRC-32 of the data, so a mutated gzip file that reads must read right.
 */
async function textTargets(dir: string, csv: string, source: () => ReturnType<typeof fromIterable>): Promise<Target[]> {
  const targets: Target[] = [];
  const text = readFileSync(csv);
  for (const [format, bytes] of [
    ['gzip', gzipSync(text)],
    ['zstd', zstdCompressSync(text)],
  ] as const) {
    const file = `gen.csv.${format === 'gzip' ? 'gz' : 'zst'}`;
    const path = join(dir, file);
    writeFileSync(path, bytes);
    targets.push({
      name: `gen/${file}`,
      format,
      path,
      readers: READERS[format],
      checksummed: format === 'gzip',
    });
  }
  for (const gzip of [false, true]) {
    const path = join(dir, gzip ? 'gen.jsonl.gz' : 'gen.jsonl');
    await pipeline(source(), toJsonl(path), { governor: false });
    const format = gzip ? 'gzip' : 'jsonl';
    targets.push({
      name: `gen/${gzip ? 'gen.jsonl.gz' : 'gen.jsonl'}`,
      format,
      path,
      readers: ['jsonl'],
      checksummed: gzip,
    });
  }
  // pages of about 40 rows (a page index: toParquet writes one), so `where` keeps pages in the middle
  const paged = join(dir, 'gen-paged.parquet');
  await pipeline(source(), toParquet(paged, { rowGroupSize: 200, pageBytes: 512 }), { governor: false });
  targets.push({
    name: 'gen/paged.parquet',
    format: 'parquet',
    path: paged,
    readers: ['parquet-rows', 'parquet-where', 'parquet-inspect'],
    checksummed: false,
  });
  return targets;
}

/** Small files written by spillway's own writers into `dir`. */
export async function generatedTargets(dir: string): Promise<Target[]> {
  const data = rows(300);
  const targets: Target[] = [];
  const source = () => fromIterable(data, { batchSize: 100 });
  for (const compression of ['uncompressed', 'snappy', 'gzip', 'zstd', 'brotli', 'lz4_raw'] as const) {
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
  targets.push(...(await textTargets(dir, csv, source)));
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
