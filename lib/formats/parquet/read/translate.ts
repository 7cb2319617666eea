/** Decoder failures as spillway errors that name the Parquet file (and the row group, as `batch`). */
import { FormatError, SpillwayError, UnsupportedError } from '../../../core/errors.ts';

/** Turns a decoder failure into a FormatError or UnsupportedError naming the file. */
export function translateError(error: unknown, file: string, extra: { batch?: number } = {}): SpillwayError {
  if (error instanceof SpillwayError) {
    if (error.context.file !== undefined) return error;
    const Ctor = error instanceof UnsupportedError ? UnsupportedError : FormatError;
    return new Ctor(error.message, { file, ...extra }, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported|not supported/i.test(message)) {
    return new UnsupportedError(`Unsupported Parquet feature: ${message}`, { file, ...extra }, { cause: error });
  }
  return new FormatError(`Corrupt or invalid Parquet file: ${message}`, { file, ...extra }, { cause: error });
}
