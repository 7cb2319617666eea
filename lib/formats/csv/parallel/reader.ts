/**
 * fromCsv on parser threads: the file is cut into ranges (split.ts), the ranges are parsed on
 * threads ahead of the consumer (a bounded window of them), and their batches are delivered in
 * file order with their file lines and byte offsets. A range's parse is a guess until the range
 * before it is known to end exactly where the cut is, with the record delimiter the file uses:
 * only then did the range start at a true record boundary (not inside a quoted field), and its
 * records are exactly those a single scanner would find. When a guess fails, or a range fails to
 * parse, the rest of the file is read on the main thread from the last range known good (its
 * records already delivered are skipped), so errors, dead letters and their lines are exactly
 * those of the one-thread reader.
 */
import { createReadStream } from 'node:fs';
import type { Batch, Row } from '../../../core/batch.ts';
import type { StageContext } from '../../../core/stage.ts';
import { absoluteLines, wrapFastError } from '../fast/source.ts';
import type { FastCsvBatch } from '../fast/reader.ts';
import type { CsvCounters, CsvReader, CsvReadSpec, CsvRun } from '../read/reader.ts';
import { delimiterByte, quoteAndComment } from '../fast/source.ts';
import { RangeParser, type BadRecord, type RangeOptions } from './range-parser.ts';
import { PARALLEL_CSV } from './settings.ts';
import { cutPoints } from './split.ts';
import type { RangeTask } from './task.ts';
import { ParserThreads } from './threads.ts';
import { RangeQueue } from './range-queue.ts';
import { receiveBatch } from './transfer.ts';
import { int32AsDouble } from '../../arrow/int32-as-double.ts';
import { closeStream } from '../../../io/close-stream.ts';

/** A range whose records were delivered: where it was scanned from and how it ended. */
interface GoodRange {
  parseFrom: number;
  /** Lines before `parseFrom`, relative to the read's start. */
  lineOffset: number;
  lastEnd: number;
}

/** Reads a local uncompressed file on parser threads; see the module comment. */
export class ParallelCsvReader implements CsvReader {
  readonly kind = 'fast';
  readonly #counters: CsvCounters;
  readonly #sequential: CsvReader;
  readonly #size: number;
  /** The names the header gives (checked against the header when it is read). */
  readonly #names: string[];
  readonly #doubles: boolean;
  #delivered = 0;

  /**
   * @param sequential the one-thread reader, for a file that yields no cut
   * @param size the file's size
   * @param names the column names (from the sniffed header, or given)
   * @param doubles Int32 columns become Float64 (negotiated Arrow)
   */
  constructor(counters: CsvCounters, sequential: CsvReader, size: number, names: string[], doubles: boolean) {
    this.#counters = counters;
    this.#sequential = sequential;
    this.#size = size;
    this.#names = names;
    this.#doubles = doubles;
  }

  async *read(context: StageContext, run: CsvRun, spec: CsvReadSpec): AsyncGenerator<Batch<Row>> {
    const file = spec.plan.file!;
    const start = spec.start.byte;
    const cuts = await cutPoints(file, start, this.#size, PARALLEL_CSV.chunkBytes, {
      delimiter: delimiterByte(spec.parseOptions),
      fields: this.#names.length,
    });
    // threads start and the abort listener is added below: a source destroyed meanwhile stops here
    context.signal.throwIfAborted();
    if (cuts.length === 0) {
      run.stats.details.parserThreads = 1;
      yield* this.#sequential.read(context, run, spec);
      return;
    }
    run.stats.details.output = spec.plan.output;
    // the ranges fill only the projected columns when the header has them all (FastCsvReader)
    const project = spec.project;
    if (project?.every((name) => this.#names.includes(name)) && project.length < this.#names.length)
      run.stats.details.projection = this.#names.filter((name) => project.includes(name)).join(', ');
    const bounds = [start, ...cuts, this.#size];
    const threads = new ParserThreads(Math.min(PARALLEL_CSV.threads, bounds.length - 1));
    run.stats.details.parserThreads = threads.size;
    run.stats.details.ranges = bounds.length - 1;
    this.#counters.bytesRead = () => this.#delivered - start;
    const onAbort = (): void => void threads.close();
    context.signal.addEventListener('abort', onAbort, { once: true });
    const header = typeof spec.columns === 'function';
    const base = this.#options(run, spec);
    const task = (k: number): RangeTask => ({
      id: k,
      file,
      parseFrom: bounds[k]!,
      emitFrom: bounds[k]!,
      to: bounds[k + 1]!,
      final: k === bounds.length - 2,
      doubles: this.#doubles,
      options: { ...base, bom: k === 0 && spec.bom, header: k === 0 && header, batchSize: run.batchSize },
    });
    const ranges = new RangeQueue(bounds.length - 1, threads, task, PARALLEL_CSV.mainThreadParses);
    try {
      let good: GoodRange | undefined;
      let lineOffset = 0;
      let delimiter: string | undefined;
      for (let k = 0; k < bounds.length - 1; k++) {
        const reply = await ranges.take(k);
        run.stats.details.rangesParsedOnMainThread = ranges.parsedHere;
        const trusted =
          reply !== undefined &&
          !reply.failed &&
          (k === 0
            ? !header || this.#headerMatches(spec, reply.header)
            : good !== undefined &&
              good.lastEnd === bounds[k]! - good.parseFrom &&
              (reply.delimiter === delimiter || reply.delimiter === 'unknown'));
        // an abort closes the threads, which fails their ranges: that is no reason to read on
        context.signal.throwIfAborted();
        if (!trusted) {
          run.stats.details.parallelFallback = `range ${k + 1} of ${bounds.length - 1}`;
          if (good === undefined) yield* this.#sequential.read(context, run, spec);
          else yield* this.#rest(context, run, spec, base, good);
          return;
        }
        if (k === 0 || delimiter === undefined || delimiter === 'unknown') delimiter = reply.delimiter;
        for (const bad of reply.bad) this.#reportBad(run, bad, lineOffset);
        for (const posted of reply.batches) {
          const done = receiveBatch(posted);
          yield await this.#deliver(run, spec, done, lineOffset, bounds[k]! - start);
        }
        this.#delivered = bounds[k + 1]!;
        good = { parseFrom: bounds[k]!, lineOffset, lastEnd: reply.lastEnd };
        lineOffset += reply.lineStart - 1;
      }
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      await threads.close();
    }
  }

  /** The range options every task shares. */
  #options(run: CsvRun, spec: CsvReadSpec): Omit<RangeOptions, 'bom' | 'header' | 'batchSize'> {
    return {
      delimiter: delimiterByte(spec.parseOptions),
      relaxQuotes: quoteAndComment(spec.parseOptions).relaxQuotes,
      infer: spec.infer,
      project: spec.project ? [...spec.project] : undefined,
      fail: spec.plan.policy === 'fail',
      raw: run.deadLetter !== undefined,
      skipBlankLines: spec.skipBlankLines,
      names: this.#names,
      invalidUtf8: spec.plan.invalidUtf8,
    };
  }

  /** Runs the header hook (expectColumns, renames) on the header the first range read; true when it gives the names used. */
  #headerMatches(spec: CsvReadSpec, header: string[] | undefined): boolean {
    if (header === undefined || typeof spec.columns !== 'function') return false;
    const names = spec.columns(header);
    return names.length === this.#names.length && names.every((n, i) => n === this.#names[i]);
  }

  /** A range's batch as the read's next batch (file lines and offsets). */
  async #deliver(
    run: CsvRun,
    spec: CsvReadSpec,
    done: FastCsvBatch,
    lineOffset: number,
    byteOffset: number,
  ): Promise<Batch<Row>> {
    const batch = run.batch(
      { ...done, endLine: done.endLine + lineOffset, endByte: done.endByte + byteOffset },
      spec.names() ?? this.#names,
    );
    await run.ready();
    run.nextSize();
    return batch;
  }

  #reportBad(run: CsvRun, bad: BadRecord, lineOffset: number): void {
    const error = Object.assign(new Error(absoluteLines(bad.message, lineOffset)), { code: bad.code });
    run.onBad(error, bad.line + lineOffset, bad.raw);
  }

  /** The rest of the file on the main thread, scanned from the last good range's start, delivering what follows it. */
  async *#rest(
    context: StageContext,
    run: CsvRun,
    spec: CsvReadSpec,
    base: Omit<RangeOptions, 'bom' | 'header' | 'batchSize'>,
    good: GoodRange,
  ): AsyncGenerator<Batch<Row>> {
    const start = spec.start.byte;
    const parser = new RangeParser(
      { ...base, bom: good.parseFrom === start && spec.bom, header: false, batchSize: run.batchSize },
      good.lastEnd,
      (error, line, raw) =>
        this.#reportBad(
          run,
          { code: (error as { code?: string }).code, message: error.message, line, raw },
          good.lineOffset,
        ),
    );
    const bytes = createReadStream(spec.plan.file!, {
      start: good.parseFrom,
      highWaterMark: 1 << 20,
      signal: context.signal,
    });
    const where = () => ({
      stage: spec.plan.stageName,
      file: spec.plan.where,
      lineBase: run.lineBase + good.lineOffset,
      batch: run.index,
      byteOffset: good.parseFrom + bytes.bytesRead,
    });
    const deliver = async function* (this: ParallelCsvReader): AsyncGenerator<Batch<Row>> {
      for (const done of parser.take()) {
        const arrow = done.arrow && this.#doubles ? int32AsDouble(done.arrow) : done.arrow;
        yield await this.#deliver(run, spec, { ...done, arrow }, good.lineOffset, good.parseFrom - start);
      }
    };
    try {
      for await (const chunk of bytes) {
        try {
          parser.push(chunk as Buffer);
        } catch (error) {
          throw wrapFastError(error, where());
        }
        this.#delivered = good.parseFrom + bytes.bytesRead;
        yield* deliver.call(this);
      }
      try {
        parser.end();
      } catch (error) {
        throw wrapFastError(error, where());
      }
      yield* deliver.call(this);
    } finally {
      await closeStream(bytes);
    }
  }
}
