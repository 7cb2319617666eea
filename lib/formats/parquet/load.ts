/**
 * The Parquet reader (hyparquet and hyparquet-compressors) loaded when a stage first opens a file,
 * not when spillway is imported (issue 17 item 8). One module instance either way.
 */
import type * as Reader from './reader.ts';

let loaded: typeof Reader | undefined;

/** reader.ts, imported on first call. */
export async function loadParquetReader(): Promise<typeof Reader> {
  return (loaded ??= await import('./reader.ts'));
}

/** reader.ts if {@link loadParquetReader} has loaded it (a stage's error path after it opened). */
export function parquetReaderLoaded(): typeof Reader | undefined {
  return loaded;
}
