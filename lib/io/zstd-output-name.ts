/**
 * The text sinks (toCsv, toJsonl) compress gzip only: a `.zst` name would hold plain text that
 * spillway's own readers then refuse as invalid zstd data, so the name is refused up front.
 */
import { ValidationError, describeValue } from '../core/errors.ts';

/**
 * Throws a ValidationError when `path` ends in `.zst` or `.zstd` (any case).
 * @param stage the sink (`toCsv`), for the message
 * @param extension the format's own extension (`.csv`)
 */
export function refuseZstdOutputName(path: string | undefined, stage: string, extension: string): void {
  if (path === undefined || !/\.zstd?$/i.test(path)) return;
  throw new ValidationError(
    `${stage} compresses .gz output but cannot write zstd: name the file ${extension} or ${extension}.gz, got ${describeValue(path)}`,
  );
}
