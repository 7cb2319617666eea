/**
 * The CSV sniffer: from the first bytes of a file, the dialect (delimiter, quote, escape, comment
 * prefix, preamble lines to skip), whether the first row is a header, and each column's type, in
 * the manner of DuckDB's sniff_csv. Pure: a sample in, a {@link CsvDialect} out.
 *
 * Delimiter and quote: every candidate pair splits the sample; the pair whose records have one
 * field count most consistently wins, more columns breaking ties, earlier candidates breaking the
 * rest (`,` `;` `|` tab; `"` then `'`). Preamble: records before the first one of the dominant
 * run are skipped. Header: as DuckDB, the first row is data when each of its cells fits its
 * column's type detected from the rows below and some column is not text; otherwise a header.
 */
import { detectColumn, fitsType, type DateFormat, type DetectedType } from './detect-types.ts';
import { decodeSample, type CsvEncoding } from './encoding.ts';
import { splitSample, type SampleRecord } from './split-sample.ts';

/** What the sniffer found. */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  escape: string;
  /** Comment prefix, or undefined when no line in the sample is a comment. */
  comment: string | undefined;
  /**
   * A comment may also follow a value (`1,2 # note`), as DuckDB reads a file whose comment lines
   * lie between its records; false when they only precede the records (DuckDB skips them as a
   * preamble and a `#` after a value stays text).
   */
  inlineComments: boolean;
  /** Lines (CR, LF or CRLF) before the first record (the header, when there is one). */
  skipLines: number;
  /** Bytes before the first record (a BOM included). */
  skipBytes: number;
  /** The encoding the sample was read in (a byte order mark may have settled it). */
  encoding: CsvEncoding;
  header: boolean;
  /** Column names as in the file's header (deduplicated later), or undefined without a header. */
  headerNames: string[] | undefined;
  /** Detected type of each column, in order. */
  types: DetectedType[];
  /** The date format of each date column (undefined for other columns). */
  formats: (DateFormat | undefined)[];
  /** Data records looked at for the types. */
  rowsSampled: number;
}

/** Parts of the dialect fixed by the caller; the sniffer keeps them. */
export interface DialectHints {
  delimiter?: string;
  quote?: string;
  escape?: string;
  comment?: string;
  /** With `comment`: whether a comment may follow a value (not csv-parse's `comment_no_infix`). */
  inlineComments?: boolean;
  header?: boolean;
  skipLines?: number;
}

const DELIMITERS = [',', ';', '|', '\t'];
const QUOTES = ['"', "'"];

/** The dominant run of data records: where it starts and how consistent it is. */
function dominantRun(records: readonly SampleRecord[]): {
  from: number;
  columns: number;
  consistency: number;
  rows: number;
} {
  const data = records.map((r, k) => ({ r, k })).filter(({ r }) => !r.blank && !r.comment);
  if (data.length === 0) return { from: 0, columns: 1, consistency: 0, rows: 0 };
  const counts = new Map<number, number>();
  for (const { r } of data) counts.set(r.fields.length, (counts.get(r.fields.length) ?? 0) + 1);
  // the most frequent count, the wider one on ties
  let columns = 0;
  for (const [count, times] of counts)
    if (times > (counts.get(columns) ?? 0) || (times === counts.get(columns) && count > columns)) columns = count;
  // a preamble is lines narrower than the records (titles, notes); a wider line is not skipped
  let first = data.findIndex(({ r }) => r.fields.length === columns);
  if (data.slice(0, first).some(({ r }) => r.fields.length > columns)) first = 0;
  const run = data.slice(first);
  const consistent = run.filter(({ r }) => r.fields.length === columns).length;
  return { from: data[first]!.k, columns, consistency: consistent / run.length, rows: run.length };
}

/** Picks delimiter, quote and escape for `text`, keeping the hinted ones. */
function chooseDialect(
  text: string,
  truncated: boolean,
  hints: DialectHints,
  comment: string | undefined,
): { delimiter: string; quote: string; escape: string; records: SampleRecord[] } {
  let best: { delimiter: string; quote: string; escape: string; records: SampleRecord[]; score: number[] } | undefined;
  // `'` only when some field starts with it: a file without it reads alike either way
  const quotes =
    hints.quote !== undefined
      ? [hints.quote]
      : QUOTES.filter((q) => q === '"' || new RegExp(`(^|[,;|\t])${q}`, 'm').test(text));
  for (const quote of quotes) {
    const escapes = hints.escape !== undefined ? [hints.escape] : text.includes(`\\${quote}`) ? ['\\', quote] : [quote];
    for (const escape of escapes) {
      let absentTried = false;
      for (const delimiter of hints.delimiter !== undefined ? [hints.delimiter] : DELIMITERS) {
        // a delimiter the sample lacks splits it as any other lacking one does (one field a line)
        // and scores the same, so only the first such, which wins ties, is worth a split
        if (!text.includes(delimiter)) {
          if (absentTried) continue;
          absentTried = true;
        }
        const records = splitSample(text, delimiter, quote, escape, comment, truncated);
        const run = dominantRun(records);
        // several columns, mostly consistent, beat one column: bad records must not make a file one column wide
        // then the most consistent, the one skipping the fewest records, the fewest stray quotes, the widest
        const strays = records.reduce((n, r) => n + r.strays, 0);
        const score = [
          run.columns > 1 && run.consistency >= 0.5 ? 1 : 0,
          Math.round(run.consistency * 100),
          run.rows,
          -strays,
          run.columns,
        ];
        if (!best || better(score, best.score)) best = { delimiter, quote, escape, records, score };
      }
    }
  }
  return best!;
}

/** True when score `a` ranks above `b` (lexicographic). */
function better(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/** A comment prefix when some line of the sample starts with `#` (after spaces, not tabs: DuckDB's rule) and the file is not all such lines. */
function detectComment(text: string): string | undefined {
  const lines = text.split(/\r\n|\n|\r/).filter((l) => l.trim() !== '');
  const commented = lines.filter((l) => /^ *#/.test(l)).length;
  return commented > 0 && commented < lines.length ? '#' : undefined;
}

/**
 * Sniffs a sample of a CSV file.
 * @param sample the first bytes of the (decompressed) file
 * @param complete true when the sample is the whole file (its last record is complete)
 * @param hints parts of the dialect the caller fixed
 * @param encoding the sample's encoding and the length of its byte order mark (default: UTF-8, with or without a mark)
 */
export function sniffCsv(
  sample: Buffer,
  complete: boolean,
  hints: DialectHints = {},
  encoding: { encoding: CsvEncoding; bom: number } = utf8Sample(sample),
): CsvDialect {
  const { bom } = encoding;
  const text = decodeSample(sample, bom, encoding.encoding, complete);
  const comment = hints.comment !== undefined ? hints.comment : detectComment(text);
  const chosen = chooseDialect(text, !complete, hints, comment);
  const { delimiter, quote, escape } = chosen;
  let { records } = chosen;
  let run = dominantRun(records);
  const inlineComments = hints.inlineComments ?? records.some((r, k) => r.comment && k > run.from);
  if (inlineComments && comment !== undefined) {
    records = splitSample(text, delimiter, quote, escape, comment, !complete, true);
    run = dominantRun(records);
  }
  let from = run.from;
  if (hints.skipLines !== undefined) from = records.findIndex((r) => r.line >= hints.skipLines!);
  if (from < 0) from = records.length;
  const rows = records
    .slice(from)
    .filter((r) => !r.blank && !r.comment)
    .map((r) => r.fields);
  const columns = Math.max(1, rows[0]?.length ?? 1);
  const below = rows.slice(1);
  const detect = (data: string[][]) =>
    Array.from({ length: columns }, (_, c) => detectColumn(data.map((r) => r[c] ?? '')));
  const below_ = detect(below);
  const header =
    hints.header ??
    isHeader(
      rows[0],
      below_.map((d) => d.type),
      below.length,
    );
  const dataRows = header ? below : rows;
  const detected = header ? below_ : detect(dataRows);
  const types = detected.map((d) => d.type);
  const startChar = records[from]?.start ?? text.length;
  return {
    delimiter,
    quote,
    escape,
    comment,
    inlineComments: comment !== undefined && inlineComments,
    skipLines: records[from]?.line ?? 0,
    // in the bytes the readers see: UTF-16 arrives transcoded to UTF-8, its mark too (read/utf16.ts)
    skipBytes:
      encoding.encoding === 'utf16le'
        ? (bom > 0 ? 3 : 0) + Buffer.byteLength(text.slice(0, startChar), 'utf8')
        : bom + Buffer.byteLength(text.slice(0, startChar), encoding.encoding),
    encoding: encoding.encoding,
    header,
    headerNames: header ? rows[0] : undefined,
    types,
    formats: detected.map((d) => d.format),
    rowsSampled: dataRows.length,
  };
}

/** A UTF-8 sample, with its byte order mark when it has one. */
function utf8Sample(sample: Buffer): { encoding: CsvEncoding; bom: number } {
  return { encoding: 'utf8', bom: sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf ? 3 : 0 };
}

/** DuckDB's rule: a first row that fits the types of the rows below (not all text) is data. */
function isHeader(first: readonly string[] | undefined, types: readonly DetectedType[], rowsBelow: number): boolean {
  if (first === undefined) return true;
  // a single row is a header when it is all text (a header-only file), data when some cell is a number, date, ...
  if (rowsBelow === 0) return first.every((cell) => detectColumn([cell]).type === 'text');
  if (types.every((t) => t === 'text')) return true;
  return !first.every((cell, c) => cell === '' || fitsType(cell, types[c] ?? 'text'));
}
