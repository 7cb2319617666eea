/**
 * Text encodings of a CSV file: the ones fromCsv reads (UTF-8, Latin-1, UTF-16LE), the byte order
 * marks that name one, and a sample decoded for the sniffer. The fast scanner reads UTF-8; the
 * others go to csv-parse with their encoding. Encodings that would change bytes silently (Node's
 * `ascii` drops the high bit) or that csv-parse cannot split (UTF-16BE) are refused.
 */
import { UnsupportedError, ValidationError } from '../../../core/errors.ts';

/** An encoding fromCsv reads. */
export type CsvEncoding = 'utf8' | 'latin1' | 'utf16le';

/** Accepted spellings (Node's names) of each encoding. */
const SPELLINGS: Readonly<Record<string, CsvEncoding>> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  latin1: 'latin1',
  binary: 'latin1',
  utf16le: 'utf16le',
  'utf-16le': 'utf16le',
  ucs2: 'utf16le',
  'ucs-2': 'utf16le',
};

/** The `encoding` option checked: one of {@link CsvEncoding} (default `utf8`), else a ValidationError. */
export function csvEncoding(value: unknown, path: string): CsvEncoding {
  if (value === undefined) return 'utf8';
  const known = typeof value === 'string' ? SPELLINGS[value.toLowerCase()] : undefined;
  if (known !== undefined) return known;
  const hint = value === 'ascii' ? " (Node's ascii decoding drops the high bit: use 'utf8' or 'latin1')" : '';
  throw new ValidationError(
    `Expected \`${path}\` to be 'utf8', 'latin1' or 'utf16le', got ${JSON.stringify(value)}${hint}`,
  );
}

/** The byte order mark `head` starts with: the encoding it names and its length. */
export function byteOrderMark(head: Uint8Array): { encoding: CsvEncoding | 'utf16be'; length: number } | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf8', length: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf16le', length: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf16be', length: 2 };
  return undefined;
}

/** The refusal of a UTF-16 big-endian input (csv-parse would split its bytes as text: wrong values). */
export function utf16BeRefusal(stage: string, file: string): UnsupportedError {
  return new UnsupportedError(
    'the input is UTF-16 big-endian (it starts with FE FF), which fromCsv does not read: convert it to UTF-8 (e.g. iconv -f UTF-16BE -t UTF-8)',
    { stage, file },
  );
}

/**
 * The encoding to read with: a byte order mark wins over the option, as csv-parse switches on it
 * (a UTF-16LE mark makes a file UTF-16LE); a UTF-16BE mark is refused.
 * @returns the encoding and the mark's length (0 without one)
 */
export function settleEncoding(
  given: CsvEncoding,
  mark: ReturnType<typeof byteOrderMark>,
  stage: string,
  file: string,
): { encoding: CsvEncoding; bom: number } {
  if (mark === undefined) return { encoding: given, bom: 0 };
  if (mark.encoding === 'utf16be') throw utf16BeRefusal(stage, file);
  return { encoding: mark.encoding, bom: mark.length };
}

/**
 * A sample's text in `encoding` (its byte order mark, `bom` bytes, left out). A sample cut inside a
 * character loses the partial character, so it never ends in a replacement character or a lone
 * surrogate that is not in the file.
 */
export function decodeSample(sample: Buffer, bom: number, encoding: CsvEncoding, complete: boolean): string {
  let body = sample.subarray(bom);
  if (!complete && encoding === 'utf16le' && body.length % 2 === 1) body = body.subarray(0, body.length - 1);
  let text = body.toString(encoding);
  if (!complete) text = encoding === 'utf16le' ? text.replace(/[\uD800-\uDBFF]$/, '') : text.replace(/\uFFFD+$/, '');
  return text;
}
