/**
 * `spillway replay DIR --to FILE`: replays a spill directory, in its original order, into a CSV,
 * Parquet or Arrow IPC file (format by extension, or `--format`).
 */
import { commands } from '../main.ts';
import { pipeline } from '../../core/pipeline.ts';
import { SpillError, ValidationError } from '../../core/errors.ts';
import { formatBytes, formatDuration, formatExact } from '../../core/format.ts';
import type { BatchSink } from '../../core/sink.ts';
import { openSpill } from '../../formats/spill/spilled.ts';
import { toCsv } from '../../../sinks/toCsv.ts';
import { toParquet } from '../../../sinks/toParquet.ts';
import { toArrow } from '../../../sinks/toArrow.ts';
import type { PipelineStats } from '../../core/stats.ts';
import { terminalSafe } from '../../observe/terminal-text.ts';
import { describeError, onInterrupt, takeCommonFlags, writeReportFile } from './common.ts';

const USAGE = `Usage: spillway replay DIR --to FILE [--format csv|parquet|arrow] [--partial]
       spillway replay DIR FILE [options]

Replays a spill directory written by toSpill({ keep: true }) into a file, in the original row
order, reading one batch at a time. The format comes from FILE's extension (.csv, .csv.gz,
.parquet, .arrow, .arrows) unless --format is given. Every spill file's checksums are verified
as it is read.

Options:
  --to FILE        the output file (written under a temporary name, renamed when complete)
  --format X       csv, parquet or arrow
  --partial        replay what is on disk of an incomplete spill
  --progress / --no-progress
                   live progress on stderr (default: on; a plain line every 5 s off a terminal)
  --report FILE    write the run's stats as JSON to FILE`;

type Format = 'csv' | 'parquet' | 'arrow';

function formatOf(file: string): Format | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv') || lower.endsWith('.csv.gz')) return 'csv';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.arrow') || lower.endsWith('.arrows') || lower.endsWith('.ipc') || lower.endsWith('.feather'))
    return 'arrow';
  return undefined;
}

/** Parsed arguments of `replay`. */
export interface ReplayArgs {
  dir: string;
  to: string;
  format: Format;
  partial: boolean;
}

/** Parses `replay`'s arguments; throws ValidationError. */
export function parseReplayArgs(argv: readonly string[]): ReplayArgs {
  const positional: string[] = [];
  let to: string | undefined;
  let format: string | undefined;
  let partial = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--')
      ? arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined]
      : [undefined, undefined];
    if (flag === undefined) positional.push(arg);
    else if (flag === '--partial') partial = true;
    else if (flag === '--to' || flag === '--format') {
      const value = inline ?? argv[++i];
      if (!value) throw new ValidationError(`option ${flag} needs a value`);
      if (flag === '--to') to = value;
      else format = value;
    } else throw new ValidationError(`unknown option ${flag} (see spillway replay --help)`);
  }
  // `replay DIR FILE`, as `convert IN OUT` is written, is `replay DIR --to FILE`
  if (positional.length === 2 && to === undefined) to = positional.pop();
  if (positional.length !== 1)
    throw new ValidationError(
      `expected one spill directory, got ${positional.length} arguments (see spillway replay --help)`,
    );
  if (to === undefined) throw new ValidationError('--to FILE is required (see spillway replay --help)');
  const chosen = format ?? formatOf(to);
  if (chosen !== 'csv' && chosen !== 'parquet' && chosen !== 'arrow') {
    throw new ValidationError(
      format
        ? `--format must be csv, parquet or arrow, got ${format}`
        : `cannot tell the format of ${to} from its extension; pass --format csv|parquet|arrow`,
    );
  }
  return { dir: positional[0]!, to, format: chosen, partial };
}

commands.set('replay', {
  summary: 'replay a spill directory into a CSV, Parquet or Arrow file',
  usage: USAGE,
  async run(argv) {
    const { flags, rest } = takeCommonFlags(argv);
    const args = parseReplayArgs(rest);
    const startedAt = new Date().toISOString();
    const writeReport = (
      exitCode: number,
      interrupted: boolean,
      stats: PipelineStats | undefined,
      error?: unknown,
    ): void => {
      if (flags.report === undefined) return;
      const failure = error === undefined ? {} : { error: describeError(error) };
      const pipelines = stats ? [{ ok: error === undefined, ...failure, stats }] : [];
      writeReportFile(flags.report, {
        command: 'replay',
        target: args.dir,
        startedAt,
        durationMs: Date.now() - Date.parse(startedAt),
        exitCode,
        interrupted,
        ...failure,
        pipelines,
      });
    };
    const spilled = await openSpill(args.dir, { partial: args.partial }).catch((error: unknown) => {
      // the library's advice in the CLI's words
      if (error instanceof SpillError && error.detail.includes('pass { partial: true }'))
        throw new SpillError(error.detail.replace('pass { partial: true }', 'pass --partial'), error.context, {
          cause: error,
        });
      throw error;
    });
    const interrupt = onInterrupt('replay');
    try {
      const sink: BatchSink<unknown> =
        args.format === 'csv' ? toCsv(args.to) : args.format === 'parquet' ? toParquet(args.to) : toArrow(args.to);
      const started = performance.now();
      let stats: PipelineStats;
      try {
        ({ stats } = await pipeline(spilled.toSource(), sink, {
          governor: false,
          progress: flags.progress,
          signal: interrupt.signal,
        }));
      } catch (error) {
        if (!interrupt.interrupted) throw error;
        writeReport(interrupt.exitCode, true, undefined, error);
        process.stderr.write('spillway replay: interrupted\n');
        return interrupt.exitCode;
      }
      writeReport(0, false, stats);
      const ms = performance.now() - started;
      process.stdout.write(
        terminalSafe(
          `replayed ${spilled.dir} -> ${args.to} (${args.format}): ${formatExact(stats.rowsOut)} rows from ${formatBytes(spilled.bytesOnDisk)} of spill files, ${formatDuration(ms)}\n`,
        ),
      );
      return 0;
    } finally {
      interrupt.dispose();
      await spilled.dispose();
    }
  },
});
