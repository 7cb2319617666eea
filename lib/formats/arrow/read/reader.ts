/**
 * fromArrow's readers: one per input path (a file through ipc-reader's file handle, a Readable
 * as a stream) behind {@link ArrowReader}. Both yield the record batches as `options` shape
 * them (projected, then sliced to `batchSize`); the factory wraps them as batches, and the resume
 * adapter (read/resume.ts) skips what an earlier run delivered.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { RecordBatch, Schema } from 'apache-arrow';
import { FormatError, SpillwayError, ValidationError, describeValue, withContext } from '../../../core/errors.ts';
import type { StageContext, StageStats } from '../../../core/stage.ts';
import { isRemoteUrl } from '../../../dataset/remote/url.ts';
import { openArrowFile, readArrowStream, type ArrowFileHandle } from '../ipc-reader.ts';
import { renamedColumnsOf } from '../repeated-names.ts';
import type { ArrowPlan } from './options.ts';
import { emptyRecordBatch } from '../record-batch.ts';

/** Live counters of a fromArrow source (progress reads them). */
export interface ArrowCounters {
  rowsRead: number;
  totalRows: number | undefined;
  totalBytes: number | undefined;
  /** Record batches in the file (0 for a stream). */
  fileBatches: number;
  /** Record batches of the file read so far. */
  fileBatchesRead: number;
}

/** An Arrow reader: one per input path. */
export interface ArrowReader {
  /** The record batches (projected and sliced), in order. */
  read(context: StageContext, stats: StageStats): AsyncGenerator<RecordBatch>;
}

/** Adds the stage, file and batch to a reader error (a foreign error becomes a FormatError first). */
export function arrowError(plan: ArrowPlan, error: unknown, batch?: number): Error {
  const { stage, where } = plan;
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
function projection(plan: ArrowPlan, schema: Schema): number[] | undefined {
  if (plan.columns === undefined) return undefined;
  const names = schema.fields.map((f) => f.name);
  return plan.columns.map((name, i) => {
    const at = names.indexOf(name);
    if (at < 0)
      throw new ValidationError(
        `Expected \`options.columns[${i}]\` to be a column of ${plan.where} (${names.join(', ')}), got ${describeValue(name)}`,
      );
    return at;
  });
}

/**
 * The record batches of `recordBatches`, projected and sliced. `schema` is checked against the
 * columns asked when no batch came (a file with a schema and no batches still names its columns),
 * and a file read on its own that holds no rows yields one batch of none with that schema, so that
 * a sink still writes its columns (a CSV header, an Arrow or Parquet schema).
 */
async function* shaped(
  plan: ArrowPlan,
  counters: ArrowCounters,
  context: StageContext,
  recordBatches: AsyncIterable<RecordBatch>,
  schema: Schema | undefined,
): AsyncGenerator<RecordBatch> {
  let keep: number[] | undefined;
  let projected = false;
  let yielded = false;
  let fileBatch = 0;
  const iterator = recordBatches[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (context.signal.aborted) return;
      let next: IteratorResult<RecordBatch>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw arrowError(plan, error, fileBatch);
      }
      if (next.done) break;
      let recordBatch = next.value;
      if (!projected) {
        keep = projection(plan, recordBatch.schema);
        projected = true;
      }
      if (keep !== undefined) recordBatch = recordBatch.selectAt(keep);
      fileBatch++;
      counters.fileBatchesRead = fileBatch;
      const size = plan.batchSize ?? recordBatch.numRows;
      for (let start = 0; start < recordBatch.numRows; start += size) {
        yielded = true;
        yield start === 0 && size >= recordBatch.numRows
          ? recordBatch
          : recordBatch.slice(start, Math.min(start + size, recordBatch.numRows));
      }
    }
  } finally {
    await iterator.return?.();
  }
  if (!projected && schema !== undefined) keep = projection(plan, schema);
  if (!yielded && schema !== undefined)
    yield emptyRecordBatch(keep === undefined ? schema.fields : keep.map((c) => schema.fields[c]!));
}

/** Reads an Arrow IPC file (file or stream format) by path, record batch by record batch. */
export class ArrowFileReader implements ArrowReader {
  readonly #plan: ArrowPlan;
  readonly #counters: ArrowCounters;

  constructor(plan: ArrowPlan, counters: ArrowCounters) {
    this.#plan = plan;
    this.#counters = counters;
  }

  async *read(context: StageContext, stats: StageStats): AsyncGenerator<RecordBatch> {
    const file = this.#plan.file!;
    let handle: ArrowFileHandle | undefined;
    try {
      const opened = await openArrowFile(file).catch((error: unknown) => Promise.reject(arrowError(this.#plan, error)));
      handle = opened;
      this.#counters.totalBytes = isRemoteUrl(file) ? undefined : (await stat(file)).size;
      this.#counters.totalRows = opened.numRows;
      this.#counters.fileBatches = opened.numBatches;
      stats.details.format = opened.format;
      stats.details.recordBatches = opened.numBatches;
      // columns whose names repeated or were empty in the file, and the names they were given
      const renamed = renamedColumnsOf(opened.schema);
      if (renamed !== undefined) stats.details.renamedColumns = renamed;
      yield* shaped(this.#plan, this.#counters, context, opened.batches(), opened.schema);
    } finally {
      await handle?.close();
    }
  }
}

/** Reads a Readable of Arrow IPC bytes as a stream. */
export class ArrowStreamReader implements ArrowReader {
  readonly #plan: ArrowPlan;
  readonly #counters: ArrowCounters;

  constructor(plan: ArrowPlan, counters: ArrowCounters) {
    this.#plan = plan;
    this.#counters = counters;
  }

  async *read(context: StageContext, stats: StageStats): AsyncGenerator<RecordBatch> {
    stats.details.format = 'stream';
    const batches = readArrowStream(this.#plan.input as Readable, { file: this.#plan.where });
    yield* shaped(this.#plan, this.#counters, context, batches, undefined);
  }
}
