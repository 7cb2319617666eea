/**
 * The error a page that could not be decoded becomes: a value our parsers refuse keeps its class
 * and message and gains where it is (file, row group, column); a coded error passes as it is;
 * anything else (hyparquet's own errors, a short buffer) is a FormatError naming the page.
 */
import { FormatError, SpillwayError, UnsupportedError } from '../../../core/errors.ts';

/**
 * @param where the row group and column (`row group 0, column \`d\``)
 * @param byteOffset where the page starts in the file
 */
export function pageDecodeError(error: unknown, where: string, file: string, byteOffset: number): Error {
  if (error instanceof UnsupportedError && error.context.file === undefined)
    return new UnsupportedError(`${error.detail} (${where})`, { file }, { cause: error });
  if (error instanceof SpillwayError) return error;
  return new FormatError(
    `Cannot decode Parquet page in ${where}: ${(error as Error).message}`,
    { file, byteOffset },
    { cause: error },
  );
}
