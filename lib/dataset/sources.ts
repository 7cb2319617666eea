/**
 * The glue between the file sources and the dataset source: one function per format that splits
 * the dataset options from the format's own, validates both at once (by building a throwaway
 * single-file source, which opens nothing), and returns a dataset source whose per-file readers
 * are the format's ordinary single-file sources. The factories are passed in, so sources/ and
 * lib/dataset/ do not import each other in a cycle.
 */
import type { Schema } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import type { BatchSource } from '../core/source.ts';
import { loadParquetReader } from '../formats/parquet/load.ts';
import { expectDatasetInput, isDatasetInput, type DatasetInput } from './expand.ts';
import { datasetSource, splitDatasetOptions, usesDatasetOptions, type DatasetFormat } from './multi-file.ts';
import { PRUNE_WHERE, type PruneRequest } from './pushdown.ts';
import { DATASET_FILE, isDatasetFile } from './file-mark.ts';
import type { Predicate } from './predicate.ts';
import type { Readable } from 'node:stream';
import { isRemoteUrl, remotePathname } from './remote/url.ts';

/** True when a file source must read `input` with `options` as a dataset (many files, a URL, or dataset options). */
export function isDatasetRequest(input: unknown, options: unknown): boolean {
  if (isDatasetFile(options)) return false;
  return isDatasetInput(input) || usesDatasetOptions(options);
}

type Factory<O> = (path: string, options?: O) => BatchSource<Row>;

/**
 * Builds a source once to run its synchronous option checks (it is never read), and returns
 * what it says about checkpoints: its identity without the throwaway path, or why it refuses;
 * undefined when the format has no resume support.
 */
function validate<O>(factory: Factory<O>, options: O): DatasetFormat['checkpoint'] {
  const source = factory('dataset-option-check', options);
  source.destroy();
  const hooks = source.checkpointHooks;
  if (hooks === undefined) return undefined;
  const identity = hooks.identity;
  if (identity !== null && typeof identity === 'object' && !Array.isArray(identity)) {
    const { file: _file, ...rest } = identity;
    return { identity: rest, ...(hooks.refuse ? { refuse: hooks.refuse } : {}) };
  }
  return { identity, ...(hooks.refuse ? { refuse: hooks.refuse } : {}) };
}

/** What differs between the projecting formats (Parquet, Arrow) over a dataset. */
interface ProjectingFormat {
  name: string;
  /** Extra options of each file's source (Parquet: the `where` its row-group pruning reads). */
  fileOptions?(where: Predicate | undefined, virtual: readonly string[]): object;
  describe: DatasetFormat['describe'];
  sumDetails?: readonly string[];
  /** See {@link DatasetFormat.negotiable}. */
  negotiable?: boolean;
}

/** A projecting format over a dataset: the projection narrowed per file, footers for totals. */
function projectingDataset<O extends { columns?: readonly string[]; name?: string }>(
  input: DatasetInput,
  options: O | undefined,
  factory: Factory<O>,
  format: ProjectingFormat,
): BatchSource<Row> {
  expectDatasetInput(input);
  const { settings, rest } = splitDatasetOptions(options);
  const checkpoint = validate(factory, rest as O);
  const base = rest as O;
  return datasetSource(
    input,
    { ...settings, ...(base.columns ? { columns: base.columns } : {}) },
    {
      name: base.name ?? format.name,
      ...(checkpoint ? { checkpoint } : {}),
      projects: true,
      openFile: (path, columns, where, output, virtual) =>
        factory(path, {
          ...base,
          ...(columns ? { columns } : {}),
          ...(output ? { output } : {}),
          ...format.fileOptions?.(where, virtual ?? []),
          [DATASET_FILE]: true,
        } as O),
      ...(format.negotiable ? { negotiable: true } : {}),
      ...(format.describe ? { describe: format.describe } : {}),
      ...(format.sumDetails ? { sumDetails: format.sumDetails } : {}),
    },
  );
}

/** `fromParquet` over a dataset: projection and row-group pruning per file, footers for totals. */
export function parquetDataset<
  O extends { columns?: readonly string[]; name?: string; output?: unknown; int64?: unknown },
>(input: DatasetInput, options: O | undefined, factory: Factory<O>): BatchSource<Row> {
  return projectingDataset(input, options, factory, {
    name: 'fromParquet',
    fileOptions: (where, ignore) => (where ? { [PRUNE_WHERE]: { where, ignore } satisfies PruneRequest } : {}),
    // as for one file (sources/fromParquet.ts): `output` or `int64` given, the user chose rows' shape
    negotiable: options?.output === undefined && options?.int64 === undefined,
    describe: async (path) => {
      const reader = await (await loadParquetReader()).openParquet(path);
      try {
        const { rowsOnlyColumns } = await import('../formats/parquet/read/batch-reader.ts');
        const rowsOnly = rowsOnlyColumns(reader).map((c) => ({ column: c.name, why: c.why }));
        // a column Arrow cannot plan (refused when read as Arrow) leaves the schema out
        let arrowSchema: Schema | undefined;
        try {
          arrowSchema = reader.emptyRecordBatch().schema;
        } catch {
          arrowSchema = undefined;
        }
        return {
          rows: reader.numRows,
          columns: reader.columns.map((c) => c.name),
          rowsOnly,
          ...(arrowSchema ? { arrowSchema } : {}),
        };
      } finally {
        await reader.close();
      }
    },
    sumDetails: ['rowGroupsSkipped', 'rowGroupsRead', 'pagesSkipped', 'pagesRead', 'bytesSkipped', 'bytesRead'],
  });
}

/** `fromArrow` over a dataset: projection per file, footers (or message headers) for totals. */
export function arrowDataset<O extends { columns?: readonly string[]; name?: string }>(
  input: DatasetInput,
  options: O | undefined,
  factory: Factory<O>,
): BatchSource<Row> {
  return projectingDataset(input, options, factory, {
    name: 'fromArrow',
    describe: async (path) => {
      const { openArrowFile } = await import('../formats/arrow/ipc-reader.ts');
      const handle = await openArrowFile(path);
      try {
        return { rows: handle.numRows, columns: handle.schema.fields.map((f) => f.name) };
      } finally {
        await handle.close();
      }
    },
  });
}

/** A factory of a text format, which also reads a Readable of bytes. */
type TextFactory<O> = (input: string | Readable, options?: O) => BatchSource<Row>;

/**
 * A text format (`fromCsv`, `fromJsonl`) over a dataset: its options go to every file as they
 * are. A remote file is handed over as a resuming byte stream (remote/remote-stream.ts), with
 * gzip/zstd chosen by the URL's extension as for a path, and released with the file's source.
 */
export function textDataset<O extends { name?: string; gzip?: boolean; zstd?: boolean }>(
  input: DatasetInput,
  options: O | undefined,
  factory: TextFactory<O>,
  name: string,
): BatchSource<Row> {
  expectDatasetInput(input);
  const { settings, rest } = splitDatasetOptions(options);
  const checkpoint = validate(factory, rest as O);
  const base = rest as O;
  const remote = (typeof input === 'string' ? [input] : input).some((p) => isRemoteUrl(p));
  return datasetSource(input, settings, {
    name: base.name ?? name,
    projects: false,
    emptyTextIsNull: name === 'fromCsv',
    // a remote text file is read as a stream, which the format's resume cannot seek into
    ...(checkpoint
      ? {
          checkpoint:
            remote && !checkpoint.refuse
              ? {
                  ...checkpoint,
                  refuse: `${base.name ?? name} reads remote files as a stream and cannot resume inside one`,
                }
              : checkpoint,
        }
      : {}),
    openFile: async (path) => {
      if (!isRemoteUrl(path)) return factory(path, { ...base, [DATASET_FILE]: true });
      const pathname = remotePathname(path);
      // the HTTP and S3 transports load when a remote file is read, not with `import 'spillway'`
      const { openRemoteStream } = await import('./remote/open.ts');
      const stream = openRemoteStream(path);
      const source = factory(stream, {
        ...base,
        ...(base.gzip === undefined && base.zstd !== true && pathname.endsWith('.gz') ? { gzip: true } : {}),
        ...(base.zstd === undefined && base.gzip !== true && /\.zstd?$/.test(pathname) ? { zstd: true } : {}),
      });
      source.once('close', () => stream.destroy());
      return source;
    },
  });
}
