/**
 * The fast reader: fromCsv through the byte scanner (lib/formats/csv/fast), which gives csv-parse's
 * rows, errors and lines for the dialects it handles, as rows or Arrow columns.
 */
import type { Batch, Row } from '../../../core/batch.ts';
import type { StageContext } from '../../../core/stage.ts';
import { delimiterByte, fastCsvBatches, quoteAndComment, wrapFastError } from '../fast/source.ts';
import type { CastFailure } from '../cast.ts';
import type { ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { openCsvBytes } from './bytes.ts';
import { FileChunks } from '../../../io/file-chunks.ts';
import type { FastCsvBatch } from '../fast/reader.ts';
import { closeStream } from '../../../io/close-stream.ts';
import type { CsvCounters, CsvReader, CsvReadSpec, CsvRun } from './reader.ts';

/** Reads with the fast byte scanner; see the module comment. */
export class FastCsvPathReader implements CsvReader {
  readonly kind = 'fast';
  readonly #counters: CsvCounters;

  constructor(counters: CsvCounters) {
    this.#counters = counters;
  }

  async *read(context: StageContext, run: CsvRun, spec: CsvReadSpec): AsyncGenerator<Batch<Row>> {
    const { plan } = spec;
    run.stats.details.output = plan.output;
    // an abort before the listener below is added would never reach it: nothing is opened then
    context.signal.throwIfAborted();
    // a local uncompressed file is read into two reused buffers (the scanner copies what it keeps)
    const chunks =
      typeof plan.input === 'string' && plan.compression === undefined
        ? new FileChunks(plan.input, spec.start.byte, context.signal)
        : undefined;
    const { bytes, file } = chunks
      ? { bytes: chunks, file: chunks }
      : openCsvBytes(plan.input, plan.compression, spec.start.byte);
    this.#counters.bytesRead = () => file?.bytesRead ?? 0;
    const onAbort = (): void => {
      if (!chunks)
        (bytes as Readable).destroy(
          context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'),
        );
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    let batches: AsyncGenerator<FastCsvBatch> | undefined;
    try {
      batches = fastCsvBatches(
        bytes,
        {
          delimiter: delimiterByte(spec.parseOptions),
          columns: spec.columns,
          infer: spec.infer,
          castRow: spec.castRow,
          project: spec.project,
          onProjected: (columns) => (run.stats.details.projection = columns.join(', ')),
          fail: plan.policy === 'fail',
          raw: run.deadLetter !== undefined,
          onBad: run.onBad,
          onCastFailure: (error: CastFailure, at: number, raw: string | undefined) => {
            if (plan.policy === 'fail') throw run.castError(error, at);
            run.onBad(error, at, raw);
          },
          output: plan.output,
          bom: spec.bom,
          skipBlankLines: spec.skipBlankLines,
          recoverQuotes: true,
          invalidUtf8: plan.invalidUtf8,
          ...quoteAndComment(spec.parseOptions),
        },
        () => run.batchSize,
      );
      for (;;) {
        let next;
        try {
          next = await batches!.next();
        } catch (error) {
          throw wrapFastError(error, {
            stage: plan.stageName,
            file: plan.where,
            lineBase: run.lineBase,
            batch: run.index,
            byteOffset: file?.bytesRead,
          });
        }
        if (next.done) break;
        const batch = run.batch(next.value, spec.names());
        await run.ready();
        yield batch;
        run.nextSize();
      }
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      // wait for the file to close, so a stopped pipeline leaves no descriptor behind it
      if (chunks) {
        await batches?.return(undefined);
        await chunks.return();
      } else {
        (bytes as Readable).destroy();
        if (file) await closeStream(file as ReadStream);
      }
    }
  }
}
