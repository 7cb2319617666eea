/**
 * A run observer: something that watches a pipeline run without taking part in it (the progress
 * line, the timeline, the dashboard, the process-wide hooks of `spillway run`). The {@link Run}
 * calls each in the order given; every method is optional. To add one, copy
 * lib/observe/hooks.ts.
 */
import type { Readable, Writable } from 'node:stream';
import type { MemoryGovernor } from '../memory/governor.ts';
import type { RunReading } from './reading.ts';
import type { PipelineStats } from './stats.ts';

/** What an observer sees of a run when it starts. */
export interface RunView {
  /** The pipeline's streams, source first. */
  readonly streams: readonly (Readable | Writable)[];
  /** The run's governor, when memory is governed. */
  readonly governor: MemoryGovernor | undefined;
  /** `performance.now()` when the run started. */
  readonly started: number;
  /** Reads the counters now (the run's sampler does this once per tick for all observers). */
  read(): RunReading;
}

/** How a run ended. */
export interface RunEnd {
  /** The run's stats (for a failed run, what was counted until it stopped). */
  stats: PipelineStats;
  /** The error it failed with, when it failed. */
  error?: Error;
}

/** Watches a run; see the module comment. */
export interface RunObserver {
  /** A name for logs. */
  readonly name: string;
  /**
   * How often this observer wants a reading, ms (read on every tick, so it may change). The run
   * keeps one timer, due at the earliest observer. Undefined: no readings.
   */
  readonly sampleMs?: number;
  /** The run is about to let data flow. A rejection fails the run before it starts. */
  start?(run: RunView): void | Promise<void>;
  /** A reading of the counters (at most once per `sampleMs`). */
  sample?(reading: RunReading): void;
  /**
   * The run ended. Observers are called in order, and an earlier one may add to `end.stats`
   * (the timeline adds `stats.timeline` before the progress line and the dashboard see them).
   */
  end?(end: RunEnd): void | Promise<void>;
  /** Releases timers, servers and listeners; called once, on every path. */
  dispose?(): void | Promise<void>;
}
