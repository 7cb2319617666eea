/**
 * A dataset source: many files read as one source, one file open at a time. It expands the input
 * (lib/dataset/expand.ts), reads hive partitions (hive.ts), prunes whole files whose partition
 * values cannot match `where` before opening them, then runs the ordinary single-file source of
 * the format on each file in turn (so every format keeps its own reader, error policy and
 * batching), unifies the files' schemas, adds the partition and file-name columns, and filters
 * rows exactly. Totals cover all files from the start (sizes by `stat`, row counts from footers
 * when the format has them). Why a wrapper and not a feature of each reader: the readers stay
 * single-file and simple, and every format gets the same dataset semantics.
 */
import { stat } from 'node:fs/promises';
import {
  Field,
  RecordBatch,
  Schema,
  Struct,
  makeData,
  Float64,
  Int64,
  TimestampMillisecond,
  Utf8,
  type DataType,
} from 'apache-arrow';
import { Batch, type Row } from '../core/batch.ts';
import { BatchSource } from '../core/source.ts';
import { STAGE, type StageContext, type StageStats } from '../core/stage.ts';
import { IoError, SpillwayError, ValidationError, describeValue } from '../core/errors.ts';
import { buildColumn } from '../formats/arrow/convert.ts';
import { isBatchSelectable, selectRows } from '../formats/arrow/select.ts';
import { RowViewer, isViewable } from '../core/row-view.ts';
import { Unifier } from './schema-unifier.ts';
import { expandDataset, type DatasetFile, type DatasetInput } from './expand.ts';
import { isRemoteUrl } from './remote/url.ts';
import { DatasetResume } from './dataset-resume.ts';
import type { CheckpointJson } from '../observe/checkpoint.ts';
import { readHivePartitions, expectHiveTypes, type HivePartitions, type HiveType, type HiveValue } from './hive.ts';
import {
  TRUE,
  compilePredicate,
  expectPredicate,
  knownValuesLeaf,
  possibleOutcomes,
  predicateColumns,
  type Predicate,
  type RowTest,
} from './predicate.ts';

/** The options every file source accepts for datasets (on top of its own). */
export interface DatasetOptions {
  /** Add a column of this name holding each row's file path (default: none). */
  fileColumn?: string;
  /**
   * Read `key=value` directories as partition columns: `true` (the keys must be the same for all
   * files), `false`, or `'auto'` (default: when every file has the same non-empty keys).
   */
  hive?: boolean | 'auto';
  /** Partition column types instead of inferring them (`{ symbol: 'string' }` keeps `007` a string). */
  hiveTypes?: Record<string, HiveType>;
  /**
   * Keep only rows where this predicate is true (SQL semantics; see {@link Predicate}). Files whose
   * partition values cannot match are never opened; Parquet row groups whose statistics cannot
   * match are never read.
   */
  where?: Predicate;
}

/** The dataset-only option names, stripped before the single-file source sees its options. */
export const DATASET_OPTION_KEYS = ['fileColumn', 'hive', 'hiveTypes', 'where'] as const;

/** What a format provides to read one file of a dataset. */
export interface DatasetFormat {
  /** Stage name (`fromParquet`). */
  name: string;
  /** True when the format's `columns` option is a projection the dataset layer may narrow. */
  projects: boolean;
  /** The single-file source for `path`, reading `columns` (projection formats only), pruning by `where` when it can. */
  openFile(path: string, columns: readonly string[] | undefined, where: Predicate | undefined): BatchSource<Row>;
  /** The file's row count and columns when they are cheap to know (a footer), for progress totals and checking `where`. */
  describe?(path: string): Promise<{ rows: number; columns: readonly string[] }>;
  /** Detail keys of the per-file stats to add up across files (`rowGroupsSkipped`, `bytesRead`). */
  sumDetails?: readonly string[];
  /** The single-file source's checkpoint identity (options), or why it cannot resume; undefined: no resume support. */
  checkpoint?: { identity: CheckpointJson; refuse?: string };
}

/** Validated dataset options, split from the format's own. */
export interface DatasetSettings {
  fileColumn?: string;
  hive: boolean | 'auto';
  hiveTypes?: Record<string, HiveType>;
  where?: Predicate;
  /** The projection the user asked for (projection formats only). */
  columns?: readonly string[];
}

/** Validates the dataset options of `options` (synchronously) and returns them with the rest. */
export function splitDatasetOptions<O extends object>(
  options: O | undefined,
): { settings: DatasetSettings; rest: Omit<O, (typeof DATASET_OPTION_KEYS)[number]> } {
  const { fileColumn, hive, hiveTypes, where, ...rest } = (options ?? {}) as O & DatasetOptions;
  if (fileColumn !== undefined && (typeof fileColumn !== 'string' || fileColumn.length === 0)) {
    throw new ValidationError(
      `Expected \`options.fileColumn\` to be a non-empty column name, got ${describeValue(fileColumn)}`,
    );
  }
  if (hive !== undefined && hive !== true && hive !== false && hive !== 'auto') {
    throw new ValidationError(`Expected \`options.hive\` to be true, false or 'auto', got ${describeValue(hive)}`);
  }
  const types = expectHiveTypes(hiveTypes, 'options.hiveTypes');
  const predicate = where === undefined ? undefined : expectPredicate(where);
  return {
    settings: {
      ...(fileColumn ? { fileColumn } : {}),
      hive: hive ?? 'auto',
      ...(types ? { hiveTypes: types } : {}),
      ...(predicate ? { where: predicate } : {}),
    },
    rest: rest as Omit<O, (typeof DATASET_OPTION_KEYS)[number]>,
  };
}

/** True when `options` uses a dataset-only option (so even one file goes through the dataset source). */
export function usesDatasetOptions(options: unknown): boolean {
  return (
    options !== null &&
    typeof options === 'object' &&
    DATASET_OPTION_KEYS.some((k) => (options as Record<string, unknown>)[k] !== undefined)
  );
}

/** The Arrow type of a partition column. */
function hiveArrowType(type: HiveType): DataType {
  switch (type) {
    case 'int':
      return new Int64();
    case 'double':
      return new Float64();
    case 'date':
      return new TimestampMillisecond();
    case 'string':
      return new Utf8();
  }
}

/**
 * A source over every file of `input`. See the module comment; `format` supplies the per-file
 * source. Checkpoints record the file list and the position inside the current file (dataset-resume.ts).
 */
export function datasetSource(input: DatasetInput, settings: DatasetSettings, format: DatasetFormat): BatchSource<Row> {
  const stage = format.name;
  const where = settings.where;
  const test: RowTest | undefined = where ? compilePredicate(where) : undefined;
  let rowsDone = 0;
  let bytesDone = 0;
  let totalBytes: number | undefined;
  let totalRows: number | undefined;
  let current: BatchSource<Row> | undefined;
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

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    const all = await expandDataset(input);
    const partitions = readHivePartitions(all, settings.hive, settings.hiveTypes);
    const virtual = new Set<string>([
      ...(partitions?.keys ?? []),
      ...(settings.fileColumn ? [settings.fileColumn] : []),
    ]);
    // prune files from what is known without opening them: partition values and the file name
    const files: DatasetFile[] = [];
    for (const file of all) {
      if (where !== undefined && virtual.size > 0) {
        const known: Record<string, unknown> = { ...(partitions?.values.get(file.path) ?? {}) };
        if (settings.fileColumn) known[settings.fileColumn] = file.path;
        if (!(possibleOutcomes(where, knownValuesLeaf(known)) & TRUE)) continue;
      }
      files.push(file);
    }
    await resume.list(all, stage, context.signal);
    stats.details.files = all.length;
    stats.details.filesPruned = all.length - files.length;
    let sizes = 0;
    for (const file of files) {
      if (file.size !== undefined) {
        sizes += file.size;
        continue;
      }
      // HTTP URLs: sizes are learnt when each is opened (no request before)
      if (isRemoteUrl(file.path)) {
        sizes = Number.NaN;
        continue;
      }
      try {
        sizes += (await stat(file.path)).size;
      } catch (error) {
        throw new IoError(
          `Cannot read dataset file: ${(error as Error).message}`,
          { stage, file: file.path },
          { cause: error },
        );
      }
    }
    if (!Number.isNaN(sizes)) totalBytes = sizes;
    if (format.describe) {
      let rows = 0;
      const known = new Set<string>(virtual);
      for (const file of files) {
        if (context.signal.aborted) return;
        // a file that cannot be described fails later, when it is read, with the reader's own error
        const described = await format.describe(file.path).catch(() => undefined);
        if (described === undefined) {
          rows = Number.NaN;
          break;
        }
        rows += described.rows;
        for (const c of described.columns) known.add(c);
      }
      if (!Number.isNaN(rows)) {
        totalRows = rows;
        // as SQL does: a column no file has is a mistake, not a column of nulls
        const unknown = where ? [...predicateColumns(where)].filter((c) => !known.has(c)) : [];
        if (unknown.length > 0) {
          throw new ValidationError(
            `Expected \`options.where\` to name columns of the dataset; ${unknown.map((c) => describeValue(c)).join(', ')} is in no file (columns: ${[...known].join(', ')})`,
          );
        }
      }
    }
    // what each file must read: the projection without virtual columns, plus what `where` reads
    const wanted = format.projects ? settings.columns : undefined;
    let fileColumns: string[] | undefined;
    if (wanted !== undefined) {
      fileColumns = wanted.filter((c) => !virtual.has(c));
      for (const c of where ? predicateColumns(where) : [])
        if (!virtual.has(c) && !fileColumns.includes(c)) fileColumns.push(c);
    }
    // project again when partition/file columns were added or `where` needed columns beyond the projection
    const trim = wanted !== undefined && (virtual.size > 0 || fileColumns!.length !== wanted.length);
    const unifier = new Unifier(stage);
    let index = resume.from?.index ?? 0;
    rowsDone = resume.from?.rows ?? 0;
    const indexOf = new Map(all.map((f, i) => [f, i]));
    for (const file of files) {
      if (context.signal.aborted || context.stopRequested) return;
      const at = indexOf.get(file)!;
      if (resume.skips(at)) {
        bytesDone += resume.sizeOf(at) ?? file.size ?? 0;
        continue;
      }
      const source = format.openFile(file.path, fileColumns, where);
      current = source;
      resume.prepare(source, at, stage);
      source[STAGE].attach(context);
      const extra = extraColumns(file, partitions, settings.fileColumn);
      try {
        for await (const batch of source as AsyncIterable<Batch<Row>>) {
          const size = batch.numRows;
          const position = batch.position;
          let out = addColumns(batch, extra);
          out = unifier.conform(out, file.path);
          if (test) out = filterBatch(out, test);
          if (trim) out = project(out, wanted!);
          if (out.numRows === 0) continue;
          const result =
            out.hasArrow && !out.hasRows
              ? (Batch.fromArrow(out.arrow, { source: file.path, index: index++, rowStart: rowsDone }) as Batch<Row>)
              : new Batch(out.rows, { source: file.path, index: index++, rowStart: rowsDone });
          rowsDone += out.numRows;
          resume.note(result.position, position, size, at, source);
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
        if (!source.destroyed) source.destroy();
      }
      const inner = source[STAGE].stats;
      for (const key of format.sumDetails ?? []) {
        const v = inner.details[key];
        if (typeof v === 'number') stats.details[key] = ((stats.details[key] as number | undefined) ?? 0) + v;
      }
      stats.rowsSkipped += inner.rowsSkipped;
      stats.rowsDeadLettered += inner.rowsDeadLettered;
      bytesDone += sizeOf(source);
      current = undefined;
    }
  }

  return new BatchSource<Row>({
    name: stage,
    open,
    checkpoint: resume.hooks,
    progress: () => {
      const now = current?.progress();
      return {
        rows: rowsDone,
        bytes: bytesDone + (now?.bytes ?? 0),
        ...(totalBytes === undefined ? {} : { totalBytes }),
        ...(totalRows === undefined ? {} : { totalRows }),
      };
    },
  });
}

function sizeOf(source: BatchSource<Row>): number {
  const p = source.progress();
  return p.totalBytes ?? p.bytes;
}

/** The partition and file-name columns of one file: name, value and Arrow type. */
interface ExtraColumn {
  readonly name: string;
  readonly value: HiveValue;
  readonly type: DataType;
}

function extraColumns(
  file: DatasetFile,
  partitions: HivePartitions | undefined,
  fileColumn: string | undefined,
): ExtraColumn[] {
  const out: ExtraColumn[] = [];
  const values = partitions?.values.get(file.path);
  for (const key of partitions?.keys ?? [])
    out.push({ name: key, value: values?.[key] ?? null, type: hiveArrowType(partitions!.types[key]!) });
  if (fileColumn) out.push({ name: fileColumn, value: file.path, type: new Utf8() });
  return out;
}

/** Adds constant columns (replacing a file column of the same name). */
function addColumns(batch: Batch<Row>, extra: readonly ExtraColumn[]): Batch<Row> {
  if (extra.length === 0) return batch;
  if (batch.hasArrow && !batch.hasRows) {
    const rb = batch.arrow;
    const names = new Set(extra.map((e) => e.name));
    const keep = rb.schema.fields.map((f, i) => [f, i] as const).filter(([f]) => !names.has(f.name));
    const fields = [...keep.map(([f]) => f), ...extra.map((e) => new Field(e.name, e.type, true))];
    const children = [
      ...keep.map(([, i]) => rb.data.children[i]!),
      ...extra.map((e, k) =>
        buildColumn(
          fields[keep.length + k]!,
          new Array<unknown>(rb.numRows).fill(
            e.type instanceof Int64 && typeof e.value === 'number' ? BigInt(e.value) : e.value,
          ),
        ),
      ),
    ];
    const schema = new Schema(fields, rb.schema.metadata);
    const data = makeData({ type: new Struct(fields), length: rb.numRows, nullCount: 0, children });
    return Batch.fromArrow(new RecordBatch(schema, data), batch.position) as Batch<Row>;
  }
  const rows = batch.rows as Record<string, unknown>[];
  for (const row of rows) for (const e of extra) row[e.name] = e.value;
  return batch;
}

/** Keeps rows where `test` is true: on the Arrow buffers when it can, else on rows. */
function filterBatch(batch: Batch<Row>, test: RowTest): Batch<Row> {
  if (batch.hasArrow && !batch.hasRows) {
    const rb = batch.arrow;
    if (isViewable(rb) && isBatchSelectable(rb)) {
      const viewer = new RowViewer<Record<string, unknown>>(rb);
      const view = viewer.view;
      const get = (col: string): unknown => view[col];
      const keep: number[] = [];
      for (let i = 0; i < rb.numRows; i++) {
        viewer.index = i;
        if (test(get) === TRUE) keep.push(i);
      }
      return Batch.fromArrow(selectRows(rb, keep), batch.position) as Batch<Row>;
    }
  }
  const rows = batch.rows as Record<string, unknown>[];
  const kept = rows.filter((row) => test((col) => row[col]) === TRUE);
  return kept.length === rows.length ? batch : new Batch(kept, batch.position);
}

/** Keeps `columns`, in that order. */
function project(batch: Batch<Row>, columns: readonly string[]): Batch<Row> {
  if (batch.hasArrow && !batch.hasRows)
    return Batch.fromArrow(batch.arrow.select(columns as string[]), batch.position) as Batch<Row>;
  const rows = (batch.rows as Record<string, unknown>[]).map((row) => {
    const out: Record<string, unknown> = {};
    for (const c of columns) out[c] = row[c] ?? null;
    return out;
  });
  return new Batch(rows, batch.position);
}
