/**
 * `inspectCsv`: what fromCsv would detect in a CSV file, without reading it all: the dialect, the
 * header, the columns (unique names, in file order) with their detected types, and how many rows
 * the sample held. `spillway inspect file.csv` prints it.
 */
import { IoError } from '../../../core/errors.ts';
import { readSample } from './bytes.ts';
import { byteOrderMark, settleEncoding } from './encoding.ts';
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
  return (await sniffSample(plan, plan.file!, plan.stageName)).dialect;
}

/** Reads the sample of `path` and sniffs it in the encoding the options and its byte order mark settle. */
async function sniffSample(
  plan: CsvPlan,
  path: string,
  stage: string,
): Promise<{ dialect: CsvDialect; sampled: { sample: Buffer; complete: boolean } }> {
  let sampled;
  try {
    sampled = await readSample(path, plan.compression, plan.sampleBytes);
  } catch (error) {
    throw new IoError(`Cannot read ${path}: ${(error as Error).message}`, { stage, file: path }, { cause: error });
  }
  const mark = byteOrderMark(sampled.sample);
  // `bom: false` reads the mark as text, but a UTF-16BE file is refused all the same
  const bomOff = plan.parseOptions.bom === false && mark?.encoding !== 'utf16be';
  const encoding = settleEncoding(plan.encoding, bomOff ? undefined : mark, stage, path);
  return { dialect: sniffCsv(sampled.sample, sampled.complete, dialectHints(plan), encoding), sampled };
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
  const { dialect: d, sampled } = await sniffSample(plan, path, 'inspectCsv');
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
