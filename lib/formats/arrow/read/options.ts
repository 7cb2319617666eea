/**
 * fromArrow's options: their type, the keys it knows, and their validation into an
 * {@link ArrowPlan}, synchronously and before any file is opened.
 */
import { Readable } from 'node:stream';
import { ValidationError, describeValue } from '../../../core/errors.ts';
import { expectColumnNames, expectInteger, expectOptions, optionKeys } from '../../../core/validate.ts';
import type { DatasetOptions } from '../../../dataset/multi-file.ts';

/** Options of {@link fromArrow} (dataset options: see docs/datasets.md). */
export interface FromArrowOptions extends DatasetOptions {
  /**
   * Most rows per batch. Larger record batches are split (zero-copy slices); smaller ones are
   * passed on as they are. Default: the record batches as written.
   */
  batchSize?: number;
  /** Columns to keep, in this order (default: all); a name the file lacks is an error. */
  columns?: readonly string[];
  /** Name used in stats and errors (default `fromArrow`). */
  name?: string;
}

/** Every option of FromArrowOptions, for strict validation. */
const KNOWN_FROM_ARROW_OPTIONS = optionKeys<FromArrowOptions>({
  batchSize: true,
  columns: true,
  name: true,
  fileColumn: true,
  hive: true,
  hiveTypes: true,
  where: true,
});

/** fromArrow's options, checked: what the factory and the readers work from. */
export interface ArrowPlan {
  input: string | Readable;
  /** The file path, for a path input. */
  file: string | undefined;
  stage: string;
  /** The file, or the stage name for a stream: for errors and batch positions. */
  where: string;
  batchSize: number | undefined;
  columns: string[] | undefined;
  /** The options as given, for the checkpoint fingerprint. */
  given: FromArrowOptions;
}

/** Validates fromArrow's input and options (synchronously; nothing is opened). */
export function resolveArrowOptions(input: unknown, options: FromArrowOptions | undefined): ArrowPlan {
  if (!(typeof input === 'string' && input.length > 0) && !(input instanceof Readable)) {
    throw new ValidationError(`Expected \`input\` to be a file path or a Readable, got ${describeValue(input)}`);
  }
  const opts = expectOptions(options, 'options', KNOWN_FROM_ARROW_OPTIONS);
  const batchSize = opts.batchSize === undefined ? undefined : expectInteger(opts.batchSize, 'options.batchSize', 1);
  expectColumnNames(opts.columns, 'options.columns');
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0)) {
    throw new ValidationError(`Expected \`options.name\` to be a non-empty string, got ${describeValue(opts.name)}`);
  }
  const stage = opts.name ?? 'fromArrow';
  const file = typeof input === 'string' ? input : undefined;
  return {
    input,
    file,
    stage,
    where: file ?? stage,
    batchSize,
    columns: opts.columns === undefined ? undefined : [...opts.columns],
    given: opts,
  };
}
