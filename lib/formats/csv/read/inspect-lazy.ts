/**
 * `inspectCsv` as the main entry offers it: the same function, with the sniffer and the byte
 * readers (gzip, zstd) loaded on first call rather than when spillway is imported.
 */
import type { FromCsvOptions } from './options.ts';
import type { CsvDescription } from './inspect.ts';

/**
 * Describes a CSV file: dialect, header, columns and their types, as fromCsv would read it with
 * the same options (explicit dialect options are kept, the rest detected); see
 * `lib/formats/csv/read/inspect.ts`.
 *
 * @param path the file
 * @param options the options fromCsv would be given
 */
export async function inspectCsv(path: string, options?: FromCsvOptions): Promise<CsvDescription> {
  const { inspectCsv: inspect } = await import('./inspect.ts');
  return inspect(path, options);
}
