/**
 * What a dataset source knows before it opens its first file: the files listed (expand.ts), their
 * hive partitions (hive.ts), the files `where` prunes from their partition values and names
 * alone, the totals for progress (sizes by `stat`, row counts from footers when the format has
 * them), and the columns each file must read. Planned once per run, in `open`.
 */
import { stat } from 'node:fs/promises';
import type { StageContext, StageStats } from '../core/stage.ts';
import { IoError, SchemaMismatchError, ValidationError, describeValue } from '../core/errors.ts';
import { expandDataset, type DatasetFile, type DatasetInput } from './expand.ts';
import { readHivePartitions, type HivePartitions } from './hive.ts';
import { isRemoteUrl } from './remote/url.ts';
import type { DatasetResume } from './dataset-resume.ts';
import type { DatasetFormat, DatasetSettings, FileDescription } from './dataset-options.ts';
import type { Field, Schema } from 'apache-arrow';
import { unifierArrow, widenAcrossFiles } from './schema-unifier.ts';
import { TRUE, knownValuesLeaf, possibleOutcomes, predicateColumns } from './predicate.ts';

/** A planned dataset read. */
export interface DatasetPlan {
  /** Every listed file, in the documented (sorted) order. */
  all: DatasetFile[];
  /** The files to open: those `where` does not prune. */
  files: DatasetFile[];
  partitions: HivePartitions | undefined;
  /** Columns that come from the path, not the file: partition keys and the file-name column. */
  virtual: Set<string>;
  totalBytes: number | undefined;
  totalRows: number | undefined;
  /** What each file reads: the projection without virtual columns, plus what `where` reads (projection formats only). */
  fileColumns: string[] | undefined;
  /** The projection asked for, when the files' batches must be projected again to it. */
  trim: readonly string[] | undefined;
  /** The columns negotiation asked for (no `columns` given), when applied: what each file reads. */
  projected: readonly string[] | undefined;
  /**
   * Why the files cannot all be read as Arrow with the values rows would have (a column of a
   * file, or files the footers could not describe); undefined when they can (negotiable formats).
   */
  rowsOnly: string | undefined;
  /**
   * One Arrow schema for every file's projected columns (Parquet footers), when files differ in a
   * type that widens (SMALLINT and INTEGER, DECIMAL(10,2) and DECIMAL(12,4), DATE and TIMESTAMP):
   * every batch is cast to it from the first, so a sink fixes the type the dataset needs and not
   * the first file's. Undefined when the files agree, or cannot be described.
   */
  arrowSchema: Schema | undefined;
  /**
   * Every file column of the files (described from their footers), in order of first appearance,
   * virtual columns aside: each batch gets the ones its file lacks as nulls, as DuckDB's
   * `union_by_name` reads a dataset whose later files added a column. Undefined when not described.
   */
  union: readonly string[] | undefined;
  /** The file columns of each described file (to project each file on the columns it has). */
  columnsOf: ReadonlyMap<string, ReadonlySet<string>> | undefined;
}

/**
 * Lists, prunes and measures the dataset; notes the listed files with `resume` (which checks them
 * against a checkpoint). Undefined when the run was aborted while planning. `project`: the only
 * columns the next stage reads (projection pushdown, lib/core/negotiate.ts), used as `columns`
 * when none were given and every file column of it is in some file (described from the footers).
 */
export async function planDataset(
  input: DatasetInput,
  settings: DatasetSettings,
  format: DatasetFormat,
  resume: DatasetResume,
  context: StageContext,
  stats: StageStats,
  project?: readonly string[],
): Promise<DatasetPlan | undefined> {
  const stage = format.name;
  const all = await expandDataset(input);
  const partitions = readHivePartitions(all, settings.hive, settings.hiveTypes);
  const virtual = new Set<string>([...(partitions?.keys ?? []), ...(settings.fileColumn ? [settings.fileColumn] : [])]);
  const files = prune(all, partitions, virtual, settings);
  await resume.list(all, stage, context.signal);
  stats.details.files = all.length;
  stats.details.filesPruned = all.length - files.length;
  const totalBytes = await sumSizes(files, stage);
  const described = await describeFiles(files, format, virtual, context);
  if (described === null) return undefined;
  const where = settings.where;
  if (described !== undefined && where !== undefined) {
    // as SQL does: a column no file has is a mistake, not a column of nulls
    const unknown = [...predicateColumns(where)].filter((c) => !described.columns.has(c));
    if (unknown.length > 0) {
      throw new ValidationError(
        `Expected \`options.where\` to name columns of the dataset; ${unknown.map((c) => describeValue(c)).join(', ')} is in no file (columns: ${[...described.columns].join(', ')})`,
      );
    }
  }
  if (described !== undefined && settings.columns !== undefined) {
    // a column some file has is a column of the dataset (the others read it as null)
    const unknown = settings.columns.filter((c) => !described.columns.has(c));
    if (unknown.length > 0)
      throw new ValidationError(
        `Expected \`options.columns\` to name columns of the dataset; ${unknown.map((c) => describeValue(c)).join(', ')} is in no file (columns: ${[...described.columns].join(', ')})`,
      );
  }
  const soft =
    settings.columns === undefined &&
    project !== undefined &&
    described !== undefined &&
    project.every((c) => virtual.has(c) || described.columns.has(c))
      ? [...project]
      : undefined;
  const wanted = format.projects ? (settings.columns ?? soft) : undefined;
  let fileColumns: string[] | undefined;
  if (wanted !== undefined) {
    fileColumns = wanted.filter((c) => !virtual.has(c));
    for (const c of where ? predicateColumns(where) : [])
      if (!virtual.has(c) && !fileColumns.includes(c)) fileColumns.push(c);
  }
  const arrow = described && (await plannedArrowSchema(files, described, fileColumns, virtual));
  // project again when partition/file columns were added or `where` needed columns beyond the projection
  const trim = wanted !== undefined && (virtual.size > 0 || fileColumns!.length !== wanted.length) ? wanted : undefined;
  return {
    all,
    files,
    partitions,
    virtual,
    totalBytes,
    totalRows: described?.rows,
    fileColumns,
    trim,
    projected: format.projects && soft !== undefined ? fileColumns : undefined,
    rowsOnly: format.negotiable ? (rowsOnlyReason(described, fileColumns) ?? arrow?.conflict) : undefined,
    arrowSchema: arrow?.schema,
    union: described === undefined ? undefined : unionOf(files, described, virtual),
    columnsOf:
      described === undefined
        ? undefined
        : new Map([...described.files].map(([path, file]) => [path, new Set(file.columns)])),
  };
}

/**
 * The Arrow schema holding every file's projected columns, when the files' own schemas differ
 * (see {@link DatasetPlan.arrowSchema}); `conflict` says why the files cannot share one (a
 * negotiated read then reads rows, whose values each file gives as it is). Undefined when a file
 * has no Arrow schema in its description, or all agree.
 */
async function plannedArrowSchema(
  files: readonly DatasetFile[],
  described: Described,
  fileColumns: readonly string[] | undefined,
  virtual: ReadonlySet<string>,
): Promise<{ schema?: Schema; conflict?: string } | undefined> {
  const schemas: [string, Schema][] = [];
  for (const file of files) {
    const schema = described.files.get(file.path)?.arrowSchema;
    if (schema === undefined) return undefined;
    schemas.push([file.path, schema]);
  }
  if (schemas.length < 2) return undefined;
  const { schemasEqual } = await unifierArrow.load();
  const { Schema: ArrowSchema } = await import('apache-arrow');
  const keep = (schema: Schema): Schema =>
    new ArrowSchema(
      schema.fields.filter((f) => !virtual.has(f.name) && (fileColumns === undefined || fileColumns.includes(f.name))),
      schema.metadata,
    );
  const from = new Map<string, string>();
  const kept = schemas.map(([path, own]) => [path, keep(own)] as const);
  let unified: Schema | undefined;
  try {
    for (const [path, schema] of kept) unified = widenAcrossFiles(unified, schema, path, from, 'dataset');
  } catch (error) {
    if (!(error instanceof SchemaMismatchError)) throw error;
    return { conflict: `${error.message}, so every file is read as rows` };
  }
  // a file's own type that the unified one is not (a column a file lacks is nulls: no cast)
  const one = (f: Field): Schema => new ArrowSchema([f]);
  const differ = kept.some(([, schema]) =>
    schema.fields.some((f) => {
      const u = unified!.fields.find((x) => x.name === f.name);
      return u !== undefined && !schemasEqual(one(u), one(f));
    }),
  );
  return differ ? { schema: unified } : undefined;
}

/** The file columns of `files` in order of first appearance, virtual columns left out. */
function unionOf(files: readonly DatasetFile[], described: Described, virtual: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const file of files)
    for (const c of described.files.get(file.path)?.columns ?? []) if (!virtual.has(c)) out.add(c);
  return [...out];
}

/** The first column read (of the projection, or any) that a file reads only as rows; see {@link DatasetPlan.rowsOnly}. */
function rowsOnlyReason(
  described: Described | undefined,
  fileColumns: readonly string[] | undefined,
): string | undefined {
  if (described === undefined) return 'the files could not all be described from their footers';
  for (const [path, file] of described.files) {
    const hit = file.rowsOnly?.find((c) => fileColumns === undefined || fileColumns.includes(c.column));
    if (hit) return `${path}: ${hit.why}, and so is every file`;
  }
  return undefined;
}

/** The files whose partition values and names can match `where` (all of them without one). */
function prune(
  all: DatasetFile[],
  partitions: HivePartitions | undefined,
  virtual: Set<string>,
  settings: DatasetSettings,
): DatasetFile[] {
  const where = settings.where;
  if (where === undefined || virtual.size === 0) return [...all];
  return all.filter((file) => {
    const known: Record<string, unknown> = { ...(partitions?.values.get(file.path) ?? {}) };
    if (settings.fileColumn) known[settings.fileColumn] = file.path;
    return (possibleOutcomes(where, knownValuesLeaf(known)) & TRUE) !== 0;
  });
}

/** The bytes of all files; undefined when an HTTP URL's size is only learnt when it is opened. */
async function sumSizes(files: readonly DatasetFile[], stage: string): Promise<number | undefined> {
  let sizes = 0;
  for (const file of files) {
    if (file.size !== undefined) sizes += file.size;
    else if (isRemoteUrl(file.path)) return undefined;
    else {
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
  }
  return sizes;
}

/**
 * The row count and column names of all files from their footers; undefined when the format
 * cannot say or a file cannot be described (it fails later, when read, with the reader's own
 * error); null when the run was aborted meanwhile.
 */
async function describeFiles(
  files: readonly DatasetFile[],
  format: DatasetFormat,
  virtual: Set<string>,
  context: StageContext,
): Promise<Described | undefined | null> {
  if (!format.describe) return undefined;
  let rows = 0;
  const columns = new Set<string>(virtual);
  const each = new Map<string, FileDescription>();
  for (const file of files) {
    if (context.signal.aborted) return null;
    const described = await format.describe(file.path).catch(() => undefined);
    if (described === undefined) return undefined;
    rows += described.rows;
    for (const c of described.columns) columns.add(c);
    each.set(file.path, described);
  }
  return { rows, columns, files: each };
}

/** The footers of all files: total rows, every column, and each file's description. */
interface Described {
  rows: number;
  columns: Set<string>;
  files: Map<string, FileDescription>;
}
