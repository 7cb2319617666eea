/**
 * The memory governor: samples memory on a timer, turns it into a level with hysteresis
 * (Dask-style marks), and lets pipelines slow down before the process is killed for memory.
 *
 * Levels, as fractions of the limit (each configurable):
 * - `ok`
 * - `spill` from 0.6: spill sinks move what they hold to disk; left below `spill - 0.1`
 * - `pause` from 0.8: sources stop reading (`paused`, `waitForRelief`); left below `resume` (0.7)
 * - `critical` from 0.95: with `onCritical: 'abort'` a `critical` event carries a
 *   {@link MemoryLimitError} and pending `waitForRelief` calls reject with it; with `'wait'` it
 *   only stays paused. Left below `max(pause, critical - 0.05)`, into `pause`.
 *
 * The pressure is the larger of RSS (this process plus tracked children) over the limit and V8
 * heap used over the heap the process can fill before V8 aborts it (the old-generation limit,
 * see `usableHeapLimit`), so a heap near its own ceiling pauses too and becomes a
 * {@link MemoryLimitError} at the critical mark instead of a fatal "heap out of memory".
 *
 * Never a silent hang: a pause can only end when memory is released, and a leak in user code
 * never releases it. A pause (or a critical level in `'wait'` mode) that lasts `maxPauseMs`
 * (default 3 minutes) fails the pipelines with a {@link MemoryLimitError} that says what holds
 * the memory (V8 heap, external memory, children, allocator-retained; see memory-breakdown.ts).
 *
 * Garbage: memory user code has dropped comes back only after a collection, and a paused
 * pipeline allocates little, so V8 may never run one. When a sample would enter `pause` or
 * `critical` (and at most every `gcIntervalMs` while paused), the governor runs a full GC and
 * measures again before deciding. It uses `globalThis.gc` when exposed, otherwise exposes it once
 * through `v8.setFlagsFromString` + `vm.runInNewContext('gc')` (see `obtainGc`); `gc: false`
 * turns this off.
 *
 * One governor may serve several pipelines: each `attach()`es (ref-counted) and the timer runs
 * while any is attached. {@link defaultGovernor} is the process-wide one pipelines share when
 * they are given none.
 */
import { EventEmitter } from 'node:events';
import { AbortError, MemoryLimitError, ValidationError, describeValue } from '../core/errors.ts';
import { LeakDetector, type LeakInfo } from './leak-detector.ts';
import { ProcessMemoryProbe, obtainGc, systemMemoryLimit, type MemoryProbe, type MemoryReading } from './memory-probe.ts';
import { logger } from '../core/stage.ts';
import { expectInteger, expectNumber, expectOneOf, expectOptions, optionKeys, parseBytes, type ByteSize } from '../core/validate.ts';
import { formatBytes } from '../core/format.ts';
import { brandClass } from '../core/brand.ts';
import type { LevelTimes, MemoryLevel, MemorySample, MemorySummary } from './types.ts';
import { defaultMemoryLimit } from './memory-probe.ts';
import { describeBreakdown } from './breakdown.ts';
import { ReusableMemory } from './reusable-memory.ts';

export { MemoryLimitError } from '../core/errors.ts';
export type { LeakInfo } from './leak-detector.ts';
export type { MemoryProbe, MemoryReading } from './memory-probe.ts';
export { ProcessMemoryProbe, heapSizeLimit, obtainGc, systemMemoryLimit } from './memory-probe.ts';
export { usableHeapLimit } from './limits.ts';
export { defaultMemoryLimit } from './memory-probe.ts';
export { memoryBreakdown, describeBreakdown, type MemoryBreakdown } from './breakdown.ts';

export type { LevelTimes, MemoryLevel, MemorySample, MemorySummary } from './types.ts';

const log = logger('governor');

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

/** Marks derived from the options, as fractions. */
interface Marks {
  spill: number;
  spillResume: number;
  pause: number;
  resume: number;
  critical: number;
  criticalResume: number;
}

const RANK: Record<MemoryLevel, number> = { ok: 0, spill: 1, pause: 2, critical: 3 };

/** The next level for pressure `f` when the current one is `current` (the hysteresis lives here). */
export function nextLevel(current: MemoryLevel, f: number, marks: Marks): MemoryLevel {
  if (f >= marks.critical) return 'critical';
  if (current === 'critical' && f >= marks.criticalResume) return 'critical';
  if (f >= marks.pause) return 'pause';
  if ((current === 'pause' || current === 'critical') && f >= marks.resume) return 'pause';
  if (f >= marks.spill) return 'spill';
  if (current !== 'ok' && f >= marks.spillResume) return 'spill';
  return 'ok';
}

/**
 * Resolves a `limit` option to bytes: a fraction in (0, 1] of {@link systemMemoryLimit}, or a
 * byte size (a number above 1, or a string such as `'512MB'`).
 */
export function resolveLimit(limit: ByteSize | undefined, path = 'options.limit', system: () => number = systemMemoryLimit): number {
  if (limit === undefined) return system === systemMemoryLimit ? defaultMemoryLimit() : system();
  if (typeof limit === 'number' && limit > 0 && limit <= 1) return Math.floor(system() * limit);
  const bytes = parseBytes(limit, path);
  if (bytes < 1024 * 1024) {
    throw new ValidationError(`Expected \`${path}\` to be a fraction in (0, 1] or at least 1 MiB, got ${describeValue(limit)}`);
  }
  return bytes;
}

function marksFrom(options: MemoryGovernorOptions): Marks {
  const spill = expectNumber(options.spill, 'options.spill', 0.6, 0, 1);
  const pause = expectNumber(options.pause, 'options.pause', 0.8, 0, 1);
  const critical = expectNumber(options.critical, 'options.critical', 0.95, 0, 1);
  const resume = expectNumber(options.resume, 'options.resume', Math.min(0.7, pause - 0.05), 0, 1);
  const spillResume = expectNumber(options.spillResume, 'options.spillResume', Math.max(0, spill - 0.1), 0, 1);
  const order = (a: string, av: number, b: string, bv: number, strict: boolean): void => {
    if (strict ? av >= bv : av > bv) {
      throw new ValidationError(`Expected \`options.${a}\` (${av}) to be ${strict ? 'below' : 'at most'} \`options.${b}\` (${bv})`);
    }
  };
  if (spill <= 0) throw new ValidationError(`Expected \`options.spill\` to be above 0, got ${describeValue(spill)}`);
  order('spill', spill, 'pause', pause, false);
  order('pause', pause, 'critical', critical, true);
  order('resume', resume, 'pause', pause, true);
  order('spillResume', spillResume, 'spill', spill, false);
  return { spill, spillResume, pause, resume, critical, criticalResume: Math.max(pause, critical - 0.05) };
}

function leakFrom(leak: MemoryGovernorOptions['leak'], intervalMs: number): LeakDetector | undefined {
  if (leak === false) return undefined;
  const options = expectOptions(leak, 'options.leak');
  const windowMs = expectInteger(options.windowMs, 'options.leak.windowMs', 60_000, 1);
  const threshold = options.thresholdBytesPerMin === undefined ? 1e6 : parseBytes(options.thresholdBytesPerMin, 'options.leak.thresholdBytesPerMin');
  const warmupMs = expectInteger(options.warmupMs, 'options.leak.warmupMs', windowMs, 0);
  return new LeakDetector({ windowMs, thresholdBytesPerMin: threshold, warmupMs, minSamples: Math.min(10, Math.max(3, Math.floor(windowMs / intervalMs))) });
}

/** Running figures over every sample (the history ring keeps only the recent ones). */
class Totals {
  n = 0;
  peakRss = 0;
  minRss = Infinity;
  meanRss = 0;
  peakTotal = 0;
  peakFraction = 0;
  // running least squares of rss on time (centred, Welford-style, so long runs stay precise)
  #meanT = 0;
  #ctt = 0;
  #cty = 0;

  add(s: MemorySample): void {
    this.n++;
    if (s.rss > this.peakRss) this.peakRss = s.rss;
    if (s.rss < this.minRss) this.minRss = s.rss;
    if (s.total > this.peakTotal) this.peakTotal = s.total;
    if (s.fraction > this.peakFraction) this.peakFraction = s.fraction;
    const dt = s.time - this.#meanT;
    const dy = s.rss - this.meanRss;
    this.#meanT += dt / this.n;
    this.meanRss += dy / this.n;
    this.#ctt += dt * (s.time - this.#meanT);
    this.#cty += dt * (s.rss - this.meanRss);
  }

  get growthPerMin(): number {
    return this.#ctt > 0 ? (this.#cty / this.#ctt) * 60_000 : 0;
  }
}

/** Event counters at a moment, to subtract for per-run summaries. */
type Counters = Pick<MemorySummary, 'pressureEvents' | 'spillsRequested' | 'spills' | 'spilledBytes' | 'leakWarnings' | 'criticalEvents' | 'gcRuns'> & { levels: LevelTimes };

const ZERO_COUNTERS: Counters = {
  pressureEvents: 0,
  spillsRequested: 0,
  spills: 0,
  spilledBytes: 0,
  leakWarnings: 0,
  criticalEvents: 0,
  gcRuns: 0,
  levels: { ok: 0, spill: 0, pause: 0, critical: 0 },
};

function noop(): void {}

/** Least ms between two collections run before declaring the critical level. */
const CRITICAL_GC_INTERVAL_MS = 200;

/** Least ms between two samples that sources' polls take once memory is past the spill mark. */
const POLL_UNDER_PRESSURE_MS = 2;

type Waiter = { resolve: () => void; reject: (error: Error) => void };


/** Every option of MemoryGovernorOptions, for strict validation. */
const KNOWN_MEMORY_GOVERNOR_OPTIONS = optionKeys<MemoryGovernorOptions>({ limit: true, intervalMs: true, spill: true, spillResume: true, pause: true, resume: true, critical: true, onCritical: true, probe: true, historySize: true, leak: true, gc: true, gcIntervalMs: true, maxPauseMs: true });
/**
 * Samples memory, keeps a level with hysteresis, pauses sources through `waitForRelief`, asks
 * spill sinks to spill, and warns of leaks. See the module comment for the levels and marks.
 *
 * @example
 * ```ts
 * const governor = new MemoryGovernor({ limit: '1GB' });
 * governor.on('level', (level, sample) => console.error(level, sample.rss));
 * await pipeline(fromCsv('big.csv'), map(enrich), toCsv('out.csv'), { governor });
 * ```
 */
export class MemoryGovernor extends EventEmitter<MemoryGovernorEvents> {
  /** The limit, bytes. */
  readonly limit: number;
  /** Sampling interval, ms. */
  readonly intervalMs: number;
  /** What happens at the critical mark. */
  readonly onCritical: 'abort' | 'wait';
  /** Longest a pause may last before the pipelines fail, ms (Infinity: no bound). */
  readonly maxPauseMs: number;
  /** When the current pause began (ms since the epoch), or undefined when not paused. */
  #pausedSince: number | undefined;
  readonly #marks: Marks;
  readonly #probe: MemoryProbe;
  readonly #historySize: number;
  readonly #history: MemorySample[] = [];
  #historyStart = 0;
  readonly #leak: LeakDetector | undefined;
  readonly #gcEnabled: boolean;
  readonly #gcIntervalMs: number;
  #lastGcAt = -Infinity;
  #gcRuns = 0;

  #level: MemoryLevel = 'ok';
  #last: MemorySample | undefined;
  #attached = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<MemorySample> | undefined;
  #closed = false;
  readonly #children = new Map<number, number>(); // pid -> how many track it
  readonly #waiters = new Set<Waiter>();
  readonly #reuse = new ReusableMemory();
  #rowsSinceSample = 0;
  #lastError: MemoryLimitError | undefined;
  /** The error of a pause that outlasted maxPauseMs, while that pause goes on. */
  #stuckError: MemoryLimitError | undefined;

  readonly #totals = new Totals();
  /** Per-run accounts open now (see startRun); each gets every sample. */
  readonly #runs = new Set<Totals>();
  readonly #levelMs: LevelTimes = { ok: 0, spill: 0, pause: 0, critical: 0 };
  #pressureEvents = 0;
  #spillsRequested = 0;
  #spills = 0;
  #spilledBytes = 0;
  #criticalEvents = 0;

  /** Validates `options` synchronously; no timer runs until a pipeline {@link attach}es. */
  constructor(options?: MemoryGovernorOptions) {
    super();
    const o = expectOptions(options, 'options', KNOWN_MEMORY_GOVERNOR_OPTIONS);
    this.#marks = marksFrom(o);
    this.limit = resolveLimit(o.limit);
    this.intervalMs = expectInteger(o.intervalMs, 'options.intervalMs', 100, 1);
    this.onCritical = expectOneOf(o.onCritical, 'options.onCritical', ['abort', 'wait'], 'abort');
    this.maxPauseMs = o.maxPauseMs === Infinity ? Infinity : expectInteger(o.maxPauseMs, 'options.maxPauseMs', 180_000, 1);
    this.#historySize = expectInteger(o.historySize, 'options.historySize', 600, 1);
    if (o.probe !== undefined && (o.probe === null || typeof (o.probe as Partial<MemoryProbe>).sample !== 'function')) {
      throw new ValidationError(`Expected \`options.probe\` to be an object with a \`sample(children)\` method, got ${describeValue(o.probe)}`);
    }
    this.#probe = o.probe ?? new ProcessMemoryProbe();
    this.#leak = leakFrom(o.leak, this.intervalMs);
    if (o.gc !== undefined && typeof o.gc !== 'boolean') {
      throw new ValidationError(`Expected \`options.gc\` to be a boolean, got ${describeValue(o.gc)}`);
    }
    this.#gcEnabled = o.gc ?? true;
    this.#gcIntervalMs = expectInteger(o.gcIntervalMs, 'options.gcIntervalMs', 2000, 0);
  }

  /** The level now. */
  get level(): MemoryLevel {
    return this.#level;
  }

  /** True while sources must not read: the level is pause or critical (until below `resume`). */
  get paused(): boolean {
    return this.#level === 'pause' || this.#level === 'critical';
  }

  /** True while spill sinks should move what they hold to disk (any level but ok). */
  get spilling(): boolean {
    return this.#level !== 'ok';
  }

  /** The marks in use, as fractions of the limit. */
  get marks(): Readonly<Marks> {
    return this.#marks;
  }

  /** The last sample, if any. */
  get lastSample(): MemorySample | undefined {
    return this.#last;
  }

  /** Pipelines attached now. */
  get attached(): number {
    return this.#attached;
  }

  /** True while the sampling timer runs (someone is attached or waiting). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** True once {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A pipeline starts using the governor. Ref-counted: the sampling timer runs while at least one
   * is attached. It is unref'd (never keeps the process alive) except while someone waits in
   * {@link waitForRelief}. Returns `detach` (idempotent).
   */
  attach(): () => void {
    if (this.#closed) return () => {};
    this.#attached++;
    this.#updateTimer();
    if (this.#attached === 1) this.#tick();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#attached--;
      this.#updateTimer();
    };
  }

  /**
   * Resolves when sources may read: at once when not paused. Rejects with an `AbortError` when
   * `signal` aborts, and with the {@link MemoryLimitError} when the critical mark is passed in
   * `'abort'` mode. Samples keep being taken while anyone waits, attached or not.
   */
  waitForRelief(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    if (!this.paused || this.#closed) return Promise.resolve();
    if (this.#level === 'critical' && this.onCritical === 'abort' && this.#lastError) return Promise.reject(this.#lastError);
    // a pause that already outlasted maxPauseMs and goes on: fail at once rather than wait again
    if (this.#stuckError) return Promise.reject(this.#stuckError);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => settle(new AbortError(undefined, { cause: signal?.reason }));
      const settle = (error?: Error): void => {
        this.#waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        this.#updateTimer();
        if (error) reject(error);
        else resolve();
      };
      const waiter: Waiter = { resolve: () => settle(), reject: settle };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#updateTimer();
    });
  }

  /** Counts a child process's RSS in every sample until the returned function is called. */
  trackChild(pid: number): () => void {
    if (!Number.isInteger(pid) || pid <= 0) throw new ValidationError(`Expected \`pid\` to be a positive integer, got ${describeValue(pid)}`);
    this.#children.set(pid, (this.#children.get(pid) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const count = (this.#children.get(pid) ?? 1) - 1;
      if (count <= 0) this.#children.delete(pid);
      else this.#children.set(pid, count);
    };
  }

  /** Pids of the tracked children. */
  get children(): readonly number[] {
    return [...this.#children.keys()];
  }

  /**
   * Takes a sample now if the last one is older than the interval, and resolves when the level
   * is up to date (undefined when no sample was due). Sources call it before each batch: a
   * pipeline that never yields to the event loop (sync source, sync transforms) starves the
   * timer, and must not outrun the governor.
   */
  poll(): Promise<void> | undefined {
    if (this.#closed || this.#attached === 0) return undefined;
    if (this.#inFlight) return this.#inFlight.then(noop, noop);
    const last = this.#last;
    // past the spill mark memory may be climbing fast: sample on every poll (a sample of this
    // process costs microseconds; children are re-measured at most every 500 ms), so a source
    // cannot run from the pause mark through the critical one between two timer ticks
    const due = this.#level === 'ok' ? this.intervalMs : Math.min(this.intervalMs, POLL_UNDER_PRESSURE_MS);
    if (last !== undefined && Date.now() - last.time < due) return undefined;
    return this.#sample(false).then(noop, (error: unknown) => log('sampling failed: %s', (error as Error).message));
  }

  /** Rows are flowing now; leak detection judges only samples taken while rows flow. */
  noteRows(n: number): void {
    if (n > 0) this.#rowsSinceSample += n;
  }

  /** A spill sink reports that it spilled `bytes`. */
  noteSpill(bytes: number): void {
    this.#spills++;
    if (Number.isFinite(bytes) && bytes > 0) this.#spilledBytes += bytes;
  }

  /**
   * Bytes that may still be used before the pause mark, by the last sample (>= 0): the smaller
   * of the room under `pause * limit` and under `pause * heapLimit`. For adaptive batch sizes.
   */
  headroom(): number {
    const s = this.#last;
    const pauseBytes = this.#marks.pause * this.limit;
    if (!s) return Math.floor(pauseBytes);
    const room = Math.min(pauseBytes - s.total, this.#marks.pause * s.heapLimit - s.heapUsed);
    return Math.max(0, Math.floor(room));
  }

  /** Takes a sample now (children measured afresh), updates the level and returns the sample. */
  sampleNow(): Promise<MemorySample> {
    return this.#sample(true);
  }

  /** A JSON-serialisable summary of the governor's whole life. */
  summary(): MemorySummary {
    return this.#summarise(this.#totals, ZERO_COUNTERS);
  }

  /**
   * Opens a per-run account, so a pipeline's `stats.memory` speaks of its own run even when the
   * governor is shared: `stop()` takes a last sample and returns the summary of the samples and
   * events since `startRun()`.
   */
  startRun(): { stop(): Promise<MemorySummary> } {
    const totals = new Totals();
    const start = this.#counters();
    this.#runs.add(totals);
    if (!this.#closed) this.sampleNow().catch(() => undefined);
    return {
      stop: async () => {
        if (!this.#closed) await this.sampleNow().catch(() => undefined);
        this.#runs.delete(totals);
        return this.#summarise(totals, start);
      },
    };
  }

  #counters(): Counters {
    return {
      pressureEvents: this.#pressureEvents,
      spillsRequested: this.#spillsRequested,
      spills: this.#spills,
      spilledBytes: this.#spilledBytes,
      leakWarnings: this.#leak?.warnings ?? 0,
      criticalEvents: this.#criticalEvents,
      gcRuns: this.#gcRuns,
      levels: { ...this.#levelMs },
    };
  }

  #summarise(t: Totals, since: Counters): MemorySummary {
    const now = this.#counters();
    const levels: LevelTimes = { ok: 0, spill: 0, pause: 0, critical: 0 };
    for (const key of Object.keys(levels) as MemoryLevel[]) levels[key] = Math.round(now.levels[key] - since.levels[key]);
    return {
      limit: this.limit,
      heapLimit: this.#last?.heapLimit ?? 0,
      samples: t.n,
      peakRss: t.peakRss,
      meanRss: Math.round(t.meanRss),
      minRss: t.n > 0 ? t.minRss : 0,
      peakTotal: t.peakTotal,
      peakFraction: Math.round(t.peakFraction * 1e4) / 1e4,
      growthBytesPerMin: Math.round(t.growthPerMin),
      pausedMs: Math.round(levels.pause + levels.critical),
      pressureEvents: now.pressureEvents - since.pressureEvents,
      spillsRequested: now.spillsRequested - since.spillsRequested,
      spills: now.spills - since.spills,
      spilledBytes: now.spilledBytes - since.spilledBytes,
      leakWarnings: now.leakWarnings - since.leakWarnings,
      criticalEvents: now.criticalEvents - since.criticalEvents,
      gcRuns: now.gcRuns - since.gcRuns,
      level: this.#level,
      levels,
      last: this.#last ? { ...this.#last } : undefined,
    };
  }

  /** The recent samples, oldest first (a bounded ring of `historySize`). */
  history(): readonly MemorySample[] {
    const h = this.#history;
    return [...h.slice(this.#historyStart), ...h.slice(0, this.#historyStart)];
  }

  /**
   * Stops sampling for good and releases anyone waiting for relief (a closed governor no longer
   * governs). Idempotent. Attaching afterwards is a no-op.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const waiter of [...this.#waiters]) waiter.resolve();
    if (defaultInstance === this) defaultInstance = undefined;
  }

  #updateTimer(): void {
    const want = !this.#closed && (this.#attached > 0 || this.#waiters.size > 0);
    if (want && !this.#timer) this.#timer = setInterval(() => this.#tick(), this.intervalMs);
    else if (!want && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    // unref'd so sampling never keeps a process alive, except while a paused source waits: then
    // the timer is the only thing that can bring relief, and the process must not exit under it
    if (this.#timer) {
      if (this.#waiters.size > 0) this.#timer.ref();
      else this.#timer.unref();
    }
  }

  #tick(): void {
    // a slow probe must not pile up samples: skip the tick while one is in flight
    if (this.#inFlight || this.#closed) return;
    this.#sample(false).catch((error: unknown) => log('sampling failed: %s', (error as Error).message));
  }

  async #sample(fresh: boolean): Promise<MemorySample> {
    while (this.#inFlight) await this.#inFlight.catch(() => undefined);
    const run = this.#measureAndUpdate(fresh);
    this.#inFlight = run;
    try {
      return await run;
    } finally {
      this.#inFlight = undefined;
    }
  }

  async #read(fresh: boolean): Promise<MemorySample> {
    const reading: MemoryReading = await this.#probe.sample(this.children, { fresh });
    const childrenRss = reading.childrenRss ?? 0;
    const total = reading.rss + childrenRss;
    const heapUsable = reading.heapUsable !== undefined && reading.heapUsable > 0 ? Math.min(reading.heapUsable, reading.heapLimit || Infinity) : reading.heapLimit;
    const heapFraction = heapUsable > 0 ? reading.heapUsed / heapUsable : 0;
    return {
      time: reading.time ?? Date.now(),
      rss: reading.rss,
      heapUsed: reading.heapUsed,
      heapLimit: reading.heapLimit,
      heapTotal: reading.heapTotal ?? 0,
      heapUsable,
      external: reading.external ?? 0,
      arrayBuffers: reading.arrayBuffers ?? 0,
      childrenRss,
      total,
      fraction: Math.max(total / this.limit, heapFraction),
    };
  }

  async #measureAndUpdate(fresh: boolean): Promise<MemorySample> {
    let sample = await this.#read(fresh);
    let next = this.#decide(sample, false);
    if (RANK[next] >= RANK.pause && this.#gcEnabled) {
      // garbage may be what pushes us over (or keeps us paused): collect, measure again, then decide
      // about to give up (critical): a collection first, however recent the last one
      if (this.#runGc(sample.time, next === 'critical' && this.#level !== 'critical' ? Math.min(this.#gcIntervalMs, CRITICAL_GC_INTERVAL_MS) : this.#gcIntervalMs)) {
        this.#record(sample);
        sample = await this.#read(true);
        next = this.#decide(sample, true);
      }
    }
    if (this.#closed) return sample;
    this.#record(sample);
    this.emit('sample', sample);
    if (next !== this.#level) this.#changeLevel(next, sample);
    this.#checkPauseLength(sample);
    if (this.#leak && this.#rowsSinceSample > 0) {
      const info = this.#leak.add(sample.time, sample.rss);
      if (info) {
        log('leak: RSS grows %s/min over %ds (t=%s)', formatBytes(info.slopeBytesPerMin), Math.round(info.windowMs / 1000), info.tStat);
        this.emit('leak', info);
      }
    }
    this.#rowsSinceSample = 0;
    return sample;
  }

  /**
   * The level for `sample`. Critical is judged on the real figures; ok/spill/pause on RSS less
   * the credit of reusable memory (see reusable-memory.ts), granted only right after a collection
   * (`collected`) while paused.
   */
  #decide(sample: MemorySample, collected: boolean): MemoryLevel {
    const reuse = this.#reuse;
    const known = reuse.observe(sample);
    const limit = this.limit;
    const marks = this.#marks;
    if (sample.total < marks.resume * limit) reuse.reset();
    const heapFraction = sample.heapUsable > 0 ? sample.heapUsed / sample.heapUsable : 0;
    if (sample.fraction >= marks.critical) return nextLevel(this.#level, sample.fraction, marks);
    if (known && collected && this.#level === 'pause' && heapFraction < marks.resume) {
      if (reuse.grant(sample, marks.resume * limit, (marks.critical - marks.pause - 0.05) * limit)) log('reusable memory: RSS %s, in use ~%s: credit %s', formatBytes(sample.total), formatBytes(reuse.inUse(sample) ?? 0), formatBytes(reuse.credit));
    }
    const adjusted = reuse.credit > 0 ? Math.max(reuse.adjusted(sample.total) / limit, heapFraction) : sample.fraction;
    const level = nextLevel(this.#level, adjusted, marks);
    // in critical, leave it only on the real figures
    return this.#level === 'critical' && RANK[level] < RANK.critical ? nextLevel(this.#level, sample.fraction, marks) : level;
  }

  /** Books the time since the previous sample to the level that held it, and keeps the sample. */
  #record(sample: MemorySample): void {
    const prev = this.#last;
    if (prev && sample.time > prev.time) this.#levelMs[this.#level] += sample.time - prev.time;
    this.#last = sample;
    this.#totals.add(sample);
    for (const run of this.#runs) run.add(sample);
    if (this.#history.length < this.#historySize) this.#history.push(sample);
    else {
      this.#history[this.#historyStart] = sample;
      this.#historyStart = (this.#historyStart + 1) % this.#historySize;
    }
  }

  #runGc(now: number, interval: number): boolean {
    if (now - this.#lastGcAt < interval) return false;
    const gc = obtainGc();
    if (!gc) return false;
    this.#lastGcAt = now;
    this.#gcRuns++;
    gc();
    return true;
  }

  /** Fails a pause that has lasted `maxPauseMs` (see the module comment). */
  #checkPauseLength(sample: MemorySample): void {
    if (!this.paused || this.#pausedSince === undefined || this.#stuckError) return;
    const pausedMs = sample.time - this.#pausedSince;
    if (pausedMs < this.maxPauseMs) return;
    const resume = this.#level === 'critical' ? this.#marks.criticalResume : this.#marks.resume;
    const error = new MemoryLimitError(
      `Memory stayed above the resume mark for ${Math.round(pausedMs / 1000)} s (options.maxPauseMs ${this.maxPauseMs}): ${this.#pressureText(sample)}` +
        ` (${Math.round(sample.fraction * 100)}%, resume below ${Math.round(resume * 100)}%). Held by: ${describeBreakdown(sample)}. ` +
        'Nothing was released while the sources were paused: data kept by user code (a leak), or a limit too low for the data in flight',
      this.summary(),
    );
    this.#stuckError = error;
    this.#criticalEvents++;
    log('pause outlasted %d ms: failing', this.maxPauseMs);
    for (const waiter of [...this.#waiters]) waiter.reject(error);
    this.emit('critical', error);
  }

  /** What the pressure is: the heap against what it can fill, or memory against the limit. */
  #pressureText(sample: MemorySample): string {
    const heapBound = sample.heapUsable > 0 && sample.heapUsed / sample.heapUsable >= sample.total / this.limit;
    return heapBound
      ? `V8 heap ${formatBytes(sample.heapUsed)} used of the ${formatBytes(sample.heapUsable)} it can fill before V8 aborts`
      : `${formatBytes(sample.total)} of a ${formatBytes(this.limit)} limit`;
  }

  #changeLevel(next: MemoryLevel, sample: MemorySample): void {
    const previous = this.#level;
    const wasPaused = this.paused;
    this.#level = next;
    if (!wasPaused && this.paused) this.#pausedSince = sample.time;
    else if (wasPaused && !this.paused) {
      this.#pausedSince = undefined;
      this.#stuckError = undefined;
    }
    log('level %s -> %s: %s of %s (%d%%)', previous, next, formatBytes(sample.total), formatBytes(this.limit), Math.round(sample.fraction * 100));
    if (previous === 'ok' && next !== 'ok') this.#spillsRequested++;
    this.emit('level', next, sample, previous);
    if (!wasPaused && this.paused) {
      this.#pressureEvents++;
      this.emit('pressure', sample);
    }
    if (next === 'critical') {
      this.#criticalEvents++;
      if (this.onCritical === 'abort') {
        const error = new MemoryLimitError(
          `Memory passed the critical mark: ${this.#pressureText(sample)} (${Math.round(sample.fraction * 100)}%, critical at ${Math.round(this.#marks.critical * 100)}%). Held by: ${describeBreakdown(sample)}`,
          this.summary(),
        );
        this.#lastError = error;
        for (const waiter of [...this.#waiters]) waiter.reject(error);
        this.emit('critical', error);
      }
    } else {
      this.#lastError = undefined;
    }
    if (wasPaused && !this.paused) {
      this.emit('relief', sample);
      for (const waiter of [...this.#waiters]) waiter.resolve();
    }
  }
}
brandClass(MemoryGovernor, 'MemoryGovernor');

let defaultInstance: MemoryGovernor | undefined;

/**
 * The process-wide governor that pipelines share when given none, created on first use with
 * the defaults (the machine's limit). One shared governor, not one per run, so several pipelines
 * in one process see the same memory and pause together. Its timer runs only while a pipeline
 * is attached. Closing it makes the next call create a fresh one.
 */
export function defaultGovernor(): MemoryGovernor {
  defaultInstance ??= new MemoryGovernor();
  return defaultInstance;
}
