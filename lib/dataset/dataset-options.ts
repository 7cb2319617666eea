/**
 * The options every file source accepts for datasets (`fileColumn`, `hive`, `hiveTypes`,
 * `where`), their validation and their split from the format's own options, and what a format
 * provides to the dataset source to read one file.
 */
import type { Schema } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import type { BatchSource } from '../core/source.ts';
import { ValidationError, describeValue } from '../core/errors.ts';
import type { CheckpointJson } from '../observe/checkpoint.ts';
import { expectHiveTypes, type HiveType } from './hive.ts';
import { expectPredicate, type Predicate } from './predicate.ts';

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
  openFile(
    path: string,
    columns: readonly string[] | undefined,
    where: Predicate | undefined,
    output?: 'arrow',
    /** Columns the dataset adds (partition keys, `fileColumn`): a file's own column of that name is replaced, its statistics unused. */
    virtual?: readonly string[],
  ): BatchSource<Row> | Promise<BatchSource<Row>>;
  /** The file's row count and columns when they are cheap to know (a footer), for progress totals and checking `where`. */
  describe?(path: string): Promise<FileDescription>;
  /**
   * True when the format may read every file as Arrow if the pipeline asks (format negotiation,
   * lib/core/negotiate.ts): the user set no `output`, and `describe` names the columns that would
   * read differently as Arrow.
   */
  negotiable?: boolean;
  /**
   * True when `where` reads an empty text value as NULL: CSV, whose empty field DuckDB reads as
   * NULL in every type, while spillway's all-text mode (no `cast`) keeps it as `''`.
   */
  emptyTextIsNull?: boolean;
  /** Detail keys of the per-file stats to add up across files (`rowGroupsSkipped`, `bytesRead`). */
  sumDetails?: readonly string[];
  /** The single-file source's checkpoint identity (options), or why it cannot resume; undefined: no resume support. */
  checkpoint?: { identity: CheckpointJson; refuse?: string };
}

/** What a file's footer tells the dataset layer before the file is read. */
export interface FileDescription {
  rows: number;
  columns: readonly string[];
  /**
   * Columns an Arrow read could not hand on as a rows read does (Parquet INT96, JSON, INTERVAL,
   * VARIANT...), each with why: with one of them in the projection, a negotiated dataset reads rows.
   */
  rowsOnly?: readonly { column: string; why: string }[];
  /** The Arrow schema an Arrow read of the file gives (Parquet), for one schema over every file. */
  arrowSchema?: Schema;
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
