/**
 * `inspectCsv`: what fromCsv would detect in a CSV file, without reading it all: the dialect, the
 * header, the columns (unique names, in file order) with their detected types, and how many rows
 * the sample held. `spillway inspect file.csv` prints it.
 */
import { IoError } from '../../../core/errors.ts';
import { readSample } from './bytes.ts';
import type { DetectedType } from './detect-types.ts';
import { defaultNames, uniqueNames } from './names.ts';
import { resolveCsvOptions, type CsvPlan, type FromCsvOptions } from './options.ts';
import { dialectHints } from './settle.ts';
import { sniffCsv, type CsvDialect } from './sniff.ts';

/** A CSV file as the sniffer sees it. */
export interface CsvDescription {
  file: string;
  /** Decompression applied. */
  compression: 'gzip' | 'zstd' | null;
  dialect: { delimiter: string; quote: string; escape: string; comment: string | null; skipLines: number };
  /** True when the first row (after the preamble) is a header. */
  header: boolean;
  /** Columns in file order: the unique name, the header's text (null without header), the detected type (and a date column's format, e.g. `%d/%m/%Y`). */
  columns: { name: string; header: string | null; type: DetectedType; format?: string }[];
  /** Data rows in the sample the types were detected from. */
  rowsSampled: number;
  /** Bytes sampled, and whether that was the whole (decompressed) file. */
  sampleBytes: number;
  complete: boolean;
}

/** Sniffs the file of `plan` (its first `sampleBytes`), keeping what the options fix. */
export async function sniffFile(plan: CsvPlan): Promise<CsvDialect> {
  let sampled;
  try {
    sampled = await readSample(plan.file!, plan.compression, plan.sampleBytes);
  } catch (error) {
    throw new IoError(
      `Cannot read ${plan.file}: ${(error as Error).message}`,
      { stage: plan.stageName, file: plan.file },
      { cause: error },
    );
  }
  return sniffCsv(sampled.sample, sampled.complete, dialectHints(plan));
}

/**
 * Describes a CSV file: dialect, header, columns and their types, as fromCsv would read it with
 * the same options (explicit dialect options are kept, the rest detected).
 *
 * @example
 * ```ts
 * const info = await inspectCsv('data.csv');
 * console.log(info.dialect.delimiter, info.columns.map((c) => `${c.name}: ${c.type}`));
 * ```
 */
export async function inspectCsv(path: string, options?: FromCsvOptions): Promise<CsvDescription> {
  const plan = resolveCsvOptions(path, { ...options, sniff: true });
  const sampled = await readSample(path, plan.compression, plan.sampleBytes).catch((error: unknown) => {
    throw new IoError(
      `Cannot read ${path}: ${(error as Error).message}`,
      { stage: 'inspectCsv', file: path },
      { cause: error },
    );
  });
  const d = sniffCsv(sampled.sample, sampled.complete, dialectHints(plan));
  const header = d.headerNames;
  const given = Array.isArray(plan.columns) ? [...plan.columns] : undefined;
  const names = given ?? (header ? uniqueNames(header) : defaultNames(d.types.length));
  return {
    file: path,
    compression: plan.compression ?? null,
    dialect: {
      delimiter: d.delimiter,
      quote: d.quote,
      escape: d.escape,
      comment: d.comment ?? null,
      skipLines: d.skipLines,
    },
    header: d.header,
    columns: names.map((name, c) => ({
      name,
      header: header?.[c] ?? null,
      type: d.types[c] ?? 'text',
      ...(d.formats[c] ? { format: d.formats[c] } : {}),
    })),
    rowsSampled: d.rowsSampled,
    sampleBytes: sampled.sample.byteLength,
    complete: sampled.complete,
  };
}
