/**
 * What fromCsv's two readers share: the {@link CsvReader} interface (the fast byte scanner and
 * csv-parse behind it), the settled plan they read with ({@link CsvReadSpec}), and {@link CsvRun},
 * which owns what one read has beside parsing: batch positions, the batch sizer, the error policy
 * and dead-letter file, and the counters progress reads.
 */
import type { CsvError } from 'csv-parse';
import { Batch, type Row, type SniffedTypes } from '../../../core/batch.ts';
import { batchSizer } from '../../../memory/batch-size.ts';
import { DeadLetterFile } from '../../../io/dead-letter.ts';
import { CsvParseError, IoError } from '../../../core/errors.ts';
import type { StageContext, StageStats } from '../../../core/stage.ts';
import { absoluteLines, isStreamFailure } from '../fast/source.ts';
import type { CsvPlan } from './options.ts';
import type { CsvEncoding } from './encoding.ts';

/** Where a read starts: after a preamble, or just after the record a checkpoint ends at. */
export interface CsvStart {
  /** Byte offset in the (decompressed) file. */
  byte: number;
  /** Lines before `byte`. */
  line: number;
  /** Index of the first batch. */
  index: number;
  /** Rows before it. */
  rows: number;
  /** Column names read by an earlier run (the header is behind `byte`), else null. */
  columns: string[] | null;
}

/** The settled dialect and casts a reader reads with. */
export interface CsvReadSpec {
  plan: CsvPlan;
  /** csv-parse options (given, plus the sniffed dialect). */
  parseOptions: Record<string, unknown>;
  /** The file's encoding, settled (the option, or what its byte order mark names). */
  encoding: CsvEncoding;
  /** csv-parse's `columns`: a header hook, false (arrays) or names. */
  columns: false | string[] | ((header: string[]) => string[]);
  infer: boolean;
  castRow: ((row: Record<string, unknown> | unknown[]) => void) | undefined;
  /** Fill only these columns (Arrow output; see CsvPlan.project). */
  project: readonly string[] | undefined;
  start: CsvStart;
  /** Skip empty lines. */
  skipBlankLines: boolean;
  /** Strip a BOM (only when reading from byte 0). */
  bom: boolean;
  /** Track exact record ends (checkpointing). */
  tracking: boolean;
  /** Types the sniffer detected, which the batches' Arrow form takes (Batch's `sniffed`). */
  sniffed?: SniffedTypes;
  /** The column names once known, for batches. */
  names: () => readonly string[] | undefined;
}

/** A CSV reader: one per parsing path. */
export interface CsvReader {
  /** `fast` or `csv-parse`, for stats. */
  readonly kind: string;
  /** Reads batches as `spec` says, reporting through `run`. */
  read(context: StageContext, run: CsvRun, spec: CsvReadSpec): AsyncGenerator<Batch<Row>>;
}

/** Live counters of a fromCsv source (progress reads them). */
export interface CsvCounters {
  rows: number;
  /** Bytes of the file read by the current reader. */
  bytesRead: () => number;
}

/** One read of a CSV source: positions, sizes, bad records; see the module comment. */
export class CsvRun {
  readonly stats: StageStats;
  readonly plan: CsvPlan;
  readonly sizer: ReturnType<typeof batchSizer>;
  batchSize: number;
  index: number;
  line: number;
  readonly lineBase: number;
  readonly byteBase: number;
  readonly deadLetter: DeadLetterFile | undefined;
  readonly #counters: CsvCounters;

  constructor(plan: CsvPlan, context: StageContext, stats: StageStats, start: CsvStart, counters: CsvCounters) {
    this.plan = plan;
    this.stats = stats;
    this.sizer = batchSizer(
      plan.batchSize,
      'options.batchSize',
      { initial: 2048, min: 256, max: 65536, budget: 1e6 },
      context.governor,
    );
    this.batchSize = this.sizer.next();
    this.index = start.index;
    this.lineBase = start.line;
    this.byteBase = start.byte;
    this.line = start.line + 1;
    this.#counters = counters;
    counters.rows = start.rows;
    this.deadLetter =
      typeof plan.policy === 'object' ? new DeadLetterFile(plan.policy.deadLetter, plan.file) : undefined;
  }

  /** A bad record (skip mode): counted, and written to the dead-letter file when there is one. */
  onBad = (error: Error, line: number | undefined, raw: string | undefined): void => {
    this.stats.rowsSkipped++;
    if (line !== undefined) line += this.lineBase;
    if (this.deadLetter) {
      this.stats.rowsDeadLettered++;
      const { stageName, where } = this.plan;
      // appended without a promise (a parser callback cannot await); readers await ready() before
      // each batch: backpressure, and a full disk becomes the stage's error
      this.deadLetter.append({
        stage: stageName,
        reason: absoluteLines(error.message, this.lineBase),
        code: (error as CsvError).code,
        file: where,
        line,
        // the record's text without its line end (\n, \r\n or \r: the readers hand it on, or part of it)
        raw: raw?.replace(/(\r\n|\n|\r)$/, ''),
      });
    }
  };

  /** Wraps rows or Arrow ending at `endLine`/`endByte` (relative to the start) as the next batch. */
  batch(
    done: { rows?: Row[]; arrow?: Batch['arrow']; numRows: number; endLine: number; endByte: number },
    names: readonly string[] | undefined,
    sniffed?: SniffedTypes,
  ): Batch<Row> {
    const position = {
      source: this.plan.where,
      index: this.index++,
      rowStart: this.#counters.rows,
      line: this.line,
      endLine: this.lineBase + done.endLine,
      endByte: this.byteBase + done.endByte,
    };
    const batch = done.arrow
      ? (Batch.fromArrow(done.arrow, position) as Batch<Row>)
      : new Batch(done.rows!, position, undefined, names, sniffed);
    this.#counters.rows += done.numRows;
    this.line = this.lineBase + done.endLine + 1;
    this.sizer.observe(batch.numRows, batch.bytes);
    return batch;
  }

  /** Asks the sizer for the next batch's size (after a batch was taken). */
  nextSize(): number {
    this.batchSize = this.sizer.next();
    return this.batchSize;
  }

  /** Resolves when the dead-letter file has room (rejects with its write failure, e.g. a full disk). */
  async ready(): Promise<void> {
    await this.deadLetter?.ready();
  }

  /** Waits for dead letters and closes their file; records the sizes chosen. */
  async finish(): Promise<void> {
    this.sizer.record(this.stats.details);
    await this.deadLetter?.ready();
    await this.deadLetter?.close();
  }

  /** Closes the dead-letter file after a failure. */
  async close(): Promise<void> {
    await this.deadLetter?.close().catch(() => undefined);
  }

  /** A cast failure in fail mode is a CsvParseError at its line. */
  castError(error: Error, line: number): CsvParseError {
    return new CsvParseError(
      error.message,
      { stage: this.plan.stageName, file: this.plan.where, line: this.lineBase + line },
      undefined,
      { cause: error },
    );
  }

  /** Wraps a parser or I/O error as CsvParseError (with the file's line) or IoError. */
  wrap(error: Error, byteOffset: number | undefined): Error {
    if (error instanceof CsvParseError || error instanceof IoError) return error;
    const e = error as CsvError & { lines?: number; errno?: unknown };
    const { stageName, where } = this.plan;
    if ((typeof e.code === 'string' && e.code.startsWith('CSV_')) || (e.code as string) === 'INVALID_OPENING_QUOTE') {
      return new CsvParseError(
        `${e.code}: ${absoluteLines(error.message, this.lineBase)}`,
        {
          stage: stageName,
          file: where,
          line: e.lines === undefined ? undefined : this.lineBase + e.lines,
          batch: this.index,
        },
        undefined,
        { cause: error },
      );
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (
      typeof e.errno === 'number' ||
      code === 'Z_DATA_ERROR' ||
      code === 'Z_BUF_ERROR' ||
      isStreamFailure(error) ||
      /zstd|Unknown frame descriptor/i.test(error.message)
    ) {
      return new IoError(
        `Cannot read ${where}: ${error.message}`,
        { stage: stageName, file: where, byteOffset },
        { cause: error },
      );
    }
    return error;
  }
}
