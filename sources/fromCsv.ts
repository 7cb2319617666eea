/**
 * `fromCsv`: a CSV file (plain, `.gz` or `.zst`, or a byte stream) delivered as batches of rows.
 * The factory validates options (lib/formats/csv/read/options.ts); at open it sniffs the dialect of a file
 * (lib/formats/csv/read/sniff.ts), settles it with the options (read/settle.ts) and reads with the
 * fast scanner or csv-parse (one {@link CsvReader} each), wrapped in the resume adapter when the
 * pipeline checkpoints (read/resume.ts).
 */
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { isDatasetRequest, textDataset } from '../lib/dataset/sources.ts';
import { isDatasetFile } from '../lib/dataset/file-mark.ts';
import type { Batch, Row } from '../lib/core/batch.ts';
import { BatchSource } from '../lib/core/source.ts';
import { CsvParseError, IoError, ValidationError } from '../lib/core/errors.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';
import { resolveCsvOptions, type CsvPlan, type FromCsvOptions } from '../lib/formats/csv/read/options.ts';
import type { CsvCounters } from '../lib/formats/csv/read/reader.ts';
import { CsvResume } from '../lib/formats/csv/read/resume.ts';
import { chooseReader } from '../lib/formats/csv/read/settle.ts';
import { CsvOutput } from '../lib/formats/csv/parallel/output.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';

// the readers (scanner, csv-parse, threads, Arrow builders) load at open, not with `import 'spillway'`
const readModules = lazyImport(() =>
  Promise.all([
    import('../lib/formats/csv/read/prepare.ts'),
    import('../lib/formats/csv/read/choose-reader.ts'),
    import('../lib/formats/csv/read/reader.ts'),
  ]),
);

export type { FromCsvOptions } from '../lib/formats/csv/read/options.ts';

/**
 * Reads CSV as batches of rows. Without dialect options, a file's delimiter, quote, escape,
 * header, comment prefix and preamble are detected from its first 64 KB (see docs/csv.md).
 *
 * @typeParam R the row type the caller expects (not checked at run time; `cast` sets the values' types)
 * @param input a file path (`.gz` and `.zst` are decompressed on the fly) or a Readable of bytes
 * @param options see {@link FromCsvOptions}
 * @example
 * ```ts
 * await pipeline(fromCsv('trades.csv.gz', { cast: true }), map((r) => r), toCsv('out.csv'));
 * ```
 */
export function fromCsv<R extends Row = Row>(
  input: string | readonly string[] | Readable,
  options?: FromCsvOptions,
): BatchSource<R> {
  if (!(input instanceof Readable) && isDatasetRequest(input, options))
    return textDataset(input, options, fromCsv, 'fromCsv') as BatchSource<R>;
  if (typeof input !== 'string' && !(input instanceof Readable))
    throw new ValidationError('Expected `input` to be a file path, an array of paths or a Readable');
  const plan = resolveCsvOptions(input, options);
  if (plan.parser === 'fast') chooseReader(plan, plan.parseOptions);
  const counters: CsvCounters = { rows: 0, bytesRead: () => 0 };
  const resume = new CsvResume(plan, counters);
  let totalBytes: number | undefined;
  // without an explicit `output`, the pipeline chooses (format negotiation, lib/core/negotiate.ts)
  const output = new CsvOutput(plan);

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    const { signal } = context;
    // each step waits; a source destroyed meanwhile (its signal aborted) opens nothing more
    const [{ describeRead, prepareRead }, { chooseCsvReader }, { CsvRun }] = await readModules.load();
    signal.throwIfAborted();
    if (plan.file !== undefined) totalBytes = await fileSize(plan);
    signal.throwIfAborted();
    const prepared = await prepareRead(plan, output.plan, resume.from, stats);
    signal.throwIfAborted();
    const { spec } = prepared;
    describeRead(stats, prepared, plan);
    await context.governor?.poll?.(); // the thread decision reads the headroom: a fresh sample
    signal.throwIfAborted();
    const single = await chooseCsvReader(prepared, stats, {
      counters,
      totalBytes,
      checkpointing: resume.enabled,
      negotiatedArrow: output.negotiatedArrow,
      governor: context.governor,
    });
    const reader = output.wrap(resume.wrap(single), stats);
    const run = new CsvRun(plan, context, stats, spec.start, counters);
    try {
      if (run.deadLetter && resume.from)
        await run.deadLetter.keepOnly((record) => typeof record.line === 'number' && record.line <= spec.start.line);
      let yielded = false;
      for await (const batch of reader.read(context, run, spec)) {
        yielded = true;
        yield batch;
      }
      if (plan.expectColumns && !prepared.header.seen && !resume.from) {
        throw new CsvParseError(`the file has no header; expected [${plan.expectColumns.join(',')}]`, {
          stage: plan.stageName,
          file: plan.where,
          line: 1,
        });
      }
      const names = spec.names();
      if (names) stats.details.columns = names.join(',');
      // a file of a header and no rows, read on its own, still hands its columns on
      if (!yielded && names !== undefined && names.length > 0 && !resume.from && !isDatasetFile(options)) {
        const { headerOnlyBatch } = await import('../lib/formats/csv/read/header-only.ts');
        yield headerOnlyBatch(names, plan.where);
      }
      await run.finish();
    } finally {
      await run.close();
    }
  }

  // the row type is the caller's claim (as collect<T>'s): the reader yields plain rows
  return new BatchSource<Row>({
    name: plan.stageName,
    open,
    progress: () => ({
      rows: counters.rows,
      bytes: counters.bytesRead() + (plan.compression ? 0 : (resume.from?.byte ?? 0)),
      totalBytes,
    }),
    checkpoint: resume.hooks,
    offer: output.offer,
  }) as BatchSource<R>;
}

async function fileSize(plan: CsvPlan): Promise<number> {
  try {
    return (await stat(plan.file!)).size;
  } catch (error) {
    throw new IoError(
      `Cannot read ${plan.file}: ${(error as Error).message}`,
      { stage: plan.stageName, file: plan.file },
      { cause: error },
    );
  }
}
