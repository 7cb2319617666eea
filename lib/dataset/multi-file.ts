/**
 * A dataset source: many files read as one source, one file open at a time. It plans the read
 * (dataset-plan.ts: expands the input, reads hive partitions, prunes whole files whose partition
 * values cannot match `where` before opening them, measures totals), then runs the ordinary
 * single-file source of the format on each file in turn (so every format keeps its own reader,
 * error policy and batching), unifies the files' schemas, adds the partition and file-name
 * columns and filters rows exactly (dataset-columns.ts). Options: dataset-options.ts. Totals
 * cover all files from the start (sizes by `stat`, row counts from footers when the format has
 * them). Why a wrapper and not a feature of each reader: the readers stay single-file and simple,
 * and every format gets the same dataset semantics.
 */
import { Batch, type Row } from '../core/batch.ts';
import { BatchSource } from '../core/source.ts';
import { STAGE, type StageContext, type StageStats } from '../core/stage.ts';
import { IoError, SpillwayError } from '../core/errors.ts';
import { Unifier, unifierArrow } from './schema-unifier.ts';
import type { DatasetFile, DatasetInput } from './expand.ts';
import { DatasetResume } from './dataset-resume.ts';
import type { CheckpointJson } from '../observe/checkpoint.ts';
import { compilePredicate, type Predicate, type RowTest } from './predicate.ts';
import type { DatasetFormat, DatasetSettings } from './dataset-options.ts';
import { planDataset, type DatasetPlan } from './dataset-plan.ts';
export {
  DATASET_OPTION_KEYS,
  splitDatasetOptions,
  usesDatasetOptions,
  type DatasetFormat,
  type DatasetOptions,
  type DatasetSettings,
} from './dataset-options.ts';
import type { ExtraColumn } from './dataset-columns.ts';
import { lazyImport } from '../core/lazy-import.ts';
import { closeStream } from '../io/close-stream.ts';
import { FormChoice } from '../core/negotiate.ts';

// virtual columns and filters work on Arrow too: they load with the first file, not with `import 'spillway'`
const columnsModule = lazyImport(() => import('./dataset-columns.ts'));

/** The running counters of a dataset read (progress reads them). */
interface DatasetCounters {
  rowsDone: number;
  /** Rows of the files read to their end, before the dataset's filter (see SourceProgress.rowsScanned). */
  rowsScanned: number;
  bytesDone: number;
  totalBytes: number | undefined;
  totalRows: number | undefined;
  /** The file being read. */
  current: BatchSource<Row> | undefined;
  /** Index of the next batch the dataset delivers. */
  index: number;
}

/**
 * A source over every file of `input`. See the module comment; `format` supplies the per-file
 * source. Checkpoints record the file list and the position inside the current file (dataset-resume.ts).
 */
export function datasetSource(input: DatasetInput, settings: DatasetSettings, format: DatasetFormat): BatchSource<Row> {
  const stage = format.name;
  const counters: DatasetCounters = {
    rowsDone: 0,
    rowsScanned: 0,
    bytesDone: 0,
    totalBytes: undefined,
    totalRows: undefined,
    current: undefined,
    index: 0,
  };
  const resume = new DatasetResume({
    // bigints (a `where` value) as `123n`: JSON has none, and the identity must not throw
    identity: JSON.parse(
      JSON.stringify({ source: stage, input, settings, format: format.checkpoint?.identity ?? null }, (_k, v) =>
        typeof v === 'bigint' ? `${v}n` : v,
      ),
    ) as CheckpointJson,
    refuse:
      format.checkpoint === undefined
        ? `${stage} has no resume support, over one file or many`
        : format.checkpoint.refuse,
  });

  // the pipeline may choose Arrow for every file (lib/core/negotiate.ts), as for one file
  const choice = new FormChoice(format.negotiable === true);

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    const plan = await planDataset(input, settings, format, resume, context, stats, choice.projected);
    if (plan === undefined) return;
    if (plan.projected) stats.details.projection = plan.projected.join(', ');
    counters.totalBytes = plan.totalBytes;
    counters.totalRows = plan.totalRows;
    // one form for every file: the schema unifier widens Arrow schemas or checks row values, not a mix
    const output = choice.chosen === 'arrow' && plan.rowsOnly === undefined ? 'arrow' : undefined;
    choice.note(stats, output ?? 'rows', plan.rowsOnly);
    const read = new FileRead(settings, format, plan, resume, counters, output);
    counters.index = resume.from?.index ?? 0;
    counters.rowsDone = resume.from?.rows ?? 0;
    const indexOf = new Map(plan.all.map((f, i) => [f, i]));
    for (const file of plan.files) {
      if (context.signal.aborted || context.stopRequested) return;
      const at = indexOf.get(file)!;
      if (resume.skips(at)) {
        counters.bytesDone += resume.sizeOf(at) ?? file.size ?? 0;
        continue;
      }
      yield* read.file(file, at, context, stats);
    }
    // nothing read (empty files, or a filter that kept no row): the columns, as one file alone gives them
    if (counters.rowsDone === 0 && resume.from === undefined && read.empty !== undefined) {
      const position = { source: plan.files[0]?.path ?? stage, index: counters.index++, rowStart: 0 };
      const empty = read.empty;
      yield empty.hasArrow && !empty.hasRows
        ? (Batch.fromArrow(empty.arrow, position) as Batch<Row>)
        : new Batch([], position, 0, empty.columns);
    }
  }

  return new BatchSource<Row>({
    name: stage,
    open,
    checkpoint: resume.hooks,
    offer: choice.offer,
    progress: () => {
      const now = counters.current?.progress();
      const { totalBytes, totalRows } = counters;
      // with a filter the rows out are fewer than the input's: progress is of the input passed over
      const filtered = settings.where !== undefined && totalRows !== undefined;
      return {
        rows: counters.rowsDone,
        ...(filtered ? { rowsScanned: counters.rowsScanned + (now?.rows ?? 0) } : {}),
        bytes: counters.bytesDone + (now?.bytes ?? 0),
        ...(totalBytes === undefined ? {} : { totalBytes }),
        ...(totalRows === undefined ? {} : { totalRows }),
      };
    },
  });
}

/** Reads one file of a planned dataset after another, through the format's single-file source. */
class FileRead {
  readonly #format: DatasetFormat;
  readonly #plan: DatasetPlan;
  readonly #resume: DatasetResume;
  readonly #counters: DatasetCounters;
  readonly #fileColumn: string | undefined;
  readonly #where: Predicate | undefined;
  readonly #test: RowTest | undefined;
  readonly #unifier: Unifier;
  /** Arrow when the pipeline chose it for every file; else each file's own form. */
  readonly #output: 'arrow' | undefined;
  /**
   * The first batch of no rows a file gave (its columns, shaped as the dataset's): delivered at
   * the end when no file gave a row, so that a sink still writes the columns (a CSV header).
   */
  empty: Batch<Row> | undefined;

  constructor(
    settings: DatasetSettings,
    format: DatasetFormat,
    plan: DatasetPlan,
    resume: DatasetResume,
    counters: DatasetCounters,
    output?: 'arrow',
  ) {
    this.#output = output;
    this.#format = format;
    this.#plan = plan;
    this.#resume = resume;
    this.#counters = counters;
    this.#fileColumn = settings.fileColumn;
    this.#where = settings.where;
    this.#test = settings.where ? compilePredicate(settings.where) : undefined;
    this.#unifier = new Unifier(format.name, plan.arrowSchema);
  }

  /** The batches of `file` (index `at` in the listed files), with the dataset's columns, filter and projection. */
  async *file(file: DatasetFile, at: number, context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    const stage = this.#format.name;
    const counters = this.#counters;
    const [columns] = await Promise.all([columnsModule.load(), unifierArrow.load()]);
    // a file reads the projected columns it has; those it lacks are added as nulls (#shape)
    const has = this.#plan.columnsOf?.get(file.path);
    const fileColumns = has ? this.#plan.fileColumns?.filter((c) => has.has(c)) : this.#plan.fileColumns;
    const source = await this.#format.openFile(file.path, fileColumns, this.#where, this.#output, [
      ...this.#plan.virtual,
    ]);
    counters.current = source;
    this.#resume.prepare(source, at, stage);
    source[STAGE].attach(context);
    const extra = columns.extraColumns(file, this.#plan.partitions, this.#fileColumn);
    try {
      for await (const batch of source as AsyncIterable<Batch<Row>>) {
        if (batch.numRows === 0) {
          // a file of no rows, or all pruned: its columns, kept in case no file gives a row
          this.empty ??= this.#trim(columns, columns.addColumns(batch, extra));
          continue;
        }
        const out = this.#shape(columns, batch, extra, file.path);
        if (out.numRows === 0) {
          this.empty ??= out;
          continue;
        }
        const position = { source: file.path, index: counters.index++, rowStart: counters.rowsDone };
        const result =
          out.hasArrow && !out.hasRows
            ? (Batch.fromArrow(out.arrow, position) as Batch<Row>)
            : new Batch(out.rows, position);
        counters.rowsDone += out.numRows;
        this.#resume.note(result.position, batch.position, batch.numRows, at, source);
        yield result;
      }
    } catch (error) {
      throw error instanceof SpillwayError
        ? error
        : new IoError(
            `Cannot read dataset file: ${(error as Error).message}`,
            { stage, file: file.path },
            { cause: error },
          );
    } finally {
      // the file's source closes its file before 'close': a stopped dataset leaves no descriptor
      await closeStream(source);
    }
    this.#addStats(source, stats);
    counters.bytesDone += sizeOf(source);
    // the whole file is passed over, row groups skipped by its statistics too
    counters.rowsScanned += source.progress().totalRows ?? source[STAGE].stats.rowsOut;
    counters.current = undefined;
  }

  /** A file's batch as the dataset delivers it: virtual columns added, schema unified, filtered, projected. */
  #shape(
    columns: typeof import('./dataset-columns.ts'),
    batch: Batch<Row>,
    extra: readonly ExtraColumn[],
    path: string,
  ): Batch<Row> {
    let out = columns.addColumns(batch, extra);
    const union = this.#plan.fileColumns ?? this.#plan.union;
    if (union !== undefined) out = columns.addNullColumns(out, union);
    out = this.#unifier.conform(out, path);
    if (this.#test) out = columns.filterBatch(out, this.#test, this.#format.emptyTextIsNull === true);
    return this.#trim(columns, out);
  }

  #trim(columns: typeof import('./dataset-columns.ts'), batch: Batch<Row>): Batch<Row> {
    return this.#plan.trim ? columns.project(batch, this.#plan.trim) : batch;
  }

  /** Adds a finished file's counters to the dataset's. */
  #addStats(source: BatchSource<Row>, stats: StageStats): void {
    const inner = source[STAGE].stats;
    for (const key of this.#format.sumDetails ?? []) {
      const v = inner.details[key];
      if (typeof v === 'number') stats.details[key] = ((stats.details[key] as number | undefined) ?? 0) + v;
    }
    stats.rowsSkipped += inner.rowsSkipped;
    stats.rowsDeadLettered += inner.rowsDeadLettered;
  }
}

function sizeOf(source: BatchSource<Row>): number {
  const p = source.progress();
  return p.totalBytes ?? p.bytes;
}
