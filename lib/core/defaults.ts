/**
 * Process-wide defaults for `pipeline()` options, and a hook that sees every pipeline start and
 * end. `spillway run script.ts` uses them so a user's script picks up the CLI's settings
 * (progress on, `--memory`, `--checkpoint`, Ctrl-C) and hands back its stats without a change.
 *
 * Kept on `globalThis` under a registered symbol: a script that imports another copy of spillway
 * (a local install beside a global CLI) still sees the CLI's defaults.
 */
import type { MemoryGovernor } from '../memory/governor.ts';
import type { PipelineOptions } from './pipeline-options.ts';
import type { PipelineStats } from './stats.ts';
import type { ProgressOption } from '../observe/progress.ts';

/** How a pipeline ended, as the {@link PipelineDefaults.onEnd} hook sees it. */
export interface PipelineEnd {
  /** The run's stats (also for a failed run: what was counted until it stopped). */
  stats: PipelineStats;
  /** The error it failed with, when it failed. */
  error?: Error;
}

/** Defaults `pipeline()` applies when its own options leave them out. */
export interface PipelineDefaults {
  /** Default for `options.progress`. */
  progress?: ProgressOption;
  /** Default for `options.governor`. */
  governor?: MemoryGovernor | false;
  /** Default for `options.checkpoint` (a checkpoint directory). */
  checkpoint?: PipelineOptions['checkpoint'];
  /** Aborts every pipeline, in addition to each one's own `options.signal`. */
  signal?: AbortSignal;
  /** Called when a pipeline starts. */
  onStart?(): void;
  /** Called when a pipeline ends, successfully or not. */
  onEnd?(end: PipelineEnd): void;
}

const KEY = Symbol.for('spillway.pipelineDefaults');

type Holder = { [KEY]?: PipelineDefaults };

/** The defaults in force now (an empty object when none were set). */
export function pipelineDefaults(): Readonly<PipelineDefaults> {
  return (globalThis as Holder)[KEY] ?? {};
}

/**
 * Sets the process-wide pipeline defaults (replacing earlier ones); returns a function that
 * restores what was there before.
 */
export function setPipelineDefaults(defaults: PipelineDefaults): () => void {
  const holder = globalThis as Holder;
  const previous = holder[KEY];
  holder[KEY] = { ...defaults };
  return () => {
    if (previous === undefined) delete holder[KEY];
    else holder[KEY] = previous;
  };
}

/** `options` with the defaults filled in where it leaves them out; signals are combined. */
export function withPipelineDefaults<O extends PipelineOptions>(options: O): O {
  const d = pipelineDefaults();
  if (d.progress === undefined && d.governor === undefined && d.checkpoint === undefined && d.signal === undefined)
    return options;
  const merged = { ...options };
  if (merged.progress === undefined && d.progress !== undefined) merged.progress = d.progress;
  if (merged.governor === undefined && d.governor !== undefined) merged.governor = d.governor;
  if (merged.checkpoint === undefined && d.checkpoint !== undefined) merged.checkpoint = d.checkpoint;
  // a bad signal is left for pipeline()'s validation to name
  if (d.signal !== undefined) {
    if (merged.signal === undefined) merged.signal = d.signal;
    else if (merged.signal instanceof AbortSignal) merged.signal = AbortSignal.any([merged.signal, d.signal]);
  }
  return merged;
}
