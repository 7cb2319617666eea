/**
 * `inspectParquet` as the main entry offers it: the same function, with the footer reader
 * (hyparquet) loaded on first call rather than when spillway is imported.
 */
import type { InspectParquetOptions, ParquetInspection } from './inspect.ts';

/**
 * Describes a Parquet file from its footer: schema, row groups, column chunks and their
 * statistics (see `lib/formats/parquet/inspect.ts`).
 *
 * @param path the file
 * @param options none yet
 */
export async function inspectParquet(path: string, options?: InspectParquetOptions): Promise<ParquetInspection> {
  const { inspectParquet: inspect } = await import('./inspect.ts');
  return inspect(path, options);
}
