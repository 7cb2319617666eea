/**
 * `fromArrow`: an Arrow IPC file (file or stream format, told by its magic bytes) or a byte
 * stream, read record batch by record batch (see `lib/formats/arrow/ipc-reader.ts`) and delivered as
 * Arrow batches: a downstream stage that works on Arrow gets them without conversion, and a
 * stage that wants rows converts each batch once. The factory validates options
 * (lib/formats/arrow/read/options.ts), reads with the file or the stream reader (read/reader.ts),
 * wrapped in the resume adapter when the pipeline resumes (read/resume.ts).
 */
import { Readable } from 'node:stream';
import { Batch, type Row } from '../lib/core/batch.ts';
import { BatchSource } from '../lib/core/source.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';
import { arrowDataset, isDatasetRequest } from '../lib/dataset/sources.ts';
import { resolveArrowOptions, type FromArrowOptions } from '../lib/formats/arrow/read/options.ts';
import type { ArrowCounters } from '../lib/formats/arrow/read/reader.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import { ArrowResume } from '../lib/formats/arrow/read/resume.ts';

// the IPC readers (and apache-arrow) load at open, not with `import 'spillway'`
const readerModule = lazyImport(() => import('../lib/formats/arrow/read/reader.ts'));

export type { FromArrowOptions } from '../lib/formats/arrow/read/options.ts';

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
  const plan = resolveArrowOptions(input, options);
  const counters: ArrowCounters = {
    rowsRead: 0,
    totalRows: undefined,
    totalBytes: undefined,
    fileBatches: 0,
    fileBatchesRead: 0,
  };
  const resume = new ArrowResume(plan, counters);

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    const { ArrowFileReader, ArrowStreamReader } = await readerModule.load();
    context.signal.throwIfAborted(); // destroyed while the reader loaded: open nothing
    const reader = resume.wrap(
      plan.file !== undefined ? new ArrowFileReader(plan, counters) : new ArrowStreamReader(plan, counters),
    );
    let index = resume.firstIndex;
    for await (const part of reader.read(context, stats)) {
      const batch = Batch.fromArrow(part, { source: plan.where, index: index++, rowStart: counters.rowsRead });
      counters.rowsRead += part.numRows;
      yield batch;
    }
  }

  return new BatchSource<Row>({
    name: plan.stage,
    open,
    checkpoint: resume.hooks,
    progress: () => {
      const { rowsRead, totalBytes, totalRows, fileBatches, fileBatchesRead } = counters;
      return {
        rows: rowsRead,
        // bytes: the share of the file's record batches read so far (cheap; exact at the end)
        bytes:
          totalBytes === undefined || fileBatches === 0 ? 0 : Math.round((totalBytes * fileBatchesRead) / fileBatches),
        ...(totalBytes === undefined ? {} : { totalBytes }),
        ...(totalRows === undefined ? {} : { totalRows }),
      };
    },
  });
}
