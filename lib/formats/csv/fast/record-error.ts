/**
 * A bad record as the fast scanner reports it: csv-parse's error code and message, and the line
 * (`lines`) as csv-parse counts it, so the reader wraps it (as a CsvParseError naming the file and
 * line) or dead-letters it exactly as it does csv-parse's own CsvError. Its own class, so that a
 * read through the scanner does not load csv-parse (about 15-25 ms) for a class it rarely needs.
 */
export class CsvRecordError extends Error {
  /** csv-parse's code, e.g. `CSV_RECORD_INCONSISTENT_COLUMNS`. */
  readonly code: string;
  /** csv-parse's line of the record. */
  readonly lines: number;

  constructor(code: string, message: string, lines: number) {
    super(message);
    this.name = 'CsvRecordError';
    this.code = code;
    this.lines = lines;
  }
}
