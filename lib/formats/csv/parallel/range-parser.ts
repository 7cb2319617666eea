/**
 * One byte range of a CSV file parsed by the fast reader (lib/formats/csv/fast/reader.ts), with
 * what the parallel reader needs to know to trust the result: where the last record seen ended,
 * the line the next record would start on, and the record delimiter the scanner discovered. A
 * range may start before the records it emits (`emitFrom`): records ending at or before it are
 * scanned, so that the scanner's state is right, and dropped. Used by the parser threads
 * (worker.ts) and, for fallbacks and error reports, on the main thread.
 */
import type { CsvError } from 'csv-parse';
import { FastCsvReader, type FastCsvBatch } from '../fast/reader.ts';
import type { ScanFault, ScannedRecord } from '../fast/scan-types.ts';
import type { DelimiterKind, RecordDelimiter } from '../fast/record-delimiter.ts';

/** How a range is parsed (plain data: it is posted to threads). */
export interface RangeOptions {
  delimiter: number;
  relaxQuotes: boolean | 'opening';
  infer: boolean;
  /** Fill only these columns (see FastCsvOptions.project). */
  project?: string[];
  fail: boolean;
  /** Keep the raw text of bad records (dead letters). */
  raw: boolean;
  skipBlankLines: boolean;
  /** Strip a BOM (the first range of a file read from byte 0). */
  bom: boolean;
  /** The column names; with `header`, the range's first record is a header and is replaced by them. */
  names: string[];
  header: boolean;
  /** Rows per batch. */
  batchSize: number;
  /** Invalid UTF-8: a bad record (`'error'`) or U+FFFD. */
  invalidUtf8: 'error' | 'replace';
}

/** A record dropped in skip mode, as the worker reports it (lines relative to the range). */
export interface BadRecord {
  code: string | undefined;
  message: string;
  line: number;
  raw: string | undefined;
}

/** The scanner as the sink sees it, with the parts the range checks read. */
type Scanner = ScannedRecord & { lineStart: number; rd: RecordDelimiter };

/** Parses one range; see the module comment. */
export class RangeParser {
  /** Bad records (skip mode), in order. */
  readonly bad: BadRecord[] = [];
  /** The header as read, when the range had one. */
  header: string[] | undefined;
  /** End of the last record scanned (relative to the range's start), emitted or not. */
  lastEnd = 0;
  readonly #reader: FastCsvReader;
  #scanner: Scanner | undefined;

  /** @param emitFrom records ending at or before this offset (relative to the range's start) are dropped */
  constructor(
    options: RangeOptions,
    emitFrom = 0,
    onBad?: (error: Error, line: number, raw: string | undefined) => void,
  ) {
    const names = options.names;
    this.#reader = new FastCsvReader({
      delimiter: options.delimiter,
      columns: options.header
        ? (header: string[]) => {
            this.header = header;
            return names;
          }
        : names,
      infer: options.infer,
      project: options.project,
      fail: options.fail,
      raw: options.raw,
      onBad:
        onBad ??
        ((error, line, raw) =>
          this.bad.push({ code: (error as CsvError).code as string | undefined, message: error.message, line, raw })),
      onCastFailure: (error) => {
        throw error;
      },
      output: 'arrow',
      bom: options.bom,
      skipBlankLines: options.skipBlankLines,
      recoverQuotes: true,
      relaxQuotes: options.relaxQuotes,
      invalidUtf8: options.invalidUtf8,
    });
    this.#reader.batchSize = options.batchSize;
    // the scanner hands itself to its sink: seen here, records before emitFrom are dropped
    const reader = this.#reader;
    const record = reader.record.bind(reader);
    const faults = reader.faults.bind(reader);
    reader.record = (s: ScannedRecord): void => {
      this.#scanner = s as Scanner;
      this.lastEnd = s.endByte;
      if (s.endByte > emitFrom) record(s);
    };
    reader.faults = (s: ScannedRecord, list: ScanFault[]): void => {
      this.#scanner = s as Scanner;
      if (s.windowBase + s.recordStart >= emitFrom) faults(s, list);
    };
  }

  /** Scans bytes. */
  push(bytes: Uint8Array): void {
    this.#reader.push(bytes);
  }

  /** Ends the input (the range reaches the end of the file). */
  end(): void {
    this.#reader.end();
  }

  /** Batches sealed so far (taken). */
  take(): FastCsvBatch[] {
    return this.#reader.ready.splice(0);
  }

  /** csv-parse's line at the start of the next record (1-based, relative to the range), 0 when no record was seen. */
  get lineStart(): number {
    return this.#scanner?.lineStart ?? 0;
  }

  /** The record delimiter the scanner discovered. */
  get delimiter(): DelimiterKind {
    return this.#scanner?.rd.kind ?? 'unknown';
  }
}
