/**
 * fromParquet's readers: opening the file for the stage ({@link openStageReader}), and one
 * reader per output path (row objects, or Arrow record batches) behind {@link ParquetBatchReader}.
 * Both start at the row a resumed run starts at (read/resume.ts): the file reader skips whole
 * row groups without decoding them.
 */
import { Batch } from '../../../core/batch.ts';
import { SpillwayError, withContext } from '../../../core/errors.ts';
import type { StageStats } from '../../../core/stage.ts';
import { rowGroupPruner } from '../../../dataset/pushdown.ts';
import { pagePruner } from '../../../dataset/page-pushdown.ts';
import { loadParquetReader, parquetReaderLoaded } from '../load.ts';
import type { ParquetReader } from '../reader.ts';
import type { ParquetArrowBatch } from './file-batches.ts';
import { arrowRangeCause } from './arrow-range.ts';
import type { ParquetPlan } from './options.ts';

/** Where a read starts: rows before it, and the index of its first batch. */
export interface ParquetStart {
  rows: number;
  index: number;
}

/** Live counters of a fromParquet source (progress reads them). */
export interface ParquetCounters {
  rowsRead: number;
  totalRows: number | undefined;
  totalBytes: number | undefined;
  groupsRead: number;
  numGroups: number;
  /** Why a negotiated Arrow read went on as rows, and from which row (see {@link ParquetArrowReader}). */
  rowsFrom?: string;
}

/** A Parquet batch reader: one per output path. */
export interface ParquetBatchReader {
  /** The batches of `reader` from `start` on. */
  read(reader: ParquetReader, start: ParquetStart): AsyncGenerator<Batch<Record<string, unknown>>>;
}

/**
 * Column types whose Arrow form may refuse a value the rows path reads (read/arrow-json.ts: JSON
 * text that must give the value back), or that Arrow carries as JSON text where rows have the
 * value: the source reads them as rows. A JSON column is not one: its Arrow form is the file's
 * own text (exact, where rows round numbers no double holds), parsed for stages that read rows. Every other column is handed to stages as the rows path
 * hands it, through row views or rows made from the batch (test/sources/fromParquet-negotiate.test.ts).
 * INT96 (Spark's, Impala's and Hive's timestamps) reads as Arrow: kept on rows, it put every other
 * column of such a file on rows too (a FLOAT written back as DOUBLE); a value past the years
 * 1677-2262, which no Arrow nanosecond timestamp holds (Spark's 9999-12-31 "valid to" sentinels),
 * sends the rest of a negotiated read to rows, and fails a read that asked for Arrow with a coded
 * error that says to read with `output: 'rows'`.
 */
const ROWS_ONLY = new Set(['interval', 'variant', 'unknown']);

/**
 * The first column a negotiated Arrow read could not hand on as the rows path does (see
 * {@link ROWS_ONLY}), so the source reads rows, with why; a column {@link ParquetReader.arrowRefusals}
 * names too. Undefined when Arrow gives every stage the rows path's values: then decimals keep
 * their type and order (rows hold them as exact strings, which would sort and be written as text).
 */
export function rowsOnlyColumn(reader: ParquetReader): { name: string; why: string } | undefined {
  return rowsOnlyColumns(reader)[0];
}

/** Every column {@link rowsOnlyColumn} would name (a dataset checks them against its projection). */
export function rowsOnlyColumns(reader: ParquetReader): { name: string; why: string }[] {
  const byType = reader.columns
    .filter((c) => ROWS_ONLY.has(c.type))
    .map((c) => ({ name: c.name, why: `column \`${c.name}\` (${c.annotation ?? c.type}) is read as rows` }));
  const planned = new Set(byType.map((c) => c.name));
  const refused = reader
    .arrowRefusals()
    .filter((r) => !planned.has(r.column))
    .map((r) => ({ name: r.column, why: `column \`${r.column}\` is read as rows: ${r.why}` }));
  return [...byType, ...refused];
}

/** Adds the stage and file to a reader error (a foreign error is translated first), keeping the error itself. */
export function parquetError(plan: ParquetPlan, error: unknown): Error {
  const e = error instanceof SpillwayError ? error : parquetReaderLoaded()!.translateError(error, plan.path);
  return withContext(e, { stage: plan.stage, file: plan.path });
}

/** Loads the decoder (when the stage opens, not when spillway is imported), opens the file, notes it in stats. */
export async function openStageReader(plan: ParquetPlan, stats: StageStats): Promise<ParquetReader> {
  const { openParquet } = await loadParquetReader();
  let reader: ParquetReader;
  try {
    const { pruneWhere, columns, maxNestedPageValues } = plan;
    const rowGroupFilter = pruneWhere === undefined ? undefined : rowGroupPruner(pruneWhere, columns, stats);
    const pageFilter = pruneWhere === undefined ? undefined : pagePruner(pruneWhere, stats);
    reader = await openParquet(plan.path, {
      int64: plan.int64,
      batchSize: plan.batchSize,
      invalidUtf8: plan.invalidUtf8,
      ...(maxNestedPageValues === undefined ? {} : { maxNestedPageValues }),
      ...(columns ? { columns } : {}),
      // a dataset's filter reads its own columns: no projection beside it
      ...(!columns && plan.project && pruneWhere === undefined ? { projectIfPresent: plan.project } : {}),
      ...(rowGroupFilter ? { rowGroupFilter } : {}),
      ...(pageFilter ? { pageFilter } : {}),
    });
  } catch (error) {
    throw parquetError(plan, error);
  }
  stats.details.rowGroups = reader.numRowGroups;
  // columns whose names were empty or repeated in the file, and the names they were given
  if (reader.renamed.length > 0)
    stats.details.renamedColumns = reader.renamed
      .map((r) => `${r.from === '' ? '(empty)' : r.from} -> ${r.to}`)
      .join(', ');
  if (reader.statisticsIgnored) stats.details.statisticsIgnored = true;
  return reader;
}

/**
 * A read from the file's start that yielded no row (a file of no rows, or every row group pruned
 * by a filter): its reader yields one batch of no rows that carries its columns, so that a sink
 * still writes them (a CSV header, an Arrow or Parquet schema). In a dataset the dataset keeps it
 * only when no file gives a row (multi-file.ts).
 */
function noRows(yielded: boolean, start: ParquetStart): boolean {
  return !yielded && start.rows === 0;
}

/**
 * That batch: Arrow, on either output path (no rows, so no value a row would show differently),
 * with the file's schema; names alone when a column has no Arrow type.
 */
function emptyBatch(plan: ParquetPlan, reader: ParquetReader, index: number): Batch<Record<string, unknown>> {
  const position = { source: plan.path, index, rowStart: 0 };
  try {
    return Batch.fromArrow(reader.emptyRecordBatch(), position) as Batch<Record<string, unknown>>;
  } catch {
    return new Batch(
      [],
      position,
      0,
      reader.columns.map((c) => c.name),
    );
  }
}

/** Batches of row objects. */
export class ParquetRowsReader implements ParquetBatchReader {
  readonly #plan: ParquetPlan;
  readonly #counters: ParquetCounters;

  constructor(plan: ParquetPlan, counters: ParquetCounters) {
    this.#plan = plan;
    this.#counters = counters;
  }

  /** @param yielded batches were handed on before `start` (an Arrow read that went on as rows) */
  async *read(
    reader: ParquetReader,
    start: ParquetStart,
    yielded = false,
  ): AsyncGenerator<Batch<Record<string, unknown>>> {
    let index = start.index;
    // the names go with the rows: a filter after this source that keeps no row still has them
    const names = reader.columns.map((c) => c.name);
    for await (const part of reader.batches(start.rows)) {
      this.#counters.groupsRead = part.rowGroup + 1;
      // a row group whose pages a filter skipped: no rows (the end gives the columns)
      if (part.rows.length === 0) continue;
      const position = { source: this.#plan.path, index: index++, rowStart: part.rowStart };
      const batch = new Batch(part.rows, position, undefined, names);
      this.#counters.rowsRead = part.rowStart + part.rows.length;
      yield batch;
    }
    if (noRows(yielded || index !== start.index, start)) yield emptyBatch(this.#plan, reader, index);
  }
}

/**
 * Batches holding an Arrow RecordBatch built from the decoded pages. With `rowsOnRange` (the
 * pipeline chose Arrow, the user did not), a value Arrow cannot hold (read/arrow-leaf.ts
 * `ArrowRangeError`) sends the rest of the file to the rows path from the first row not yet
 * handed on: every stage takes rows, so the run goes on with the rows path's values, and
 * `rowsFrom` says why and where.
 */
export class ParquetArrowReader implements ParquetBatchReader {
  readonly #plan: ParquetPlan;
  readonly #counters: ParquetCounters;
  readonly #rowsOnRange: boolean;

  constructor(plan: ParquetPlan, counters: ParquetCounters, rowsOnRange = false) {
    this.#plan = plan;
    this.#counters = counters;
    this.#rowsOnRange = rowsOnRange;
  }

  async *read(reader: ParquetReader, start: ParquetStart): AsyncGenerator<Batch<Record<string, unknown>>> {
    let index = start.index;
    let next = start.rows;
    // iterated by hand, to catch the decoder's error alone; closed as for-await would close it
    const parts = reader.recordBatches(start.rows)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let part: IteratorResult<ParquetArrowBatch>;
        try {
          part = await parts.next();
        } catch (error) {
          const range = this.#rowsOnRange ? arrowRangeCause(error) : undefined;
          if (range === undefined) throw error;
          this.#counters.rowsFrom = `row ${next}: ${range.message.replace(/; read it with output 'rows'.*$/, '')}`;
          const rows = new ParquetRowsReader(this.#plan, this.#counters);
          yield* rows.read(reader, { rows: next, index }, index !== start.index);
          return;
        }
        if (part.done) break;
        const { rowGroup, rowStart, batch: arrow } = part.value;
        this.#counters.groupsRead = rowGroup + 1;
        const position = { source: this.#plan.path, index: index++, rowStart };
        const batch = Batch.fromArrow(arrow, position) as Batch<Record<string, unknown>>;
        next = rowStart + arrow.numRows;
        this.#counters.rowsRead = next;
        yield batch;
      }
    } finally {
      await parts.return?.(undefined);
    }
    if (noRows(index !== start.index, start)) yield emptyBatch(this.#plan, reader, index);
  }
}
