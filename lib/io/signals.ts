/**
 * Termination signals while pipelines run. Node's default for SIGINT, SIGTERM and SIGHUP is to
 * die at once, leaving hidden temporary outputs and spill directories behind (and, for a
 * distributed run, jobs and payloads in Redis). While at least one `pipeline()` runs, and only
 * for a signal no one else listens to (a CLI or an application with its own handler decides for
 * itself), spillway takes it: it aborts every active run (each removes its temporary files,
 * spill directories and queue keys as on any failure), waits for them to settle (bounded), removes
 * synchronously whatever is still registered, then re-raises the signal with Node's default
 * action restored, so the process ends as it would have, with the exit status 128 + signo.
 */
import { constants } from 'node:os';
import { AbortError } from '../core/errors.ts';
import { removeTempFilesSync } from './temp-files.ts';
import { removeSpillDirsSync } from '../formats/spill/cleanup.ts';
import { logger } from '../core/stage.ts';

const debug = logger('signals');

/** The signals handled like Ctrl-C. */
export const TERMINATION_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** One of {@link TERMINATION_SIGNALS}. */
export type TerminationSignal = (typeof TERMINATION_SIGNALS)[number];

/** The exit status a shell reports for a process ended by `signal`: 128 + its number (SIGTERM: 143). */
export function signalExitCode(signal: TerminationSignal): number {
  return 128 + constants.signals[signal];
}

/** How long runs get to clean up after a signal before the process ends anyway. */
export const SIGNAL_GRACE_MS = 10_000;

interface ActiveRun {
  abort(reason: Error): void;
  settled: Promise<unknown>;
}

const runs = new Set<ActiveRun>();
const installed = new Map<TerminationSignal, () => void>();
let stopping = false;

/** Removes what is still registered for removal, synchronously (the process is about to end). */
function removeLeftoversSync(): void {
  const files = removeTempFilesSync();
  const dirs = removeSpillDirsSync();
  if (files + dirs > 0) debug('removed %d temporary file(s) and %d spill directory(ies)', files, dirs);
}

function reraise(signal: TerminationSignal): void {
  for (const [sig, handler] of installed) process.off(sig, handler);
  installed.clear();
  debug('re-raising %s', signal);
  process.kill(process.pid, signal);
}

function onSignal(signal: TerminationSignal): void {
  // someone else listens too (added after us): the signal is theirs to handle
  if (process.listenerCount(signal) > 1) return;
  if (stopping) {
    // a second signal: no more waiting
    removeLeftoversSync();
    reraise(signal);
    return;
  }
  stopping = true;
  debug('%s: aborting %d run(s)', signal, runs.size);
  const settled = [...runs].map((run) => {
    run.abort(new AbortError(`The pipeline was stopped by ${signal}`, { cause: signal }));
    return run.settled.catch(() => undefined);
  });
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SIGNAL_GRACE_MS);
  });
  void Promise.race([Promise.all(settled), grace]).then(() => {
    clearTimeout(timer);
    removeLeftoversSync();
    reraise(signal);
  });
}

/**
 * Registers a running pipeline: until `settled` settles, a termination signal nobody else handles
 * calls `abort(reason)`, waits for `settled` (at most {@link SIGNAL_GRACE_MS}), removes leftovers
 * and re-raises the signal. Returns the unregister function (idempotent).
 */
export function guardRun(abort: (reason: Error) => void, settled: Promise<unknown>): () => void {
  const run: ActiveRun = { abort, settled };
  runs.add(run);
  for (const signal of TERMINATION_SIGNALS) {
    if (installed.has(signal) || process.listenerCount(signal) > 0) continue;
    const handler = (): void => onSignal(signal);
    installed.set(signal, handler);
    process.on(signal, handler);
  }
  return () => {
    if (!runs.delete(run) || runs.size > 0 || stopping) return;
    for (const [signal, handler] of installed) process.off(signal, handler);
    installed.clear();
  };
}
