/**
 * The glue between the file sources and the dataset source: one function per format that splits
 * the dataset options from the format's own, validates both at once (by building a throwaway
 * single-file source, which opens nothing), and returns a dataset source whose per-file readers
 * are the format's ordinary single-file sources. The factories are passed in, so sources/ and
 * lib/dataset/ do not import each other in a cycle.
 */
import type { Row } from '../core/batch.ts';
import type { BatchSource } from '../core/source.ts';
import { loadParquetReader } from '../formats/parquet/load.ts';
import { openArrowFile } from '../formats/arrow/ipc-reader.ts';
import { expectDatasetInput, isDatasetInput, type DatasetInput } from './expand.ts';
import { datasetSource, splitDatasetOptions, usesDatasetOptions } from './multi-file.ts';
import { PRUNE_WHERE } from './pushdown.ts';

/** True when a file source must read `input` with `options` as a dataset (many files, or dataset options). */
export function isDatasetRequest(input: unknown, options: unknown): boolean {
  return isDatasetInput(input) || usesDatasetOptions(options);
}

type Factory<O> = (path: string, options?: O) => BatchSource<Row>;

/** Builds a source once to run its synchronous option checks; it is never read. */
function validate<O>(factory: Factory<O>, options: O): void {
  factory('dataset-option-check', options).destroy();
}

/** `fromParquet` over a dataset: projection and row-group pruning per file, footers for totals. */
export function parquetDataset<O extends { columns?: readonly string[]; name?: string }>(input: DatasetInput, options: O | undefined, factory: Factory<O>): BatchSource<Row> {
  expectDatasetInput(input);
  const { settings, rest } = splitDatasetOptions(options);
  validate(factory, rest as O);
  const base = rest as O;
  return datasetSource(input, { ...settings, ...(base.columns ? { columns: base.columns } : {}) }, {
    name: base.name ?? 'fromParquet',
    projects: true,
    openFile: (path, columns, where) =>
      factory(path, { ...base, ...(columns ? { columns } : {}), ...(where ? { [PRUNE_WHERE]: where } : {}) } as O),
    describe: async (path) => {
      const reader = await (await loadParquetReader()).openParquet(path);
      try {
        return { rows: reader.numRows, columns: reader.columns.map((c) => c.name) };
      } finally {
        await reader.close();
      }
    },
    sumDetails: ['rowGroupsSkipped', 'rowGroupsRead', 'bytesSkipped', 'bytesRead'],
  });
}

/** `fromArrow` over a dataset: projection per file, footers (or message headers) for totals. */
export function arrowDataset<O extends { columns?: readonly string[]; name?: string }>(input: DatasetInput, options: O | undefined, factory: Factory<O>): BatchSource<Row> {
  expectDatasetInput(input);
  const { settings, rest } = splitDatasetOptions(options);
  validate(factory, rest as O);
  const base = rest as O;
  return datasetSource(input, { ...settings, ...(base.columns ? { columns: base.columns } : {}) }, {
    name: base.name ?? 'fromArrow',
    projects: true,
    openFile: (path, columns) => factory(path, { ...base, ...(columns ? { columns } : {}) } as O),
    describe: async (path) => {
      const handle = await openArrowFile(path);
      try {
        return { rows: handle.numRows, columns: handle.schema.fields.map((f) => f.name) };
      } finally {
        await handle.close();
      }
    },
  });
}

/** A text format (`fromCsv`, `fromJsonl`) over a dataset: its options go to every file as they are. */
export function textDataset<O extends { name?: string }>(input: DatasetInput, options: O | undefined, factory: Factory<O>, name: string): BatchSource<Row> {
  expectDatasetInput(input);
  const { settings, rest } = splitDatasetOptions(options);
  validate(factory, rest as O);
  const base = rest as O;
  return datasetSource(input, settings, {
    name: base.name ?? name,
    projects: false,
    openFile: (path) => factory(path, base),
  });
}
