/**
 * The governor's options and events: their types, defaults and validation (marks in order, the limit
 * resolved to bytes, leak detection), checked synchronously when a governor is made.
 */
import { ValidationError, describeValue } from '../core/errors.ts';
import { expectInteger, expectNumber, expectOptions, optionKeys, parseBytes, type ByteSize } from '../core/validate.ts';
import { LeakDetector } from './leak-detector.ts';
import { defaultMemoryLimit, systemMemoryLimit, type MemoryProbe } from './memory-probe.ts';
import type { Marks } from './levels.ts';
import type { MemoryLimitError } from '../core/errors.ts';
import type { LeakInfo } from './leak-detector.ts';
import { ProcessMemoryProbe } from './memory-probe.ts';
import { expectOneOf } from '../core/validate.ts';
import type { MemoryLevel, MemorySample } from './types.ts';

/** Options of {@link MemoryGovernor}. */
export interface MemoryGovernorOptions {
  /**
   * Memory the governed work may use: bytes, a string such as `'512MB'`, or a fraction in (0, 1]
   * of what the machine allows (the cgroup limit when set, else total memory). Default: the
   * smaller of 90% of what the machine allows and the V8 heap limit plus as much again, at least
   * 512 MiB more (see `defaultMemoryLimit`).
   */
  limit?: ByteSize;
  /** Sampling interval, ms. Default 100. */
  intervalMs?: number;
  /** Fraction of the limit where spill sinks should spill. Default 0.6. */
  spill?: number;
  /** Fraction of the limit where the spill level is left. Default `spill - 0.1`. */
  spillResume?: number;
  /** Fraction where sources pause. Default 0.8. */
  pause?: number;
  /** Fraction below which paused sources resume. Default 0.7. */
  resume?: number;
  /** Fraction where the governor gives up (see `onCritical`). Default 0.95. */
  critical?: number;
  /** At the critical mark: `'abort'` the pipelines with a MemoryLimitError (default), or `'wait'` paused. */
  onCritical?: 'abort' | 'wait';
  /**
   * Longest a pause may last, ms: past it the pipelines fail with a MemoryLimitError that says
   * what holds memory, instead of waiting for a relief that a leak never brings. Default 180000
   * (3 minutes); `Infinity` waits forever.
   */
  maxPauseMs?: number;
  /** Measures memory; inject one in tests. Default: this process and its tracked children. */
  probe?: MemoryProbe;
  /** Samples kept for {@link MemoryGovernor.history}. Default 600 (a minute at 100 ms). */
  historySize?: number;
  /** Leak detection on RSS while rows flow, or `false` for none. */
  leak?: { windowMs?: number; thresholdBytesPerMin?: ByteSize; warmupMs?: number } | false;
  /** Run a full GC before pausing and while paused (see the module comment). Default true. */
  gc?: boolean;
  /** Fewest ms between two GCs the governor runs. Default 2000. */
  gcIntervalMs?: number;
  /**
   * Tune glibc's allocator when the level first leaves `ok` (fixed mmap and trim thresholds) and
   * trim its arenas after each collection the governor runs, through spillway's native helper
   * (lib/memory/allocator.ts; `summary().allocator` says whether it is there). Default true.
   */
  allocator?: boolean;
}

/** The governor's events and their arguments. */
export interface MemoryGovernorEvents {
  /** The level changed. */
  level: [level: MemoryLevel, sample: MemorySample, previous: MemoryLevel];
  /** Sources were paused (entering pause or critical). */
  pressure: [sample: MemorySample];
  /** Sources may read again (leaving pause). */
  relief: [sample: MemorySample];
  /** RSS rises steadily while rows flow. */
  leak: [info: LeakInfo];
  /** Every sample. */
  sample: [sample: MemorySample];
  /** The critical mark was passed with `onCritical: 'abort'`, or a pause outlasted `maxPauseMs`. */
  critical: [error: MemoryLimitError];
}

/** Every option of MemoryGovernorOptions, for strict validation. */
export const KNOWN_MEMORY_GOVERNOR_OPTIONS = optionKeys<MemoryGovernorOptions>({
  limit: true,
  intervalMs: true,
  spill: true,
  spillResume: true,
  pause: true,
  resume: true,
  critical: true,
  onCritical: true,
  probe: true,
  historySize: true,
  leak: true,
  gc: true,
  gcIntervalMs: true,
  allocator: true,
  maxPauseMs: true,
});

/**
 * Resolves a `limit` option to bytes: a fraction in (0, 1] of {@link systemMemoryLimit}, or a
 * byte size (a number above 1, or a string such as `'512MB'`).
 */
export function resolveLimit(
  limit: ByteSize | undefined,
  path = 'options.limit',
  system: () => number = systemMemoryLimit,
): number {
  if (limit === undefined) return system === systemMemoryLimit ? defaultMemoryLimit() : system();
  if (typeof limit === 'number' && limit > 0 && limit <= 1) return Math.floor(system() * limit);
  const bytes = parseBytes(limit, path);
  if (bytes < 1024 * 1024) {
    throw new ValidationError(
      `Expected \`${path}\` to be a fraction in (0, 1] or at least 1 MiB, got ${describeValue(limit)}`,
    );
  }
  return bytes;
}

/** The marks of `options`, validated: each in [0, 1] and in order (spill <= pause < critical). */
export function marksFrom(options: MemoryGovernorOptions): Marks {
  const spill = expectNumber(options.spill, 'options.spill', 0.6, 0, 1);
  const pause = expectNumber(options.pause, 'options.pause', 0.8, 0, 1);
  const critical = expectNumber(options.critical, 'options.critical', 0.95, 0, 1);
  const resume = expectNumber(options.resume, 'options.resume', Math.min(0.7, pause - 0.05), 0, 1);
  const spillResume = expectNumber(options.spillResume, 'options.spillResume', Math.max(0, spill - 0.1), 0, 1);
  const order = (a: string, av: number, b: string, bv: number, strict: boolean): void => {
    if (strict ? av >= bv : av > bv) {
      throw new ValidationError(
        `Expected \`options.${a}\` (${av}) to be ${strict ? 'below' : 'at most'} \`options.${b}\` (${bv})`,
      );
    }
  };
  if (spill <= 0) throw new ValidationError(`Expected \`options.spill\` to be above 0, got ${describeValue(spill)}`);
  order('spill', spill, 'pause', pause, false);
  order('pause', pause, 'critical', critical, true);
  order('resume', resume, 'pause', pause, true);
  order('spillResume', spillResume, 'spill', spill, false);
  return { spill, spillResume, pause, resume, critical, criticalResume: Math.max(pause, critical - 0.05) };
}

/** The leak detector `options.leak` asks for, or undefined for `false`. */
export function leakFrom(leak: MemoryGovernorOptions['leak'], intervalMs: number): LeakDetector | undefined {
  if (leak === false) return undefined;
  const options = expectOptions(leak, 'options.leak');
  const windowMs = expectInteger(options.windowMs, 'options.leak.windowMs', 60_000, 1);
  const threshold =
    options.thresholdBytesPerMin === undefined
      ? 1e6
      : parseBytes(options.thresholdBytesPerMin, 'options.leak.thresholdBytesPerMin');
  const warmupMs = expectInteger(options.warmupMs, 'options.leak.warmupMs', windowMs, 0);
  return new LeakDetector({
    windowMs,
    thresholdBytesPerMin: threshold,
    warmupMs,
    minSamples: Math.min(10, Math.max(3, Math.floor(windowMs / intervalMs))),
  });
}

/** The options of a governor, validated and with their defaults. */
export interface GovernorSettings {
  marks: Marks;
  limit: number;
  intervalMs: number;
  onCritical: 'abort' | 'wait';
  maxPauseMs: number;
  historySize: number;
  probe: MemoryProbe;
  leak: LeakDetector | undefined;
  gc: boolean;
  gcIntervalMs: number;
  allocator: boolean;
}

/** Validates `options` (unknown keys included) and fills in the defaults. */
export function resolveGovernorOptions(options: MemoryGovernorOptions | undefined): GovernorSettings {
  const o = expectOptions(options, 'options', KNOWN_MEMORY_GOVERNOR_OPTIONS);
  const marks = marksFrom(o);
  const limit = resolveLimit(o.limit);
  const intervalMs = expectInteger(o.intervalMs, 'options.intervalMs', 100, 1);
  const onCritical = expectOneOf(o.onCritical, 'options.onCritical', ['abort', 'wait'], 'abort');
  const maxPauseMs =
    o.maxPauseMs === Infinity ? Infinity : expectInteger(o.maxPauseMs, 'options.maxPauseMs', 180_000, 1);
  const historySize = expectInteger(o.historySize, 'options.historySize', 600, 1);
  if (o.probe !== undefined && (o.probe === null || typeof (o.probe as Partial<MemoryProbe>).sample !== 'function')) {
    throw new ValidationError(
      `Expected \`options.probe\` to be an object with a \`sample(children)\` method, got ${describeValue(o.probe)}`,
    );
  }
  const probe = o.probe ?? new ProcessMemoryProbe();
  const leak = leakFrom(o.leak, intervalMs);
  if (o.gc !== undefined && typeof o.gc !== 'boolean') {
    throw new ValidationError(`Expected \`options.gc\` to be a boolean, got ${describeValue(o.gc)}`);
  }
  const gcIntervalMs = expectInteger(o.gcIntervalMs, 'options.gcIntervalMs', 2000, 0);
  if (o.allocator !== undefined && typeof o.allocator !== 'boolean')
    throw new ValidationError(`Expected \`options.allocator\` to be a boolean, got ${describeValue(o.allocator)}`);
  const allocator = o.allocator ?? true;
  return {
    marks,
    limit,
    intervalMs,
    onCritical,
    maxPauseMs,
    historySize,
    probe,
    leak,
    gc: o.gc ?? true,
    gcIntervalMs,
    allocator,
  };
}
