/**
 * The writer behind `toParquet`: opens a {@link ParquetFileWriter} on the first batch, sends
 * Arrow batches column by column and object rows value by value, and names the stage and file
 * in every error. Checkpoints go through sinks/parquet/resume.ts.
 */
import type { Batch } from '../../lib/core/batch.ts';
import type { GovernorGate } from '../../lib/core/stage.ts';
import { FormatError, withContext } from '../../lib/core/errors.ts';
import type { ParquetFileWriter, ParquetWriteOptions } from '../../lib/formats/parquet/writer.ts';
import { lazyImport } from '../../lib/core/lazy-import.ts';
import type { CommitPoint } from '../../lib/io/commit-point.ts';

/** The Parquet file writer (encoder, codecs, Arrow), loaded with the first batch rather than with `import 'spillway'`. */
export const fileWriterModule = lazyImport(() => import('../../lib/formats/parquet/writer.ts'));
/** Output of `toParquet`. */
export interface ToParquetResult {
  /** The file written. */
  path: string;
  rows: number;
  /** Size of the file in bytes. */
  bytes: number;
  rowGroups: number;
}

/** One `toParquet` run: the file writer, opened lazily, and whether a failed run keeps its temporary file. */
export class ParquetSinkWriter {
  static readonly stage = 'toParquet';
  #opening: Promise<ParquetFileWriter> | undefined;
  #writer: ParquetFileWriter | undefined;
  /** Set by the checkpoint driver: a failed run leaves its temporary file for a resumed run. */
  keepForResume = false;

  /** `options` must have passed `checkWriteOptions`. */
  constructor(
    readonly path: string,
    readonly options: ParquetWriteOptions | undefined,
  ) {}

  /** The file writer once open (undefined before the first batch). */
  get current(): ParquetFileWriter | undefined {
    return this.#writer;
  }

  /** `error` with the stage and the file named. */
  withStage(error: unknown): Error {
    return withContext(error as Error, { stage: ParquetSinkWriter.stage, file: this.path });
  }

  async #ensureOpen(): Promise<ParquetFileWriter> {
    this.#opening ??= fileWriterModule
      .load()
      .then(({ ParquetFileWriter }) => ParquetFileWriter.open(this.path, this.options));
    this.#writer ??= await this.#opening;
    return this.#writer;
  }

  /** Continues the file a checkpoint left (see ParquetFileWriter.resume). */
  adopt(writer: ParquetFileWriter): void {
    this.#writer = writer;
    this.#opening = Promise.resolve(writer);
  }

  /** Writes one batch: Arrow column by column (no row objects), else object rows. */
  async write(batch: Batch, governor?: GovernorGate): Promise<void> {
    try {
      const w = await this.#ensureOpen();
      w.governWith(governor);
      // nested columns the Arrow writer cannot write (a list of Decimal256) go through rows, as before
      // a filter's kept rows are written from where they are, not copied out first (arrow-rows.ts)
      const selection = batch.selection;
      if (selection && w.acceptsArrow(selection.source)) {
        await w.writeArrow(selection.source, batch.position.index, selection.indices);
        return;
      }
      // rows whose source knows their types (a sniffed CSV: DATE, zone-less TIMESTAMP, BIGINT) go
      // through their Arrow form, which has them (from rows a Date is an instant, a number a DOUBLE)
      if ((batch.hasArrow || batch.sniffed !== undefined) && w.acceptsArrow(batch.arrow)) {
        await w.writeArrow(batch.arrow, batch.position.index);
        return;
      }
      const rows = batch.rows;
      if (rows.length > 0 && Array.isArray(rows[0])) {
        throw new FormatError(
          'toParquet writes object rows (keyed by column name), got array rows; read CSV with a header or map rows to objects',
          { batch: batch.position.index },
        );
      }
      await w.write(rows as Record<string, unknown>[], batch.columns);
    } catch (error) {
      throw this.withStage(error);
    }
  }

  /** Writes the footer and renames the file into place. */
  async finish(point?: CommitPoint): Promise<ToParquetResult> {
    try {
      const w = await this.#ensureOpen();
      await w.commit(point);
      return { path: this.path, rows: w.rowsWritten, bytes: w.bytesWritten, rowGroups: w.rowGroupsWritten };
    } catch (error) {
      throw this.withStage(error);
    }
  }

  /** Removes the temporary file, or only closes it when a resumed run is to continue it. */
  async abort(): Promise<void> {
    const w = this.#writer ?? (await this.#opening?.catch(() => undefined));
    if (this.keepForResume) await w?.release();
    else await w?.abort();
  }
}
