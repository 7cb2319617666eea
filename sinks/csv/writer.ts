/**
 * The writer behind `toCsv`: opens the byte output on the first batch, fixes the columns from
 * the first rows (refusing a later key the header lacks), and formats each batch with the fast
 * formatter for the common dialects or csv-stringify for the rest. Checkpoints go through
 * sinks/csv/resume.ts.
 */
import { RequiredColumns } from '../../lib/operators/required-columns.ts';
import type { Options as CsvStringifyOptions } from 'csv-stringify/sync';
import type { Batch, Row } from '../../lib/core/batch.ts';
import { FormatError } from '../../lib/core/errors.ts';
import { LONE_SURROGATE_HINT, wellFormed } from '../../lib/formats/values.ts';
import { RowViewer, isViewable } from '../../lib/core/row-view.ts';
import { stringify } from '../../lib/formats/csv/stringify.ts';
import { arrowCsvText } from '../../lib/formats/csv/arrow-text.ts';
import { dateStyleOf, type DateStyle } from '../../lib/formats/csv/date-style.ts';
import type { RecordBatch } from 'apache-arrow';
import {
  csvFormatter,
  csvHeader,
  fastCsvFormat,
  stringifyCast,
  type CsvFormat,
  type RowFormatter,
} from '../../lib/formats/csv/format.ts';
import { openByteOutput, type ByteOutput, type ByteOutputResume } from '../../lib/io/byte-output.ts';
import type { CsvSinkSettings, ToCsvResult } from './options.ts';
import type { CommitPoint } from '../../lib/io/commit-point.ts';

/** What a checkpoint records of a `toCsv` run besides the temporary file. */
export interface CsvProgress {
  rows: number;
  columns: string[] | null;
  objectRows: boolean | null;
}

/** One `toCsv` run: the output, the columns fixed so far, and the rows written. */
export class CsvSinkWriter {
  static readonly stage = 'toCsv';
  #output: ByteOutput | undefined;
  /** The output being opened: an abort that lands meanwhile waits for it, or its file would stay. */
  #opening: Promise<ByteOutput> | undefined;
  #columns: string[] | undefined;
  #known: Set<string> | undefined;
  #rows = 0;
  #objectRows: boolean | undefined;
  /** Checkpoints: the temporary file to continue. */
  #resumeFrom: ByteOutputResume | undefined;
  /** Set by the checkpoint driver: a failed run keeps its temporary file for a resumed run. */
  keepForResume = false;
  /** The dialect of the fast formatter, undefined when csv-stringify writes. */
  readonly #fast: CsvFormat | undefined;
  #formatter: RowFormatter | undefined;
  /** csv-stringify's casts, when it writes. */
  #cast: CsvStringifyOptions['cast'];
  /** The formatter of Arrow batches whose columns' Dates are styled, and their styles. */
  #styled: RowFormatter | undefined;
  #stylesOf: DateStyle[] | null | undefined;
  #viewer: RowViewer | undefined;
  /** `options.columns` checked against the input: a name no row has is a typo, not an empty column. */
  readonly #required: RequiredColumns | undefined;

  /** `settings` from resolveCsvOptions. */
  constructor(readonly settings: CsvSinkSettings) {
    this.#columns = settings.columns ? [...settings.columns] : undefined;
    this.#required = settings.columns
      ? new RequiredColumns(
          CsvSinkWriter.stage,
          settings.columns.map((name) => ({ name, role: 'column' })),
        )
      : undefined;
    const dialect = fastCsvFormat(settings.stringifyOptions);
    this.#fast = dialect ? { ...dialect, binary: settings.binary } : undefined;
  }

  #open(): Promise<ByteOutput> {
    const { target, gzip } = this.settings;
    return openByteOutput(target, { gzip, stage: CsvSinkWriter.stage, resume: this.#resumeFrom });
  }

  async #ensureOpen(): Promise<ByteOutput> {
    this.#opening ??= this.#open();
    this.#output ??= await this.#opening;
    return this.#output;
  }

  /** Formats a batch: the fast formatter for the common dialects, csv-stringify for the rest. */
  #format(batchRows: Iterable<Row>, withHeader: boolean, arrow?: RecordBatch): string {
    const fast = this.#fast;
    const columns = this.#objectRows ? this.#columns : undefined;
    if (fast === undefined) return stringify(batchRows as unknown[], this.#stringifyOptions(withHeader, columns));
    const styles = arrow && columns ? this.#dateStyles(arrow, columns) : undefined;
    const formatter =
      styles === undefined
        ? (this.#formatter ??= csvFormatter(fast, columns))
        : (this.#styled ??= csvFormatter(fast, columns, styles));
    return (withHeader && this.#columns ? csvHeader(fast, this.#columns) : '') + formatter(batchRows);
  }

  /**
   * csv-stringify's options: the caller's, with toCsv's casts (nested values as toJsonl's JSON:
   * format.ts's stringifyCast).
   */
  #stringifyOptions(header: boolean, columns: readonly string[] | undefined): CsvStringifyOptions {
    const { stringifyOptions, binary } = this.settings;
    this.#cast ??= stringifyCast(binary);
    return { ...stringifyOptions, cast: this.#cast, header, columns } as CsvStringifyOptions;
  }

  /**
   * How the Dates of an Arrow batch's columns are written (date-style.ts: a DATE as its day, a
   * zone-less TIMESTAMP as wall-clock time), or undefined when every column's are instants.
   * Fixed by the first Arrow batch with such a column: a file's columns keep one type.
   */
  #dateStyles(arrow: RecordBatch, columns: readonly string[]): DateStyle[] | undefined {
    if (this.#stylesOf === undefined) {
      const types = new Map(arrow.schema.fields.map((f) => [f.name, f.type]));
      const styles = columns.map((name) => {
        const type = types.get(name);
        return type === undefined ? undefined : dateStyleOf(type);
      });
      this.#stylesOf = styles.every((s) => s === undefined) ? null : styles;
    }
    return this.#stylesOf ?? undefined;
  }

  /**
   * The rows of an Arrow batch as one reused read-only view each (no object per row), when the
   * fast formatter writes. A filter's kept rows are viewed where they are in its source batch,
   * not copied out first.
   */
  #views(batch: Batch): Iterable<Row> | undefined {
    if (this.#fast === undefined || batch.hasRows || !batch.hasArrow) return undefined;
    const selection = batch.selection;
    const recordBatch = selection?.source ?? batch.arrow;
    if (!isViewable(recordBatch)) return undefined;
    if (this.#viewer?.fits(recordBatch)) this.#viewer.bind(recordBatch);
    else this.#viewer = new RowViewer(recordBatch);
    const v = this.#viewer;
    const at = selection?.indices;
    const count = at?.length ?? recordBatch.numRows;
    return {
      *[Symbol.iterator]() {
        for (let i = 0; i < count; i++) yield v.at(at === undefined ? i : at[i]!);
      },
    };
  }

  /** The CSV bytes of an Arrow batch (a selection's kept rows where they are), when arrow-text.ts writes all its columns. */
  #arrowText(batch: Batch): Buffer | undefined {
    const columns = this.#columns;
    if (this.#fast === undefined || columns === undefined) return undefined;
    const selection = batch.selection;
    return arrowCsvText(selection?.source ?? batch.arrow, selection?.indices, this.#fast, columns);
  }

  /**
   * A key the header lacks would be dropped silently by csv-stringify: refuse instead. A row
   * whose keys are the header's, in its order (most rows: they come from one source), needs no
   * look-up per key; a row in another order is checked key by key.
   */
  #checkKeys(sample: readonly Row[], batch: number): void {
    const columns = this.#columns ?? [];
    for (const row of sample) {
      let k = 0;
      let inOrder = true;
      for (const key in row) {
        if (key !== columns[k++]) {
          inOrder = false;
          break;
        }
      }
      if (!inOrder) this.#checkEachKey(row, batch);
    }
  }

  /** The error for the first cell of `rows` whose text UTF-8 cannot encode (nested cells are JSON, which escapes it). */
  #loneSurrogate(rows: Iterable<Row>, batch: number): FormatError {
    let at = 0;
    for (const row of rows) {
      for (const [key, value] of Object.entries(row)) {
        if (typeof value === 'string' && !wellFormed(value))
          return new FormatError(`Column \`${key}\` holds text with ${LONE_SURROGATE_HINT}`, {
            stage: CsvSinkWriter.stage,
            file: this.settings.path,
            batch,
            rowInBatch: at,
          });
      }
      at++;
    }
    return new FormatError(`A row holds text with ${LONE_SURROGATE_HINT}`, {
      stage: CsvSinkWriter.stage,
      file: this.settings.path,
      batch,
    });
  }

  /** Throws when `row` has a key the header lacks. */
  #checkEachKey(row: Row, batch: number): void {
    this.#known ??= new Set(this.#columns);
    for (const key in row) {
      if (!this.#known.has(key)) {
        throw new FormatError(
          `row has column \`${key}\`, which the CSV header [${this.#columns?.join(',')}] lacks; pass options.columns to choose the columns`,
          { stage: CsvSinkWriter.stage, file: this.settings.path, batch },
        );
      }
    }
  }

  /** Writes one batch (the header before the first rows); `signal` ends a wait on a caller's stream. */
  async write(batch: Batch, signal?: AbortSignal): Promise<void> {
    const output = await this.#ensureOpen();
    const count = batch.numRows;
    if (count === 0) {
      // a source of no rows still names its columns (a Parquet file of none): the finish writes the header
      this.#columns ??= batch.columns
        ? [...batch.columns]
        : batch.hasArrow
          ? batch.arrow.schema.names.map(String)
          : undefined;
      return;
    }
    const viewed = this.#views(batch);
    const batchRows: Iterable<Row> = viewed ?? batch.rows;
    // a view batch's rows all have its columns: its first row stands for all
    const sample = viewed ? [this.#viewer!.at(0)] : (batchRows as Row[]);
    this.#objectRows ??= !Array.isArray(sample[0]);
    let first = false;
    if (this.#objectRows && this.#columns === undefined) {
      // the source's column list when it has one (object keys put integer-like names first)
      this.#columns = batch.columns ? [...batch.columns] : keysOf(sample);
      first = true;
    } else if (this.#rows === 0) first = true;
    if (this.#objectRows && this.settings.columns === undefined) this.#checkKeys(sample, batch.position.index);
    if (this.#objectRows) this.#required?.note(batch);
    const withHeader = this.settings.header && first && this.#objectRows;
    // Arrow rows written from their buffers where the text cannot differ (arrow-text.ts), else formatted
    const bytes = viewed && this.#objectRows ? this.#arrowText(batch) : undefined;
    if (bytes === undefined) {
      const arrow = viewed ? (batch.selection?.source ?? batch.arrow) : undefined;
      const text = this.#format(batchRows, withHeader, arrow);
      if (!wellFormed(text)) throw this.#loneSurrogate(batchRows, batch.position.index);
      this.#rows += count;
      await output.write(text, signal);
      return;
    }
    if (withHeader && this.#columns) await output.write(csvHeader(this.#fast!, this.#columns), signal);
    this.#rows += count;
    await output.write(bytes, signal);
  }

  /** Writes the header of an empty file if due, then commits the output. */
  async finish(point?: CommitPoint): Promise<ToCsvResult> {
    const output = await this.#ensureOpen();
    if (this.#objectRows) this.#required?.finish();
    const columns = this.#columns;
    if (this.#rows === 0 && this.settings.header && columns) {
      const fast = this.#fast;
      // the header csv-stringify writes before rows: the caller's options and the casts too
      await output.write(fast ? csvHeader(fast, columns) : stringify([], this.#stringifyOptions(true, columns)));
    }
    const bytes = await output.commit(point);
    return { path: this.settings.path, rows: this.#rows, bytes, columns };
  }

  /** Removes the temporary file, or only closes it when a resumed run is to continue it. */
  async abort(error: Error | null): Promise<void> {
    const output = this.#output ?? (await this.#opening?.catch(() => undefined));
    if (this.keepForResume && output?.release) await output.release();
    else await output?.abort(error);
  }

  /** The progress and the synced temporary file, or null before anything was written. */
  async sync(): Promise<(CsvProgress & { tempPath: string; length: number }) | null> {
    // snapshot first (writes go on during the fsync)
    if (this.#output === undefined) return null;
    const state: CsvProgress = {
      rows: this.#rows,
      columns: this.#columns ?? null,
      objectRows: this.#objectRows ?? null,
    };
    const { tempPath, length } = await this.#output.sync!();
    return { ...state, tempPath, length };
  }

  /** Continues the temporary file a checkpoint left, with its progress. */
  async restore(from: ByteOutputResume, progress: CsvProgress): Promise<void> {
    this.#resumeFrom = from;
    this.#rows = progress.rows;
    if (progress.columns) this.#columns = progress.columns;
    if (progress.objectRows !== null) this.#objectRows = progress.objectRows;
    this.#opening = this.#open();
    this.#output = await this.#opening;
  }
}

/** Column names of object rows, in order of first appearance. */
function keysOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key in row) seen.add(key);
  return [...seen];
}
