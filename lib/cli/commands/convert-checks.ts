/**
 * `convert`'s checks around a run, kept out of convert.ts: the output is none of the input's
 * files (by the file itself, not by how its path is spelled), no zstd output name for the text
 * formats, and messages for empty inputs that say what a CLI user can do about them.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  FormatError,
  IoError,
  SchemaMismatchError,
  SpillwayError,
  ValidationError,
  describeValue,
} from '../../core/errors.ts';
import { expandDataset, isDatasetInput } from '../../dataset/expand.ts';
import { formatOfName } from '../../dataset/cli-args.ts';
import { isRemoteUrl } from '../../dataset/remote/url.ts';
import { fileIdentity } from '../../io/same-file.ts';

/** The arguments the checks look at (a subset of ConvertArgs). */
interface CheckedArgs {
  input: string;
  output: string;
  from: string;
  to: string;
  where?: unknown;
}

/**
 * Refuses an output name ending in `.zst`/`.zstd` for CSV or JSON Lines output (told by `--to`,
 * else by the name without that suffix): toCsv and toJsonl write gzip only, and a plain file
 * under a zstd name is one spillway's own readers refuse. A partitioned OUT is a directory.
 */
export function expectNoZstdOutput(output: string, to: string | undefined, partitioned: boolean): void {
  const suffix = /\.zstd?$/i.exec(output);
  if (suffix === null || partitioned) return;
  const format = to ?? formatOfName(output.slice(0, suffix.index));
  if (format !== 'csv' && format !== 'jsonl') return;
  throw new ValidationError(
    `${format} output cannot be zstd-compressed (gzip can): name OUT .${format}.gz, or .${format} for plain text, got ${describeValue(output)}`,
  );
}

/**
 * Refuses a CSV or JSON Lines `--compression` its output name contradicts: gzip bytes under a
 * plain name, or plain text under a `.gz` one, are files `convert` itself cannot read back (they
 * are told by their name). A partitioned OUT is a directory whose files the sink names.
 */
export function expectCompressionFitsName(
  output: string,
  to: string,
  compression: string | undefined,
  partitioned: boolean,
): void {
  if (compression === undefined || partitioned || (to !== 'csv' && to !== 'jsonl')) return;
  const gz = /\.gz$/i.test(output);
  if (compression === 'gzip' && !gz)
    throw new ValidationError(
      `--compression gzip writes gzip bytes: name OUT .${to}.gz (or drop the flag; a .gz name is gzipped anyway), got ${describeValue(output)}`,
    );
  if (compression === 'none' && gz)
    throw new ValidationError(
      `--compression none writes plain text: name OUT .${to}, not .gz, got ${describeValue(output)}`,
    );
}

/**
 * Refuses an output that is the input, or one of the files of a directory or glob input, however
 * either path is spelled: writing it would replace the data being read. An output that does not
 * exist yet is none of them; an input that cannot be listed is left to its source to report.
 */
export async function expectOutputNotInput(input: string, output: string): Promise<void> {
  if (isRemoteUrl(input) || isRemoteUrl(output)) return;
  const target = fileIdentity(output);
  if (target === undefined) return;
  if (!isDatasetInput(input)) {
    if (fileIdentity(input) === target) throw new ValidationError('the input and the output are the same file');
    return;
  }
  let files: readonly { path: string }[];
  try {
    files = await expandDataset(input);
  } catch {
    return;
  }
  for (const file of files) {
    if (fileIdentity(file.path) === target)
      throw new ValidationError(`the output is one of the input's files (${file.path})`);
  }
}

/** True when `path` is a local directory without a file to read (the dataset walk skips `.` and `_` names). */
export function isEmptyDirectory(path: string): boolean {
  try {
    if (isRemoteUrl(path) || !statSync(path).isDirectory()) return false;
  } catch {
    return false;
  }
  const holdsFile = (dir: string, depth: number): boolean => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return true; // unreadable: the source reports it, not this check
    }
    return entries.some(
      (e) =>
        !e.name.startsWith('.') &&
        !e.name.startsWith('_') &&
        (e.isFile() ||
          e.isSymbolicLink() ||
          (e.isDirectory() && (depth >= 16 || holdsFile(join(dir, e.name), depth + 1)))),
    );
  };
  return !holdsFile(path, 0);
}

/** The message for an input `--from` cannot be guessed for, when it is an empty directory. */
export function emptyDirectoryError(path: string): ValidationError {
  return new ValidationError(
    `${path} is a directory that holds no files (names starting with . or _ are skipped), so there is nothing to convert`,
  );
}

/**
 * toParquet's "declare `schema`" (no rows, no column types) told as a CLI user can act on it:
 * `convert` has no schema option, so it says why no rows came and which outputs take none.
 * Any other error comes back as it was.
 */
export function explainEmptyParquet(error: unknown, args: CheckedArgs): unknown {
  if (
    !(error instanceof FormatError) ||
    args.to !== 'parquet' ||
    error.context.stage !== 'toParquet' ||
    !error.detail.startsWith('Cannot infer a Parquet schema without rows')
  )
    return error;
  const what =
    args.where !== undefined
      ? `no rows of ${args.input} reached the output (it has none, or --where kept none) and it names no column types`
      : `${args.input} has no rows${args.from === 'csv' ? ' and no header' : ''}`;
  const header = args.from === 'csv' && args.where === undefined ? 'give it a header line, or ' : '';
  return new FormatError(
    `${what}, so no Parquet schema can be inferred: ${header}convert it to arrow, csv or jsonl instead`,
    { ...error.context },
    { cause: error },
  );
}

/**
 * A library error whose advice names an option `convert` has no flag for, with advice a CLI user
 * can follow instead (the first batch fixes the columns: `--batch-size`; a tree is never
 * appended to or overwritten: remove it); any other error as it is.
 */
export function explainLibraryAdvice(error: unknown): unknown {
  if (!(error instanceof SpillwayError)) return error;
  const { detail } = error;
  let advice: string | undefined;
  if (/inferred from the first rows lacks; declare `options.schema`/.test(detail) && error.context.row !== undefined)
    advice = detail.replace(
      /declare `options.schema`$/,
      `the first batch fixes the columns: pass --batch-size past row ${error.context.row}, where it first appears, or convert to jsonl`,
    );
  else if (/lacks; pass options.columns to choose the columns$/.test(detail))
    advice = detail.replace(
      /pass options.columns to choose the columns$/,
      'the first batch fixes the header: pass --batch-size past the row where it first appears, --columns naming the columns every input file has, or convert to jsonl',
    );
  else if (/\(options.existing is 'error'\)/.test(detail))
    advice = detail.replace(
      /\(options.existing is 'error'\)/,
      '(convert never appends to or overwrites a tree: remove it first)',
    );
  if (advice === undefined) return error;
  const Kind = error instanceof FormatError ? FormatError : error instanceof IoError ? IoError : SchemaMismatchError;
  return new Kind(advice, { ...error.context }, { cause: error });
}
