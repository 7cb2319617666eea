/**
 * The fast reader: fromCsv through the byte scanner (lib/formats/csv/fast), which gives csv-parse's
 * rows, errors and lines for the dialects it handles, as rows or Arrow columns.
 */
import type { Batch, Row } from '../../../core/batch.ts';
import type { StageContext } from '../../../core/stage.ts';
import { delimiterByte, fastCsvBatches, quoteAndComment, wrapFastError } from '../fast/source.ts';
import type { CastFailure } from '../cast.ts';
import { openCsvBytes } from './bytes.ts';
import { transcoderFor } from './utf16.ts';
import { FileChunks } from '../../../io/file-chunks.ts';
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
    const input = openBytes(spec, context.signal);
    this.#counters.bytesRead = input.bytesRead;
    const onAbort = (): void =>
      input.abort(context.signal.reason instanceof Error ? context.signal.reason : new Error('aborted'));
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const batches = fastCsvBatches(
        input.bytes,
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
          next = await batches.next();
        } catch (error) {
          throw wrapFastError(error, {
            stage: plan.stageName,
            file: plan.where,
            lineBase: run.lineBase,
            batch: run.index,
            byteOffset: input.bytesRead(),
          });
        }
        if (next.done) break;
        const batch = run.batch(next.value, spec.names(), spec.sniffed);
        await run.ready();
        yield batch;
        run.nextSize();
      }
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      // wait for the file to close, so a stopped pipeline leaves no descriptor behind it
      await input.close();
    }
  }
}

/** The bytes of a read, with how to count, abort and close them. */
interface ByteInput {
  bytes: AsyncIterable<Uint8Array>;
  bytesRead(): number;
  abort(reason: Error): void;
  close(): Promise<void>;
}

/**
 * A local uncompressed file is read into two reused buffers (lib/io/file-chunks.ts: the scanner
 * copies what it keeps); an abort fails its next read, and closing waits for the read under way.
 * Streams, compressed and UTF-16 files go through openCsvBytes.
 */
function openBytes(spec: CsvReadSpec, signal: AbortSignal): ByteInput {
  const { plan } = spec;
  const start = spec.start.byte;
  const transcode = transcoderFor(spec);
  if (typeof plan.input === 'string' && plan.compression === undefined && transcode === undefined) {
    const chunks = new FileChunks(plan.input, start, signal);
    return {
      bytes: chunks,
      bytesRead: () => chunks.bytesRead,
      abort: () => {},
      close: async () => {
        await chunks.return();
      },
    };
  }
  const { bytes, file } = openCsvBytes(plan.input, plan.compression, start, undefined, transcode);
  return {
    bytes,
    bytesRead: () => file?.bytesRead ?? 0,
    abort: (reason) => bytes.destroy(reason),
    close: async () => {
      bytes.destroy();
      if (file) await closeStream(file);
    },
  };
}
