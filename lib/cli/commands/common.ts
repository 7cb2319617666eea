/**
 * What the CLI's pipeline commands share: the `--progress/--no-progress` and `--report FILE`
 * flags, the JSON report written atomically (a temporary name beside it, then a rename), and
 * Ctrl-C, SIGTERM and SIGHUP handling (the first stops the pipelines cleanly, a second exits at once).
 */
import { writeFileAtomicSync } from '../../io/atomic-file.ts';
import path from 'node:path';
import { ValidationError } from '../../core/errors.ts';
import type { PipelineStats } from '../../core/stats.ts';
import { TERMINATION_SIGNALS, signalExitCode, type TerminationSignal } from '../../io/signals.ts';
import { removeTempFilesSync } from '../../io/temp-files.ts';
import { removeSpillDirsSync } from '../../formats/spill/cleanup.ts';
import { formatHtmlReports } from '../../observe/dashboard/report-html.ts';

/** One pipeline in a CLI report. */
export interface ReportedPipeline {
  /** False when the pipeline failed (or was interrupted). */
  ok: boolean;
  /** Why it failed. */
  error?: { message: string; code?: string };
  stats: PipelineStats;
}

/** The JSON a command writes with `--report FILE`. */
export interface CliReport {
  command: string;
  /** The script (`run`) or the input (`convert`, `replay`). */
  target: string;
  startedAt: string;
  durationMs: number;
  exitCode: number;
  interrupted: boolean;
  /** The script's own failure (`run`), if any. */
  error?: { message: string; code?: string };
  pipelines: ReportedPipeline[];
}

/** Describes an error for a report: its message and its spillway code. */
export function describeError(error: unknown): { message: string; code?: string } {
  const e = error as { message?: unknown; code?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return typeof e?.code === 'string' ? { message, code: e.code } : { message };
}

/**
 * Writes `report` to `file` atomically (synchronous: it also runs from an exit handler): one
 * self-contained HTML page for a `.html` name, JSON otherwise. `title` names the run in the page.
 */
export function writeReportFile(file: string, report: CliReport, title = report.target): void {
  if (/\.html?$/i.test(file)) {
    const { pipelines } = report;
    const entries = pipelines.map((p, i) => ({
      title: pipelines.length > 1 ? `${title} pipeline ${i + 1}/${pipelines.length}` : title,
      stats: p.stats,
      ...(p.error ? { error: p.error.message } : {}),
    }));
    writeFileAtomicSync(path.resolve(file), formatHtmlReports(entries, `spillway ${report.command} ${title}`));
  } else writeFileAtomicSync(path.resolve(file), `${JSON.stringify(report, null, 2)}\n`);
}

/** The flags every pipeline command takes. */
export interface CommonFlags {
  /** `--progress` / `--no-progress` (default on). */
  progress: boolean;
  /** `--report FILE`. */
  report: string | undefined;
}

/**
 * Takes `--progress`, `--no-progress` and `--report FILE` (or `--report=FILE`) out of `argv`;
 * returns them and the remaining arguments.
 */
export function takeCommonFlags(argv: readonly string[]): { flags: CommonFlags; rest: string[] } {
  const flags: CommonFlags = { progress: true, report: undefined };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--progress') flags.progress = true;
    else if (arg === '--no-progress') flags.progress = false;
    else if (arg === '--report' || arg.startsWith('--report=')) {
      const value = arg === '--report' ? argv[++i] : arg.slice('--report='.length);
      if (value === undefined || value === '' || value.startsWith('--'))
        throw new ValidationError('option --report needs a file');
      flags.report = value;
    } else rest.push(arg);
  }
  return { flags, rest };
}

/** Exit code after SIGINT (128 + 2), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** Ctrl-C (and SIGTERM, SIGHUP) handling while a command runs; see {@link onInterrupt}. */
export interface Interrupt {
  /** Aborted by the first signal. */
  readonly signal: AbortSignal;
  /** True once a signal arrived. */
  readonly interrupted: boolean;
  /** The signal that arrived, if any. */
  readonly received: TerminationSignal | undefined;
  /** The exit code for it: 128 + its number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP). */
  readonly exitCode: number;
  /** Removes the handlers (idempotent). */
  dispose(): void;
}

/**
 * Until `dispose()`: the first SIGINT, SIGTERM or SIGHUP aborts `signal` (pipelines stop cleanly:
 * temporary output removed, spill directories and queue keys too, checkpoints kept), a second
 * removes what is left and exits at once with 128 + its number. `beforeExit` runs before that
 * hard exit (e.g. to write the report).
 */
export function onInterrupt(command: string, beforeExit?: () => void): Interrupt {
  const controller = new AbortController();
  let received: TerminationSignal | undefined;
  const handlers = TERMINATION_SIGNALS.map((sig) => {
    const handler = (): void => {
      if (received !== undefined) {
        process.stderr.write(`spillway ${command}: ${sig} again, exiting now\n`);
        beforeExit?.();
        removeTempFilesSync();
        removeSpillDirsSync();
        process.exit(signalExitCode(sig));
      }
      received = sig;
      const how = sig === 'SIGINT' ? 'interrupted' : `${sig} received`;
      process.stderr.write(
        `\nspillway ${command}: ${how}; stopping (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again exits at once)\n`,
      );
      controller.abort(new Error(`interrupted (${sig})`));
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return {
    signal: controller.signal,
    get interrupted() {
      return received !== undefined;
    },
    get received() {
      return received;
    },
    get exitCode() {
      return received === undefined ? EXIT_INTERRUPTED : signalExitCode(received);
    },
    dispose() {
      for (const [sig, handler] of handlers) process.off(sig, handler);
    },
  };
}
