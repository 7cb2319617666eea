/**
 * Bounds on what a Parquet page header declares, checked before anything is allocated from it.
 * hyparquet allocates the decompressed page from `uncompressed_page_size` and value arrays from
 * `num_values` as the header says; a flipped bit there made a 1.7 KB file allocate 2 GB. A page
 * cannot decompress to more than its codec's largest expansion of its stored bytes, nor hold
 * more values than its column chunk, nor more than a ceiling no real writer comes near.
 */
import type { PageHeader } from 'hyparquet';
import { FormatError } from '../../../core/errors.ts';

/** Largest page spillway decompresses (uncompressed bytes): real writers use about 1 MB. */
export const MAX_PAGE_BYTES = 1 << 30;

/** Most values one page may declare: writers cut pages at 20,000 rows or about 1 MB. */
export const MAX_PAGE_VALUES = 1 << 26;

/**
 * The most a codec can expand its input (output bytes per input byte, rounded up), and a fixed
 * allowance for tiny inputs. Snappy: a 3-byte copy gives at most 64 bytes; LZ4: 255 per
 * length byte; deflate: 1032:1; zstd: one 128 KB block per 3-4 bytes; brotli has no useful bound
 * below the ceiling, so it gets zstd's ratio (a real page of zeros stays below it).
 */
const EXPANSION: Record<string, { ratio: number; slack: number }> = {
  UNCOMPRESSED: { ratio: 1, slack: 0 },
  SNAPPY: { ratio: 22, slack: 64 },
  LZ4: { ratio: 256, slack: 64 },
  LZ4_RAW: { ratio: 256, slack: 64 },
  GZIP: { ratio: 1033, slack: 1024 },
  ZSTD: { ratio: 1 << 15, slack: 1 << 17 },
  BROTLI: { ratio: 1 << 15, slack: 1 << 17 },
};

/** What a page is checked against. */
export interface PageLimits {
  /** The column chunk's codec. */
  readonly codec: string;
  /** The column chunk's value count (from the footer), when known. */
  readonly chunkValues?: number;
  /** The column chunk's uncompressed bytes, page headers included (from the footer), when known. */
  readonly chunkBytes?: number;
}

function count(value: unknown): number {
  return typeof value === 'bigint' ? Number(value) : (value as number);
}

/**
 * Throws a FormatError when `header` declares sizes or counts its page cannot have.
 * @param where e.g. "row group 0, column `a`", for the message
 */
export function checkPageHeader(
  header: PageHeader,
  limits: PageLimits,
  where: string,
  context: { file: string; byteOffset: number },
): void {
  const fail = (what: string): never => {
    throw new FormatError(`Parquet page header in ${where} ${what}`, { ...context });
  };
  const stored = header.compressed_page_size;
  const size = header.uncompressed_page_size;
  if (!Number.isSafeInteger(size) || size < 0) fail(`has an invalid uncompressed size ${String(size)}`);
  if (size > MAX_PAGE_BYTES) fail(`claims ${size} uncompressed bytes, more than the ${MAX_PAGE_BYTES}-byte limit`);
  // a page is part of its chunk: it cannot hold more than the footer says the whole chunk does
  if (limits.chunkBytes !== undefined && size > limits.chunkBytes)
    fail(`claims ${size} uncompressed bytes, more than the ${limits.chunkBytes} of its whole column chunk`);
  const v2 = header.data_page_header_v2;
  const codec = v2 && v2.is_compressed === false ? 'UNCOMPRESSED' : limits.codec;
  const expansion = EXPANSION[codec] ?? EXPANSION.ZSTD!;
  // levels of a v2 page are stored uncompressed, so they count the same on both sides
  const levels = v2 ? count(v2.definition_levels_byte_length) + count(v2.repetition_levels_byte_length) : 0;
  if (v2 && (!Number.isSafeInteger(levels) || levels < 0 || levels > stored || levels > size))
    fail(`has level lengths ${levels} outside its ${stored} stored bytes`);
  if (size - levels > (stored - levels) * expansion.ratio + expansion.slack) {
    fail(`claims ${size} uncompressed bytes from ${stored} stored bytes, more than ${codec} can expand to`);
  }
  const values = header.data_page_header?.num_values ?? v2?.num_values ?? header.dictionary_page_header?.num_values;
  if (values !== undefined) {
    const n = count(values);
    if (!Number.isSafeInteger(n) || n < 0) fail(`has an invalid value count ${String(values)}`);
    if (n > MAX_PAGE_VALUES) fail(`claims ${n} values, more than the ${MAX_PAGE_VALUES}-value limit`);
    // (a dictionary may hold entries no row uses: Arrow C++ writes an Arrow dictionary whole)
    if (limits.chunkValues !== undefined && !header.dictionary_page_header && n > limits.chunkValues)
      fail(`claims ${n} values, more than the ${limits.chunkValues} of its column chunk`);
    // a dictionary page stores every value plainly: at least one bit each
    if (header.dictionary_page_header && n > size * 8) fail(`claims ${n} dictionary values in ${size} bytes`);
  }
  if (v2) {
    const rows = count(v2.num_rows);
    const nulls = count(v2.num_nulls);
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > count(v2.num_values))
      fail(`has an invalid row count ${String(v2.num_rows)}`);
    if (!Number.isSafeInteger(nulls) || nulls < 0 || nulls > count(v2.num_values))
      fail(`has an invalid null count ${String(v2.num_nulls)}`);
  }
}
