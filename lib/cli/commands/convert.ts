/**
 * `spillway convert IN OUT`: converts between CSV (optionally gzipped), Parquet and Arrow IPC,
 * streaming batch by batch, with the format told by the file extension or a flag.
 */
import { commands } from '../main.ts';
import { pipeline } from '../../core/pipeline.ts';
import { ValidationError, SpillwayError, describeValue } from '../../core/errors.ts';
import { formatBytes, formatDuration, formatExact, formatRate } from '../../core/format.ts';
import type { BatchSource } from '../../core/source.ts';
import type { BatchSink } from '../../core/sink.ts';
import type { Row } from '../../core/batch.ts';
import { fromCsv } from '../../../sources/fromCsv.ts';
import { fromParquet } from '../../../sources/fromParquet.ts';
import { fromArrow } from '../../../sources/fromArrow.ts';
import { toCsv } from '../../../sinks/toCsv.ts';
import { toParquet } from '../../../sinks/toParquet.ts';
import { toArrow } from '../../../sinks/toArrow.ts';
import type { PipelineStats } from '../../core/stats.ts';
import { distinct } from '../../../transforms/distinct.ts';
import { select } from '../../../transforms/select.ts';
import { sort } from '../../../transforms/sort.ts';
import { parseSortFlag, parseSortKeys, type SortKey } from '../../operators/sort-key-spec.ts';
import { terminalSafe } from '../../observe/terminal-text.ts';
import { describeError, onInterrupt, takeCommonFlags, writeReportFile } from './common.ts';
import { textSortStages } from './text-sort.ts';
import {
  emptyDirectoryError,
  expectCompressionFitsName,
  expectNoZstdOutput,
  expectOutputNotInput,
  explainEmptyParquet,
  explainLibraryAdvice,
  isEmptyDirectory,
} from './convert-checks.ts';
import { sniffDataFile } from '../sniff.ts';
import { fromJsonl } from '../../../sources/fromJsonl.ts';
import { toJsonl } from '../../../sinks/toJsonl.ts';
import { expectPredicate, type Predicate } from '../../dataset/predicate.ts';
import { parseJsonExact } from '../../formats/json/lines.ts';
import { datasetFormatOf, formatOfName } from '../../dataset/cli-args.ts';
import { isRemoteUrl, redactUrl, remotePathname } from '../../dataset/remote/url.ts';

/** The file formats `convert` reads and writes. */
export type ConvertFormat = 'csv' | 'parquet' | 'arrow' | 'jsonl';

const FORMATS: readonly ConvertFormat[] = ['csv', 'parquet', 'arrow', 'jsonl'];

/** Output compressions by format; the first is the default. */
const COMPRESSIONS: Record<ConvertFormat, readonly string[]> = {
  csv: ['none', 'gzip'],
  parquet: ['snappy', 'gzip', 'zstd', 'none'],
  arrow: ['lz4', 'zstd', 'none'],
  jsonl: ['none', 'gzip'],
};

/** Parsed arguments of `convert`. */
export interface ConvertArgs {
  input: string;
  output: string;
  from: ConvertFormat;
  to: ConvertFormat;
  columns: string[] | undefined;
  compression: string | undefined;
  batchSize: number | undefined;
  /** Write a hive tree partitioned by these columns (OUT is a directory). */
  partitionBy?: string[];
  /** A `where` predicate (JSON) for the source. */
  where?: Predicate;
  /** `--distinct`: undefined (not given), true (whole rows) or the key columns. */
  distinct?: true | string[] | undefined;
  /** Sort keys (`--sort price,ts:desc`), or undefined. */
  sort?: SortKey[] | undefined;
}

const USAGE = `Usage: spillway convert IN OUT [options]

Converts between CSV (.csv, .csv.gz), Parquet (.parquet), Arrow IPC (.arrow, .arrows,
.ipc, .feather) and JSON Lines (.jsonl, .jsonl.gz, .jsonl.zst; output .jsonl[.gz], no zstd),
streaming: memory holds a few batches, whatever the file size. The format comes from the
extension unless given. Prints one summary line; exits non-zero with a one-line error on bad
input.

Options:
  --from FORMAT        input format: csv, parquet, arrow or jsonl (default: by extension)
  --to FORMAT          output format: csv, parquet, arrow or jsonl (default: by extension)
  --columns a,b,c      keep these columns, in this order
  --compression X      csv: gzip | none (default: gzip for .gz); parquet: snappy (default) |
                       gzip | zstd | none; arrow: lz4 (default) | zstd | none; jsonl: gzip |
                       none (default: gzip for .gz)
  --batch-size N       rows per batch read (default: the reader's own)
  --partition-by a,b   write OUT as a hive-partitioned directory (a=.../b=.../part-0.<ext>);
                       the output format then comes from --to
  --where JSON         keep rows matching a predicate, e.g. '{"col":"price","op":">","value":10}'
                       (Parquet input skips files and row groups that cannot match)
  --distinct [a,b]     drop duplicate rows (whole rows), or keep the first row of each distinct
                       a,b; spills to disk past its memory budget (put it after the files)
  --sort a,b:desc      sort the rows by these columns (asc by default; :desc, :nulls-first);
                       NULLs last, strings by UTF-8 bytes, stable; spills sorted runs to a
                       temporary directory past a quarter of the memory limit. CSV input is
                       typed when sorting to a typed format; CSV to CSV keeps every cell as
                       written, numbers sorted as numbers (then text, in a mixed column)
  --progress / --no-progress
                       live progress on stderr (default: on; a plain line every 5 s off a terminal)
  --report FILE        write the run's stats as JSON to FILE

CSV input is typed (numbers, booleans, empty cells as null) when the output is Parquet or Arrow,
and kept as text when the output is CSV. Arrow output is the file format, or the stream format
for .arrows.

Examples:
  spillway convert events.csv.gz events.parquet --compression zstd
  spillway convert events.parquet events.arrow --columns ts,user,amount
  spillway convert 'raw/**/*.csv' trades --to parquet --partition-by date,symbol
  spillway convert trades.csv pairs.parquet --columns symbol,venue --distinct
  spillway convert trades.csv trades.parquet --sort price,ts:desc

IN may be a file, a glob (quote it) or a directory; the files are read in sorted order.
IN may also be an https:// URL, or an s3:// object, prefix or glob (s3://bucket/trades/*/*.parquet);
OUT may be an s3:// key (or prefix, with --partition-by). S3 needs npm install @aws-sdk/client-s3;
credentials come from the standard AWS chain, AWS_ENDPOINT_URL names an S3-compatible store.`;

/** The format a file name's extension names (one extension table, in lib/dataset/cli-args.ts). */
function formatOf(file: string): ConvertFormat | undefined {
  return formatOfName(file) as ConvertFormat | undefined;
}

/** Parses `convert`'s arguments; throws ValidationError with a one-line message. */
export function parseConvertArgs(args: readonly string[]): ConvertArgs {
  const { positional, flags } = readFlags(args);
  if (positional.length !== 2)
    throw new ValidationError(
      `expected an input and an output file, got ${positional.length} argument${positional.length === 1 ? '' : 's'} (see spillway convert --help)`,
    );
  const [input, output] = positional as [string, string];
  const from = pickFormat('from', input, flags.get('from'));
  expectNoZstdOutput(output, flags.get('to'), flags.has('partition-by'));
  const to = pickFormat('to', output, flags.get('to'));
  const columns = nameList(flags.get('columns'), '--columns', 'names');
  if (columns !== undefined && new Set(columns).size !== columns.length)
    throw new ValidationError(`--columns names a column twice: ${flags.get('columns')}`);
  const compression = flags.get('compression');
  if (compression !== undefined && !COMPRESSIONS[to].includes(compression)) {
    throw new ValidationError(
      `--compression for ${to} output must be one of ${COMPRESSIONS[to].join(', ')}, got ${describeValue(compression)}`,
    );
  }
  expectCompressionFitsName(output, to, compression, flags.has('partition-by'));
  const batchFlag = flags.get('batch-size');
  const batchSize = batchFlag === undefined ? undefined : Number(batchFlag);
  if (batchFlag !== undefined && (!/^\d+$/.test(batchFlag) || !Number.isSafeInteger(batchSize) || batchSize! < 1))
    throw new ValidationError(`--batch-size must be a positive integer, got ${describeValue(batchFlag)}`);
  const sortKeys = sortFlagKeys(flags.get('sort'), columns);
  if (input === output) throw new ValidationError('the input and the output are the same file');
  const partitionBy = nameList(flags.get('partition-by'), '--partition-by', 'columns');
  const whereFlag = flags.get('where');
  const where = whereFlag === undefined ? undefined : parseWhere(whereFlag);
  const distinctFlag = flags.get('distinct');
  const distinct = distinctFlag === '' ? true : nameList(distinctFlag, '--distinct', 'names');
  return {
    input,
    output,
    from,
    to,
    columns,
    compression,
    batchSize,
    distinct,
    ...(sortKeys === undefined ? {} : { sort: sortKeys }),
    ...(partitionBy ? { partitionBy } : {}),
    ...(where ? { where } : {}),
  };
}

const VALUED_FLAGS = ['from', 'to', 'columns', 'compression', 'batch-size', 'partition-by', 'where', 'sort'];

/** Splits the arguments into files and `--flag value` / `--flag=value` pairs, each flag once. */
function readFlags(args: readonly string[]): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (flag !== 'distinct' && !VALUED_FLAGS.includes(flag))
      throw new ValidationError(`unknown option --${flag} (see spillway convert --help)`);
    if (flags.has(flag)) throw new ValidationError(`option --${flag} is given twice`);
    let value: string | undefined;
    if (flag === 'distinct') {
      // a value only with `=`, or as the next argument once both files are named
      const next = args[i + 1];
      const takesNext = positional.length === 2 && next !== undefined && !next.startsWith('--');
      value = eq >= 0 ? arg.slice(eq + 1) : takesNext ? args[++i]! : '';
    } else {
      value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '') throw new ValidationError(`option --${flag} needs a value`);
    }
    flags.set(flag, value);
  }
  return { positional, flags };
}

/** The format given by `--from`/`--to`, else the one the file's extension names. */
function pickFormat(flag: 'from' | 'to', file: string, given: string | undefined): ConvertFormat {
  if (given !== undefined) {
    if (!(FORMATS as readonly string[]).includes(given))
      throw new ValidationError(`--${flag} must be one of ${FORMATS.join(', ')}, got ${describeValue(given)}`);
    return given as ConvertFormat;
  }
  // a URL's format is its path's (a signed URL's query would hide the extension)
  const named = isRemoteUrl(file) ? remotePathname(file) : file;
  const found =
    formatOf(named) ??
    (flag === 'from' ? ((datasetFormatOf(named) as ConvertFormat | undefined) ?? formatByMagic(file)) : undefined);
  if (found === undefined && flag === 'from' && isEmptyDirectory(file)) throw emptyDirectoryError(file);
  if (found === undefined)
    throw new ValidationError(
      `cannot tell the format of ${file} from its extension or its first bytes; pass --${flag} ${FORMATS.join('|')}`,
    );
  return found;
}

/**
 * An input's format by its first bytes, for a local file whose extension names none (sniff.ts,
 * shared with `inspect`); an encrypted Parquet file is Parquet, which the reader refuses by name.
 */
function formatByMagic(file: string): ConvertFormat | undefined {
  return isRemoteUrl(file) ? undefined : sniffDataFile(file);
}

/** A comma-separated list of non-empty names (undefined when the flag is absent). */
function nameList(value: string | undefined, flag: string, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((c) => c.trim());
  if (names.some((c) => c === ''))
    throw new ValidationError(`${flag} must be a comma-separated list of ${what}, got ${describeValue(value)}`);
  return names;
}

/** `--sort` keys, each checked, and among `--columns` when that is given. */
function sortFlagKeys(value: string | undefined, columns: string[] | undefined): SortKey[] | undefined {
  if (value === undefined) return undefined;
  const keys = parseSortFlag(value);
  parseSortKeys(keys, '--sort');
  const missing = columns === undefined ? undefined : keys.find((k) => !columns.includes(k.column));
  if (missing) throw new ValidationError(`--sort column ${describeValue(missing.column)} is not among --columns`);
  return keys;
}

function parseWhere(value: string): Predicate {
  let parsed: unknown;
  try {
    // an integer past 2^53 as a bigint: JSON.parse rounded `9007199254740993` to ...992, and the
    // filter kept the other row
    parsed = parseJsonExact(value);
  } catch {
    throw new ValidationError(`--where must be a JSON predicate, got ${describeValue(value)}`);
  }
  return expectPredicate(parsed, '--where');
}

function source(args: ConvertArgs): BatchSource<Row> {
  const batchSize = {
    ...(args.batchSize === undefined ? {} : { batchSize: args.batchSize }),
    ...(args.where ? { where: args.where } : {}),
  };
  const columns = args.columns === undefined ? {} : { columns: args.columns };
  switch (args.from) {
    case 'csv':
      // CSV to CSV keeps every cell as written, sorted (text-sort.ts: Arrow text columns) or not
      if (args.to === 'csv' && args.sort !== undefined)
        return fromCsv(args.input, { ...batchSize, cast: false, output: 'arrow' });
      // typed outputs type whole columns from the sample, as DuckDB's sniffer does: cell by cell
      // (`cast: true`), a zip code `00501` became 501 and a text column with one number failed
      return fromCsv(args.input, { ...batchSize, cast: args.to === 'csv' ? false : 'auto' });
    case 'parquet':
      return fromParquet(args.input, { ...batchSize, ...columns }) as BatchSource<Row>;
    case 'arrow':
      return fromArrow(args.input, { ...batchSize, ...columns });
    case 'jsonl':
      return fromJsonl(args.input, batchSize);
  }
}

function sink(args: ConvertArgs): BatchSink<{ rows: number; bytes: number }> {
  const compression = args.compression;
  const parts = args.partitionBy ? { partitionBy: args.partitionBy } : {};
  switch (args.to) {
    case 'csv':
      return toCsv(args.output, {
        ...parts,
        ...(compression === undefined ? {} : { gzip: compression === 'gzip' }),
      }) as BatchSink<{ rows: number; bytes: number }>;
    case 'parquet':
      return toParquet(args.output, {
        ...parts,
        ...(compression === undefined
          ? {}
          : { compression: compression === 'none' ? 'uncompressed' : (compression as 'snappy' | 'gzip' | 'zstd') }),
      }) as BatchSink<{ rows: number; bytes: number }>;
    case 'arrow':
      return toArrow(args.output, {
        ...parts,
        ...(compression === undefined ? {} : { compression: compression as 'lz4' | 'zstd' | 'none' }),
      }) as BatchSink<{ rows: number; bytes: number }>;
    case 'jsonl':
      return toJsonl(args.output, {
        ...parts,
        ...(compression === undefined ? {} : { gzip: compression === 'gzip' }),
      }) as BatchSink<{ rows: number; bytes: number }>;
  }
}

/** Runs a conversion; resolves to its counts. Errors are SpillwayErrors naming the file. */
export async function convert(
  args: ConvertArgs,
  options: { progress?: boolean; signal?: AbortSignal } = {},
): Promise<{ rows: number; bytes: number; bytesRead: number; durationMs: number; stats: PipelineStats }> {
  // before the source opens: spellings of one file (./x, a symlink) pass parseConvertArgs' check
  if (isEmptyDirectory(args.input)) throw emptyDirectoryError(args.input);
  await expectOutputNotInput(args.input, args.output);
  const stages = [
    source(args),
    // CSV and JSON Lines read every column: the projection is a stage
    ...(args.columns !== undefined && (args.from === 'csv' || args.from === 'jsonl') ? [select(args.columns)] : []),
    ...(args.distinct === undefined ? [] : [distinct(args.distinct === true ? undefined : args.distinct)]),
    ...(args.sort === undefined
      ? []
      : args.from === 'csv' && args.to === 'csv'
        ? textSortStages(args.sort)
        : [sort(args.sort)]),
    sink(args),
  ] as const;
  const { output, stats } = await pipeline(...stages, options).catch((error: unknown) => {
    throw explainLibraryAdvice(explainEmptyParquet(error, args));
  });
  return { rows: output.rows, bytes: output.bytes, bytesRead: stats.bytesRead, durationMs: stats.durationMs, stats };
}

/** One line, whatever the error's message holds. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

commands.set('convert', {
  summary: 'convert between CSV, Parquet and Arrow IPC files',
  usage: USAGE,
  async run(argv) {
    let args: ConvertArgs;
    const startedAt = new Date().toISOString();
    const interrupt = onInterrupt('convert');
    let report: string | undefined;
    const writeReport = (exitCode: number, stats: PipelineStats | undefined, error?: unknown): void => {
      if (report === undefined) return;
      const failure = error === undefined ? {} : { error: describeError(error) };
      const pipelines = stats ? [{ ok: error === undefined, ...failure, stats }] : [];
      writeReportFile(report, {
        command: 'convert',
        target: argv.join(' '),
        startedAt,
        durationMs: Date.now() - Date.parse(startedAt),
        exitCode,
        interrupted: interrupt.interrupted,
        ...failure,
        pipelines,
      });
    };
    try {
      const { flags, rest } = takeCommonFlags(argv);
      report = flags.report;
      args = parseConvertArgs(rest);
      const started = performance.now();
      const result = await convert(args, { progress: flags.progress, signal: interrupt.signal });
      writeReport(0, result.stats);
      const ms = performance.now() - started;
      const rate = ms > 0 ? `, ${formatRate((result.rows / ms) * 1000, 'rows')}` : '';
      process.stdout.write(
        terminalSafe(
          `converted ${redactUrl(args.input)} (${args.from}) -> ${args.output} (${args.to}): ${formatExact(result.rows)} rows, ${formatBytes(result.bytes)} written, ${formatDuration(ms)}${rate}\n`,
        ),
      );
      return 0;
    } catch (error) {
      const exitCode = interrupt.interrupted ? interrupt.exitCode : 1;
      try {
        writeReport(exitCode, undefined, error);
      } catch {
        // the error below is what matters
      }
      const code = error instanceof SpillwayError ? ` [${error.code}]` : '';
      process.stderr.write(
        `spillway convert: ${terminalSafe(oneLine(error instanceof Error ? error.message : String(error)))}${code}\n`,
      );
      return exitCode;
    } finally {
      interrupt.dispose();
    }
  },
});
