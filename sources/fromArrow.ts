/**
 * `fromArrow`: an Arrow IPC file (file or stream format, told by its magic bytes) or a byte
 * stream, read record batch by record batch (see `lib/arrow/ipc-reader.ts`) and delivered as
 * Arrow batches: a downstream stage that works on Arrow gets them without conversion, and a
 * stage that wants rows converts each batch once. A thin adapter: the format work is in the reader.
 */
import type { DatasetOptions } from '../lib/dataset/multi-file.ts';
import { arrowDataset, isDatasetRequest } from '../lib/dataset/sources.ts';
import { isRemoteUrl } from '../lib/dataset/remote/url.ts';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import type { RecordBatch, Schema } from 'apache-arrow';
import { Batch, type Row } from '../lib/core/batch.ts';
import { BatchSource } from '../lib/core/source.ts';
import { FormatError, SpillwayError, ValidationError, describeValue, withContext } from '../lib/core/errors.ts';
import { expectInteger, expectOptions, optionKeys } from '../lib/core/validate.ts';
import { openArrowFile, readArrowStream, type ArrowFileHandle } from '../lib/formats/arrow/ipc-reader.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';
import type { CheckpointJson } from '../lib/observe/checkpoint.ts';

/** Options of {@link fromArrow} (dataset options: see docs/datasets.md). */
export interface FromArrowOptions extends DatasetOptions {
  /**
   * Most rows per batch. Larger record batches are split (zero-copy slices); smaller ones are
   * passed on as they are. Default: the record batches as written.
   */
  batchSize?: number;
  /** Columns to keep, in this order (default: all); a name the file lacks is an error. */
  columns?: readonly string[];
  /** Name used in stats and errors (default `fromArrow`). */
  name?: string;
}

/** Every option of FromArrowOptions, for strict validation. */
const KNOWN_FROM_ARROW_OPTIONS = optionKeys<FromArrowOptions>({
  batchSize: true,
  columns: true,
  name: true,
  fileColumn: true,
  hive: true,
  hiveTypes: true,
  where: true,
});
/**
 * Reads Arrow IPC as batches. A path is read batch by batch, never whole: the file format
 * through its footer (each record batch is read on demand), the stream format message by
 * message; the total row count (from the message headers) feeds `progress().totalRows`. A
 * Readable is read as a stream (a file-format stream is buffered whole by apache-arrow: pass a
 * path for large files). LZ4_FRAME and ZSTD bodies are decompressed.
 *
 * Batches hold the RecordBatch itself (`batch.arrow`); `batch.rows` converts on first use (64-bit
 * integers as numbers when safe, else bigint; timestamps as Date; decimals as exact strings).
 *
 * @param input an Arrow IPC file (`.arrow`, `.arrows`, `.feather` v2, ...) or a Readable of its bytes
 * @param options see {@link FromArrowOptions}
 * @throws ValidationError at once for a bad option; the pipeline rejects with IoError,
 *   FormatError or UnsupportedError naming the file (and the batch) when it cannot be read
 * @example
 * ```ts
 * await pipeline(fromArrow('events.arrow', { columns: ['ts', 'user'] }), toCsv('events.csv'));
 * ```
 */
export function fromArrow(input: string | readonly string[] | Readable, options?: FromArrowOptions): BatchSource<Row> {
  if (!(input instanceof Readable) && isDatasetRequest(input, options)) return arrowDataset(input, options, fromArrow);
  if (!(typeof input === 'string' && input.length > 0) && !(input instanceof Readable)) {
    throw new ValidationError(`Expected \`input\` to be a file path or a Readable, got ${describeValue(input)}`);
  }
  const opts = expectOptions(options, 'options', KNOWN_FROM_ARROW_OPTIONS);
  const batchSize = opts.batchSize === undefined ? undefined : expectInteger(opts.batchSize, 'options.batchSize', 1);
  if (opts.columns !== undefined && (!Array.isArray(opts.columns) || opts.columns.some((c) => typeof c !== 'string'))) {
    throw new ValidationError(
      `Expected \`options.columns\` to be an array of column names, got ${describeValue(opts.columns)}`,
    );
  }
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0)) {
    throw new ValidationError(`Expected \`options.name\` to be a non-empty string, got ${describeValue(opts.name)}`);
  }
  const stage = opts.name ?? 'fromArrow';
  const file = typeof input === 'string' ? input : undefined;
  const where = file ?? stage;
  const columns = opts.columns === undefined ? undefined : [...opts.columns];
  let rowsRead = 0;
  /** On resume: rows an earlier run read; their record batches are read again and skipped. */
  let skipRows = 0;
  let firstIndex = 0;
  let totalRows: number | undefined;
  let totalBytes: number | undefined;
  let fileBatches = 0;
  let fileBatchesRead = 0;

  /** Adds the stage, file and batch to a reader error (a foreign error becomes a FormatError first). */
  function withStage(error: unknown, batch?: number): Error {
    if (!(error instanceof SpillwayError)) {
      return new FormatError(
        `Cannot read Arrow IPC: ${error instanceof Error ? error.message : String(error)}`,
        { stage, file: where, batch },
        { cause: error },
      );
    }
    return withContext(error, { stage, file: where, batch });
  }

  /** Column indices to keep, in the order asked; throws for a name the schema lacks. */
  function projection(schema: Schema): number[] | undefined {
    if (columns === undefined) return undefined;
    const names = schema.fields.map((f) => f.name);
    return columns.map((name, i) => {
      const at = names.indexOf(name);
      if (at < 0)
        throw new ValidationError(
          `Expected \`options.columns[${i}]\` to be a column of ${where} (${names.join(', ')}), got ${describeValue(name)}`,
        );
      return at;
    });
  }

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    let handle: ArrowFileHandle | undefined;
    let recordBatches: AsyncIterable<RecordBatch>;
    let index = firstIndex;
    let skip = skipRows;
    let fileBatch = 0;
    try {
      if (file !== undefined) {
        const opened = await openArrowFile(file).catch((error: unknown) => Promise.reject(withStage(error)));
        handle = opened;
        totalBytes = isRemoteUrl(file) ? undefined : (await stat(file)).size;
        totalRows = opened.numRows;
        fileBatches = opened.numBatches;
        stats.details.format = opened.format;
        stats.details.recordBatches = opened.numBatches;
        recordBatches = opened.batches();
      } else {
        stats.details.format = 'stream';
        recordBatches = readArrowStream(input as Readable, { file: where });
      }
      let keep: number[] | undefined;
      let projected = false;
      const iterator = recordBatches[Symbol.asyncIterator]();
      try {
        for (;;) {
          if (context.signal.aborted) return;
          let next: IteratorResult<RecordBatch>;
          try {
            next = await iterator.next();
          } catch (error) {
            throw withStage(error, fileBatch);
          }
          if (next.done) break;
          let recordBatch = next.value;
          if (!projected) {
            keep = projection(recordBatch.schema);
            projected = true;
          }
          if (keep !== undefined) recordBatch = recordBatch.selectAt(keep);
          fileBatch++;
          fileBatchesRead = fileBatch;
          const size = batchSize ?? recordBatch.numRows;
          for (let start = 0; start < recordBatch.numRows; start += size) {
            const part =
              start === 0 && size >= recordBatch.numRows
                ? recordBatch
                : recordBatch.slice(start, Math.min(start + size, recordBatch.numRows));
            if (skip >= part.numRows) {
              skip -= part.numRows;
              continue;
            }
            const batch = Batch.fromArrow(part, { source: where, index: index++, rowStart: rowsRead });
            rowsRead += part.numRows;
            yield batch;
          }
        }
      } finally {
        await iterator.return?.();
      }
      // a stream with a schema and no batches still names its columns: check them
      if (!projected && handle !== undefined) projection(handle.schema);
    } finally {
      await handle?.close();
    }
  }

  return new BatchSource<Row>({
    name: stage,
    open,
    checkpoint: {
      identity: {
        source: 'fromArrow',
        file: file === undefined ? null : resolvePath(file),
        options: JSON.parse(JSON.stringify(opts)) as CheckpointJson,
      },
      file,
      refuse: file === undefined ? `${stage} reads a stream, not a file, and cannot go back to a position` : undefined,
      state: (position, rowsThrough) => ({ rows: rowsThrough, index: position.index + 1 }),
      resume: (state) => {
        const { rows, index } = state as { rows: number; index: number };
        skipRows = rows;
        rowsRead = rows;
        firstIndex = index;
      },
    },
    progress: () => ({
      rows: rowsRead,
      // bytes: the share of the file's record batches read so far (cheap; exact at the end)
      bytes:
        totalBytes === undefined || fileBatches === 0 ? 0 : Math.round((totalBytes * fileBatchesRead) / fileBatches),
      ...(totalBytes === undefined ? {} : { totalBytes }),
      ...(totalRows === undefined ? {} : { totalRows }),
    }),
  });
}
