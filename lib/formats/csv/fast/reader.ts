/**
 * The fast CSV path: {@link CsvScanner} records turned into batches (rows, or Arrow columns),
 * with csv-parse's record rules on top: the header line, the record length check
 * (CSV_RECORD_INCONSISTENT_COLUMNS / _FIELDS_LENGTH), skip-mode error reporting with the raw
 * text, and `cast`. Free of streams: push chunks, end, take batches.
 */
import { CsvRecordError } from './record-error.ts';
import type { RecordBatch } from 'apache-arrow';
import type { Row } from '../../../core/batch.ts';
import { CastFailure } from '../cast.ts';
import { CsvScanner } from './scanner.ts';
import type { ScanFault, ScannedRecord, ScanSink } from './scan-types.ts';
import { CellDecoder } from './cells.ts';
import { invalidUtf8Message, isValidUtf8 } from './utf8.ts';
import { FIELD_OVERRIDE } from './scan-types.ts';
import type { CellScratch } from './cell-store.ts';
import { ColumnBatch, assignRow, literalRows } from './columns.ts';
import { ProjectedRecord } from './projected-record.ts';
import { maxBatchTextBytes, rowsPerBatch } from './limits.ts';

/** Options of {@link FastCsvReader}. */
export interface FastCsvOptions {
  /** The delimiter byte (default `,`). */
  delimiter?: number;
  /** As csv-parse's `columns`: `true` (header line), `false` (array rows), names, or a function of the header. */
  columns: boolean | readonly string[] | ((header: string[]) => string[]);
  /** `cast: true` inference. */
  infer: boolean;
  /**
   * Fill only these columns, in the file's order (Arrow output with a header; projection
   * pushdown). Not applied when the header lacks one of them: then every column is filled.
   */
  project?: readonly string[];
  /** Called with the columns filled when a projection applies. */
  onProjected?: (columns: readonly string[]) => void;
  /** A declared-schema caster (throws {@link CastFailure}); rows output only. */
  castRow?: (row: Record<string, unknown> | unknown[]) => void;
  /** true: the first error throws; false: bad records are reported to `onBad` and dropped. */
  fail: boolean;
  /** Give `onBad` the raw text of bad records. */
  raw: boolean;
  /** A dropped record (skip mode): the csv-parse error, its line and raw text. */
  onBad: (error: Error, line: number, raw: string | undefined) => void;
  /** A cell that does not fit its declared type: may throw (fail mode) or report. */
  onCastFailure: (error: CastFailure, line: number, raw: string | undefined) => void;
  /** Deliver Arrow batches (`arrow`) or rows (`rows`). */
  output: 'rows' | 'arrow';
  /** Strip a UTF-8 BOM (default true). */
  bom?: boolean;
  /** Skip empty lines, as csv-parse's `skip_empty_lines` (default false). */
  skipBlankLines?: boolean;
  /** Skip mode: a broken quote costs only its own line (see CsvScanner); default false (csv-parse's behaviour). */
  recoverQuotes?: boolean;
  /** See the scanner's `relaxQuotes` (default false, csv-parse's default). */
  relaxQuotes?: boolean | 'opening';
  /** Invalid UTF-8 in a field: a bad record (default, `'error'`) or read with U+FFFD (`'replace'`). */
  invalidUtf8?: 'error' | 'replace';
  /** A comment byte: lines whose first byte after spaces is this one are skipped (as DuckDB). */
  comment?: number;
  /** See the scanner's `inlineComments`: a comment also ends a record (DuckDB's `comment`). */
  inlineComments?: boolean;
}

/** A batch ready to go: rows or Arrow, with where its last record ends. */
export interface FastCsvBatch {
  rows?: Row[];
  arrow?: RecordBatch;
  numRows: number;
  /** csv-parse's line of the last record's end. */
  endLine: number;
  /** Byte offset just after the last record. */
  endByte: number;
}

/** Reads CSV bytes into batches with csv-parse's semantics; see the module comment. */
export class FastCsvReader implements ScanSink {
  /** Rows per batch; may change between batches. */
  batchSize = 2048;
  /** Batches ready to take. */
  readonly ready: FastCsvBatch[] = [];
  readonly #options: FastCsvOptions;
  readonly #scanner: CsvScanner;
  readonly #decoder = new CellDecoder();
  readonly #decode: (f: number) => string;
  #names: string[] | undefined;
  #arrayRows: boolean;
  #expected: number | undefined;
  #headerPending: boolean;
  #carryError = false;
  #records = 0;
  #rows: Row[] = [];
  #columns: ColumnBatch | undefined;
  #arrow: boolean;
  #makeRow: ((values: unknown[]) => Row) | undefined;
  #values: unknown[] = [];
  #endLine = 0;
  #endByte = 0;
  #bytesPerRow = 64;
  /** What one Arrow batch leaves to the next (cell arrays, text sizes). */
  readonly #scratch: CellScratch = {};
  readonly #checkUtf8: boolean;
  #batchStartByte = 0;
  /** The projected view of each record and the names of its columns, when a projection applies. */
  #projection: { record: ProjectedRecord; names: string[]; decode: (c: number) => string } | undefined;

  constructor(options: FastCsvOptions) {
    this.#options = options;
    this.#scanner = new CsvScanner(
      {
        delimiter: options.delimiter ?? 44,
        fail: options.fail,
        bom: options.bom ?? true,
        recover: options.recoverQuotes,
        relaxQuotes: options.relaxQuotes,
        comment: options.comment,
        inlineComments: options.inlineComments,
      },
      this,
    );
    this.#decode = (f) => this.#decoder.text(this.#scanner, f);
    this.#checkUtf8 = options.invalidUtf8 !== 'replace';
    const columns = options.columns;
    this.#arrayRows = columns === false;
    this.#headerPending = columns === true || typeof columns === 'function';
    // before the names: they may turn Arrow off (repeated names) and pick the projection
    this.#arrow = options.output === 'arrow' && options.castRow === undefined;
    if (Array.isArray(columns)) this.#setNames([...(columns as string[])]);
  }

  /** The header (or given names) once known. */
  get columns(): readonly string[] | undefined {
    return this.#names;
  }

  /** The columns filled when a projection applies (see FastCsvOptions.project), else undefined. */
  get projected(): readonly string[] | undefined {
    return this.#projection?.names;
  }

  /** Scans a chunk of bytes. */
  push(chunk: Uint8Array): void {
    this.#scanner.push(chunk);
  }

  /** Ends the input and seals the last partial batch. */
  end(): void {
    this.#scanner.end();
    this.#seal();
  }

  #setNames(names: string[]): void {
    this.#names = names;
    this.#expected = names.length;
    // Arrow needs distinct names; csv-parse's objects keep the first position and the last value
    if (new Set(names).size !== names.length || names.includes('__proto__')) this.#arrow = false;
    this.#projection = undefined;
    const project = this.#options.project;
    if (project === undefined || !this.#arrow || this.#arrayRows || !project.every((n) => names.includes(n))) return;
    const wanted = new Set(project);
    const fields = names.flatMap((name, f) => (wanted.has(name) ? [f] : []));
    if (fields.length === names.length) return;
    const record = new ProjectedRecord(Int32Array.from(fields));
    this.#projection = {
      record,
      names: fields.map((f) => names[f]!),
      decode: (c) => this.#decode(record.fields[c]!),
    };
    this.#options.onProjected?.(this.#projection.names);
  }

  faults(scanner: ScannedRecord, faults: ScanFault[]): void {
    for (const f of faults) {
      const error = new CsvRecordError(f.code, f.message, f.line);
      if (this.#options.fail) throw error;
      this.#options.onBad(error, f.line, this.#options.raw ? this.#decoder.raw(scanner, f.rawEnd) : undefined);
    }
  }

  record(s: ScannedRecord): void {
    const n = s.fieldCount;
    if (
      n === 1 &&
      this.#options.skipBlankLines &&
      !s.hasError &&
      s.fieldStarts[0] === s.recordStart &&
      s.fieldEnds[0] === s.recordStart
    )
      return;
    if (this.#checkUtf8 && n > 0 && s.fieldEnds[n - 1]! > this.#decoder.validUtf8(s) && !this.#utf8Fields(s)) return;
    if (this.#headerPending) {
      this.#headerPending = false;
      const header: string[] = [];
      for (let i = 0; i < n; i++) header.push(this.#decode(i));
      const columns = this.#options.columns;
      this.#setNames(typeof columns === 'function' ? columns(header) : header);
      this.#carryError = s.hasError;
      return;
    }
    let hasError = s.hasError || this.#carryError;
    this.#carryError = false;
    if (this.#arrayRows && this.#records === 0) this.#expected = n;
    if (n !== this.#expected && !s.recovered) {
      const error = this.#arrayRows
        ? new CsvRecordError(
            'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH',
            `Invalid Record Length: expect ${this.#expected}, got ${n} on line ${s.line}`,
            s.line,
          )
        : new CsvRecordError(
            'CSV_RECORD_INCONSISTENT_COLUMNS',
            `Invalid Record Length: columns length is ${this.#expected}, got ${n} on line ${s.line}`,
            s.line,
          );
      if (this.#options.fail) throw error;
      this.#options.onBad(error, s.line, this.#options.raw ? this.#decoder.raw(s, s.rawEnd) : undefined);
      hasError = true;
    }
    if (hasError) return;
    this.#records++;
    if (this.#arrow) this.#addToColumns(s, n);
    else {
      const values = this.#values;
      values.length = n;
      if (this.#options.infer) for (let i = 0; i < n; i++) values[i] = this.#decoder.infer(s, i);
      else for (let i = 0; i < n; i++) values[i] = this.#decode(i);
      this.#makeRow ??= this.#arrayRows ? (v) => v.slice() : valuesRowMaker(this.#names!);
      const row = this.#makeRow(values);
      if (this.#options.castRow) {
        try {
          this.#options.castRow(row as Record<string, unknown> | unknown[]);
        } catch (error) {
          if (!(error instanceof CastFailure)) throw error;
          this.#options.onCastFailure(error, s.line, this.#options.raw ? this.#decoder.raw(s, s.rawEnd) : undefined);
          return;
        }
      }
      this.#rows.push(row);
    }
    this.#endLine = s.line;
    this.#endByte = s.endByte;
    if (this.#arrow ? this.#fullColumns(n) : this.#rows.length >= rowsPerBatch(this.batchSize, n)) this.#seal();
  }

  /**
   * The Arrow batch being filled has its rows, or as much text as one batch may hold: counted by
   * the batch's input bytes, free to read here (summing the columns' text per row cost the README
   * pipeline 4-7%), tripled for the worst a cell's text can grow (a byte that is not UTF-8, decoded
   * in a rewritten field, is the three bytes of U+FFFD); an escaped quote only shrinks it.
   */
  #fullColumns(n: number): boolean {
    return (
      this.#columns!.numRows >= rowsPerBatch(this.batchSize, n) ||
      (this.#endByte - this.#batchStartByte) * 3 >= maxBatchTextBytes()
    );
  }

  /** Appends a good record to the Arrow batch being filled (its projected columns only, when projecting). */
  #addToColumns(s: ScannedRecord, n: number): void {
    if (this.#columns === undefined) {
      if (this.#arrayRows) this.#names ??= Array.from({ length: n }, (_, i) => String(i));
      this.#columns = new ColumnBatch(
        this.#projection?.names ?? this.#names!,
        this.#arrayRows,
        this.#options.infer,
        rowsPerBatch(this.batchSize, n),
        this.#bytesPerRow,
        this.#scratch,
      );
      this.#batchStartByte = this.#endByte;
    }
    const projection = this.#projection;
    if (projection) this.#columns.add(projection.record.of(s), this.#decoder.ascii(s), projection.decode);
    else this.#columns.add(s, this.#decoder.ascii(s), this.#decode);
  }

  /**
   * Checks each field of a record whose window is not all valid UTF-8: false when a field is not
   * (skip mode: reported and dropped); throws in fail mode and for the header.
   */
  #utf8Fields(s: ScannedRecord): boolean {
    for (let i = 0; i < s.fieldCount; i++) {
      const bytes =
        s.fieldFlags[i] === FIELD_OVERRIDE ? s.overrides!.get(i)! : s.window.subarray(s.fieldStarts[i], s.fieldEnds[i]);
      if (isValidUtf8(bytes)) continue;
      const name = this.#headerPending
        ? `header field ${i + 1}`
        : `column ${JSON.stringify(this.#names?.[i] ?? String(i))}`;
      const error = new CsvRecordError(
        'CSV_INVALID_UTF8',
        `${invalidUtf8Message(name, bytes)} on line ${s.line}`,
        s.line,
      );
      if (this.#options.fail || this.#headerPending) throw error;
      this.#options.onBad(error, s.line, this.#options.raw ? this.#decoder.raw(s, s.rawEnd) : undefined);
      return false;
    }
    return true;
  }

  #seal(): void {
    if (this.#columns !== undefined) {
      const columns = this.#columns;
      this.#columns = undefined;
      const numRows = columns.numRows;
      if (numRows > 0) this.#bytesPerRow = Math.max(8, Math.ceil((this.#endByte - this.#batchStartByte) / numRows));
      const sealed = columns.seal();
      this.ready.push({ ...sealed, numRows, endLine: this.#endLine, endByte: this.#endByte });
    } else if (this.#rows.length > 0) {
      const rows = this.#rows;
      this.#rows = [];
      this.ready.push({ rows, numRows: rows.length, endLine: this.#endLine, endByte: this.#endByte });
    }
  }
}

/** Builds an object row from an array of values keyed by `names` (an object literal: one hidden class, no defineProperty). */
function valuesRowMaker(names: readonly string[]): (values: unknown[]) => Row {
  if (!literalRows(names)) return (values) => assignRow(names, (c) => values[c]);
  return new Function('v', `return { ${names.map((name, c) => `${JSON.stringify(name)}: v[${c}]`).join(', ')} };`) as (
    values: unknown[],
  ) => Row;
}
