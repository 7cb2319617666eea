/**
 * What the byte scanner hands to its sink: a record as field byte ranges into a window, the
 * faults csv-parse would raise, and the field flags. Shared by the scanner, its csv-parse
 * emulation and the readers, so none of them imports another for types.
 */

/** A plain field: its bytes are the value. */
export const FIELD_PLAIN = 0;
/** A quoted field holding `""` escapes: decode, then replace `""` with `"`. */
export const FIELD_ESCAPED = 1;
/** A field whose bytes are in {@link ScannedRecord.overrides} (only after irregular quoting). */
export const FIELD_OVERRIDE = 2;

/** An error csv-parse would raise inside a record. */
export interface ScanFault {
  /** csv-parse's code, e.g. `INVALID_OPENING_QUOTE`, `CSV_QUOTE_NOT_CLOSED`. */
  code: string;
  message: string;
  /** csv-parse's `info.lines` when it raised the error. */
  line: number;
  /** Where the raw text of the record ends at that moment (exclusive), in the window. */
  rawEnd: number;
}

/** The current record, as the scanner describes it to its sink. */
export interface ScannedRecord {
  /** The bytes the current record lies in. */
  readonly window: Buffer;
  /** Absolute byte offset of `window[0]` in the input. */
  readonly windowBase: number;
  /** Start of the current record in `window`. */
  readonly recordStart: number;
  /** Fields of the current record: starts, ends, flags (see FIELD_*). */
  readonly fieldStarts: Int32Array;
  readonly fieldEnds: Int32Array;
  readonly fieldFlags: Uint8Array;
  /** Number of fields of the current record. */
  readonly fieldCount: number;
  /** Bytes of FIELD_OVERRIDE fields, by field index. */
  readonly overrides: Map<number, Uint8Array> | undefined;
  /** True when csv-parse would mark the current record as erroneous (it is then dropped). */
  readonly hasError: boolean;
  /** True when the current record was cut at its line's end after a broken quote (`recover`). */
  readonly recovered: boolean;
  /** csv-parse's `info.lines` at the end of the current record. */
  readonly line: number;
  /** Where the raw text of the current record ends (exclusive) in `window`. */
  readonly rawEnd: number;
  /** Absolute byte offset just after the current record (its delimiter included). */
  readonly endByte: number;
}

/** Receives what the scanner finds. */
export interface ScanSink {
  /** A complete record. */
  record(record: ScannedRecord): void;
  /** Errors of a record (in order), given before its record() or at the end of input. */
  faults(record: ScannedRecord, faults: ScanFault[]): void;
}
