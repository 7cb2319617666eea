/**
 * What the governor measures and reports, as plain types: the error registry, the stage face and
 * the observers use them without loading the governor itself.
 */

/** How close memory is to the limit. */
export type MemoryLevel = 'ok' | 'spill' | 'pause' | 'critical';

/** One measurement, with the pressure derived from it. */
export interface MemorySample {
  /** When it was taken, ms since the epoch. */
  time: number;
  /** Resident set size of this process, bytes. */
  rss: number;
  /** V8 heap in use, bytes. */
  heapUsed: number;
  /** V8 heap limit, bytes. */
  heapLimit: number;
  /** V8 heap reserved (used plus free pages), bytes; 0 when the probe does not say. */
  heapTotal: number;
  /** Heap the process can fill before V8 aborts it, bytes (pressure is judged on it). */
  heapUsable: number;
  /** C++ memory bound to JS objects, bytes. */
  external: number;
  /** ArrayBuffers and Buffers, bytes. */
  arrayBuffers: number;
  /** RSS of tracked child processes, bytes. */
  childrenRss: number;
  /** `rss + childrenRss`. */
  total: number;
  /** The pressure levels are judged on: `max(total / limit, heapUsed / heapUsable)`. */
  fraction: number;
}

/** A JSON-serialisable account of a governor's life: goes into `stats.memory`. */
export interface MemorySummary {
  /** The limit, bytes. */
  limit: number;
  /** V8 heap limit at the last sample, bytes. */
  heapLimit: number;
  /** Samples taken. */
  samples: number;
  /** RSS of this process: peak, mean and lowest over all samples, bytes. */
  peakRss: number;
  meanRss: number;
  minRss: number;
  /** Peak of RSS plus children, bytes. */
  peakTotal: number;
  /** Peak pressure fraction. */
  peakFraction: number;
  /** Least-squares growth of RSS over all samples, bytes per minute. */
  growthBytesPerMin: number;
  /** Time spent paused (pause or critical), ms. */
  pausedMs: number;
  /** Times sources were paused (entries into pause or critical). */
  pressureEvents: number;
  /** Times the spill level was entered from ok. */
  spillsRequested: number;
  /** Spills spill sinks reported, and their bytes. */
  spills: number;
  spilledBytes: number;
  /** Leak warnings given. */
  leakWarnings: number;
  /** Critical episodes. */
  criticalEvents: number;
  /** Collections the governor ran. */
  gcRuns: number;
  /** The level now. */
  level: MemoryLevel;
  /** Time at each level, ms. */
  levels: LevelTimes;
  /** The last sample, if any. */
  last: MemorySample | undefined;
  /**
   * What spillway's allocator helper does (lib/memory/allocator.ts): `tuned` (glibc's thresholds
   * fixed, once a governor's level left `ok`), `loaded` (not needed yet), `off` (`allocator:
   * false`), or `unavailable: why`.
   */
  allocator: string;
}

/** Time spent at each level, ms. */
export type LevelTimes = Record<MemoryLevel, number>;
