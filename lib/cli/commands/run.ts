/**
 * `spillway run SCRIPT`: runs a user's pipeline script (TypeScript or JavaScript) in this
 * process with live progress, and prints the report of every pipeline it ran. The script needs
 * no change: the CLI sets process-wide pipeline defaults (lib/defaults.ts) that every
 * `pipeline()` without its own options picks up: progress, the memory limit, the checkpoint
 * directory and an abort signal for Ctrl-C. The same hook hands back each pipeline's stats.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { commands } from '../main.ts';
import { ValidationError, describeValue } from '../../core/errors.ts';
import { MemoryGovernor, resolveLimit } from '../../memory/governor.ts';
import { setPipelineDefaults, type PipelineEnd } from '../../core/defaults.ts';
import { formatReport } from '../../observe/report.ts';
import { terminalSafe } from '../../observe/terminal-text.ts';
import { logger } from '../../core/stage.ts';
import { keptDashboards, setDashboardDefault } from '../../observe/dashboard/dashboard.ts';
import { describeError, onInterrupt, takeCommonFlags, writeReportFile, type CliReport } from './common.ts';

const log = logger('cli');

const USAGE = `Usage: spillway run SCRIPT [options] [-- script arguments]

Runs a pipeline script (.ts, .mts, .js, .mjs) in this process. Every pipeline() it runs gets,
unless the script's own options say otherwise: live progress on stderr, the memory limit, the
checkpoint directory, and Ctrl-C handling. At the end the report of each pipeline is printed
on stderr (the script keeps stdout).

Options:
  --progress / --no-progress   live progress on stderr (default: on). On a terminal one line
                               redrawn in place; otherwise a plain line every 5 s
  --memory SIZE                memory limit of the governor, at least 1 MiB: bytes or 2GB,
                               512MB, ...; or a fraction (0.5, 50%) of what the machine or
                               cgroup allows
  --report FILE                also write the stats of every pipeline as JSON to FILE, or,
                               when FILE ends in .html, as one self-contained HTML page with
                               charts of memory and throughput over time
  --checkpoint DIR             checkpoint directory for the pipelines (resume after a crash)
  --dashboard                  serve a live dashboard on 127.0.0.1 (random port, per-run
                               token) and print its address; it closes when the run ends
  --keep-dashboard             the same, and keep serving after the run until Ctrl-C

Arguments after the script (or after --) are passed to it in process.argv. A .ts script is
ESM when its package.json says "type": "module" (else name it .mts for top-level await).
Ctrl-C stops the running pipelines cleanly (no partial output under a final name, checkpoint
kept) and exits with 130; a second Ctrl-C exits at once.

Examples:
  spillway run etl.ts --memory 2GB --report etl-report.json
  spillway run sweep.ts --no-progress -- --workers 4`;

/** Parsed arguments of `run`. */
export interface RunArgs {
  script: string;
  scriptArgs: string[];
  progress: boolean;
  report: string | undefined;
  /** Governor limit in bytes. */
  memory: number | undefined;
  checkpoint: string | undefined;
  /** `--dashboard` (or `--keep-dashboard`). */
  dashboard?: boolean;
  /** `--keep-dashboard`: keep serving after the run until Ctrl-C. */
  keepDashboard?: boolean;
}

/** Parses a `--memory` value: a byte size, or a fraction (`0.5`, `50%`) of the machine. */
export function parseMemory(value: string): number {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
  const fraction = percent
    ? Number(percent[1]) / 100
    : /^\s*(0?\.\d+|1(\.0*)?)\s*$/.test(value)
      ? Number(value)
      : undefined;
  // one message for every refusal, saying all that is accepted (the library's speaks of its option)
  const refuse = (cause?: unknown): never => {
    throw new ValidationError(
      `--memory must be a size of at least 1 MiB (1048576, 512MB, 2GB, 1.5GiB) or a fraction in (0, 1] of what the machine or cgroup allows (0.5, 50%), got ${describeValue(value)}`,
      { cause },
    );
  };
  if (fraction !== undefined && !(fraction > 0 && fraction <= 1)) refuse();
  try {
    return resolveLimit(fraction ?? value, '--memory');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return refuse(error);
  }
}

/** Parses `run`'s arguments; throws ValidationError. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const { flags, rest } = takeCommonFlags(argv);
  let script: string | undefined;
  const scriptArgs: string[] = [];
  let memory: number | undefined;
  let checkpoint: string | undefined;
  let dashboard = false;
  let keepDashboard = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--') {
      scriptArgs.push(...rest.slice(i + 1));
      break;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') ? (eq < 0 ? arg : arg.slice(0, eq)) : undefined;
    if (flag === '--memory' || flag === '--checkpoint') {
      const value = eq < 0 ? rest[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '') throw new ValidationError(`option ${flag} needs a value`);
      if (flag === '--memory') memory = parseMemory(value);
      else checkpoint = value;
    } else if (arg === '--dashboard' || arg === '--keep-dashboard') {
      dashboard = true;
      keepDashboard ||= arg === '--keep-dashboard';
    } else if (flag !== undefined && script === undefined)
      throw new ValidationError(`unknown option ${flag} (see spillway run --help)`);
    else if (script === undefined) script = arg;
    else scriptArgs.push(arg);
  }
  if (script === undefined) throw new ValidationError('expected a script to run (see spillway run --help)');
  return {
    script,
    scriptArgs,
    progress: flags.progress,
    report: flags.report,
    memory,
    checkpoint,
    dashboard,
    keepDashboard,
  };
}

const TS_EXTENSIONS = /\.(ts|mts|cts|tsx)$/i;

/** Makes `.ts` scripts importable when this CLI itself runs as plain JavaScript (the built package). */
async function ensureTypeScript(script: string): Promise<void> {
  if (!TS_EXTENSIONS.test(script) || import.meta.url.endsWith('.ts')) return;
  const { register } = await import('tsx/esm/api');
  register();
}

/**
 * A script with `import` or top-level await that Node takes for CommonJS (a `.ts` or `.js` file
 * with no `"type": "module"` above it): tsx cannot compile top-level await to CommonJS, and Node's
 * require of an ES module fails as a cycle. Either way the message names neither cause nor cure.
 */
function moduleFormatHint(script: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : '';
  if (
    code !== 'ERR_REQUIRE_CYCLE_MODULE' &&
    !/top-level await is currently not supported with the "cjs"/i.test(message)
  )
    return error;
  return new ValidationError(
    `${path.basename(script)} is an ES module (import, top-level await) that Node loads as CommonJS: add "type": "module" to the package.json above it, or name it .mts (.mjs for JavaScript)`,
    { cause: error },
  );
}

/** Prints each pipeline's report to stderr (or that the script ran none). */
function printReports(title: string, ended: readonly PipelineEnd[]): void {
  if (ended.length === 0) process.stderr.write(`spillway run: ${terminalSafe(title)} ran no pipeline\n`);
  ended.forEach((end, i) => {
    const name = ended.length > 1 ? `${title} pipeline ${i + 1}/${ended.length}` : title;
    const status = end.error ? ` (failed: ${describeError(end.error).message})` : '';
    process.stderr.write(`${formatReport(end.stats, { title: `${name}${status}` })}\n`);
  });
}

/** What the run's report file says. */
interface RunOutcome {
  script: string;
  title: string;
  started: number;
  startedAt: string;
  code: number;
  interrupted: boolean;
  scriptError: unknown;
  ended: readonly PipelineEnd[];
}

/** Writes the report file: HTML for `.html`, JSON otherwise; a failure to write is reported, not thrown. */
function writeRunReport(file: string, run: RunOutcome): void {
  const { script, title, started, startedAt, code, interrupted, scriptError, ended } = run;
  const report: CliReport = {
    command: 'run',
    target: script,
    startedAt,
    durationMs: Date.now() - started,
    exitCode: code,
    interrupted,
    ...(scriptError !== undefined && !interrupted ? { error: describeError(scriptError) } : {}),
    pipelines: ended.map((end) => ({
      ok: end.error === undefined,
      ...(end.error ? { error: describeError(end.error) } : {}),
      stats: end.stats,
    })),
  };
  try {
    writeReportFile(file, report, title);
  } catch (error) {
    process.stderr.write(
      `spillway run: cannot write the report to ${terminalSafe(`${file}: ${(error as Error).message}`)}\n`,
    );
  }
}

/** Runs the script with the CLI's pipeline defaults; prints and writes the report; resolves to the exit code. */
export async function runScript(args: RunArgs): Promise<number> {
  const script = path.resolve(args.script);
  if (!existsSync(script)) throw new ValidationError(`script not found: ${args.script}`);
  const governor = args.memory === undefined ? undefined : new MemoryGovernor({ limit: args.memory });
  const tracker = new PipelineTracker();
  const run: RunState = { script, started: Date.now(), finished: false };
  // a script that calls process.exit() still gets its report
  const onExit = (): void => void finishRun(args, run, tracker, interrupt);
  const interrupt = onInterrupt('run', onExit);
  interrupt.signal.addEventListener(
    'abort',
    () => log('%s: aborting %d running pipeline(s)', interrupt.received, tracker.active),
    { once: true },
  );
  const restoreDashboard = args.dashboard ? setDashboardDefault({ keep: args.keepDashboard === true }) : undefined;
  const restore = setPipelineDefaults({
    progress: args.progress,
    ...(governor ? { governor } : {}),
    ...(args.checkpoint !== undefined ? { checkpoint: args.checkpoint } : {}),
    signal: interrupt.signal,
    onStart: () => tracker.start(),
    onEnd: (end) => tracker.end(end),
  });
  const argv = process.argv;
  process.argv = [argv[0] ?? process.execPath, script, ...args.scriptArgs];
  process.on('exit', onExit);
  log(
    'running %s (progress %s, memory %s, checkpoint %s)',
    script,
    args.progress,
    args.memory ?? 'default',
    args.checkpoint ?? 'none',
  );
  try {
    await ensureTypeScript(script);
    await import(pathToFileURL(script).href);
    // pipelines the script started without awaiting them
    await tracker.idle();
  } catch (error) {
    run.scriptError = moduleFormatHint(script, error);
  } finally {
    restore();
    restoreDashboard?.();
    process.argv = argv;
    interrupt.dispose();
    process.off('exit', onExit);
    governor?.close();
  }
  const code = finishRun(args, run, tracker, interrupt);
  // --keep-dashboard: the report is out; the dashboards serve until Ctrl-C closes them
  await keptDashboards();
  return code;
}

/** What `finishRun` reports on. */
interface RunState {
  script: string;
  started: number;
  finished: boolean;
  scriptError?: unknown;
}

/** The pipelines a script starts: their ends, and a wait for the ones it did not await. */
class PipelineTracker {
  readonly ended: PipelineEnd[] = [];
  active = 0;
  readonly #idle: (() => void)[] = [];

  start(): void {
    this.active++;
  }

  end(end: PipelineEnd): void {
    this.ended.push(end);
    this.active--;
    if (this.active === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves when no pipeline runs. */
  idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.#idle.push(resolve));
  }
}

/** Prints the report and writes the report file; synchronous and once (it also runs on exit). Returns the exit code. */
function finishRun(
  args: RunArgs,
  run: RunState,
  tracker: PipelineTracker,
  interrupt: { interrupted: boolean; exitCode: number },
): number {
  const { interrupted } = interrupt;
  const { script, scriptError } = run;
  const exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
  const code = interrupted ? interrupt.exitCode : scriptError !== undefined ? 1 : exitCode;
  if (run.finished) return code;
  run.finished = true;
  const title = path.relative(process.cwd(), script) || script;
  printReports(title, tracker.ended);
  const started = run.started;
  const startedAt = new Date(started).toISOString();
  if (args.report !== undefined)
    writeRunReport(args.report, {
      script,
      title,
      started,
      startedAt,
      code,
      interrupted,
      scriptError,
      ended: tracker.ended,
    });
  if (interrupted) process.stderr.write('spillway run: interrupted\n');
  else if (scriptError !== undefined) {
    const { message, code: errorCode } = describeError(scriptError);
    const suffix = errorCode?.startsWith('ERR_SPILLWAY') ? ` [${errorCode}]` : '';
    process.stderr.write(`spillway run: ${terminalSafe(message.replace(/\s*\n\s*/g, ' '))}${suffix}\n`);
  }
  return code;
}

commands.set('run', {
  summary: 'run a pipeline script with live progress and a final report',
  usage: USAGE,
  async run(argv) {
    return runScript(parseRunArgs(argv));
  },
});
