/**
 * The memory governor: samples memory on a timer, turns it into a level with hysteresis
 * (Dask-style marks), and lets pipelines slow down before the process is killed for memory.
 *
 * Levels and their marks: levels.ts. What a sample measures (RSS and heap pressure): sample.ts.
 * Collections before pausing: gc-pacer.ts. The counters behind `summary()`: counters.ts.
 *
 * Never a silent hang: a pause can only end when memory is released, and a leak in user code
 * never releases it. A pause (or a critical level in `'wait'` mode) that lasts `maxPauseMs`
 * (default 3 minutes) fails the pipelines with a {@link MemoryLimitError} that says what holds
 * the memory (V8 heap, external memory, children, allocator-retained; see memory-breakdown.ts).
 *
 * One governor may serve several pipelines: each `attach()`es (ref-counted) and the timer runs
 * while any is attached. {@link defaultGovernor} is the process-wide one pipelines share when
 * they are given none.
 */
import { notePressure } from './native-pools.ts';
import { EventEmitter } from 'node:events';
import { AbortError, type MemoryLimitError } from '../core/errors.ts';
import type { LeakDetector } from './leak-detector.ts';
import type { MemoryProbe } from './memory-probe.ts';
import { SamplingLoop } from './sampling-loop.ts';
import { logger } from '../core/stage.ts';
import { formatBytes } from '../core/format.ts';
import { brandClass } from '../core/brand.ts';
import type { MemoryLevel, MemorySample, MemorySummary } from './types.ts';
import { ReusableMemory } from './reusable-memory.ts';
import { resolveGovernorOptions, type MemoryGovernorEvents, type MemoryGovernorOptions } from './governor-options.ts';
import { CRITICAL_CONFIRM_MS, ENTRY_GC_INTERVAL_MS, GcPacer } from './gc-pacer.ts';
import { RANK, decideLevel, headroom, type Marks } from './levels.ts';
import { Totals, snapshot, summarise, zeroCounters, type Counters } from './counters.ts';
import { ReliefWaiters } from './relief.ts';
import { SampleHistory, TrackedChildren, readSample } from './sample.ts';
import { criticalError, stuckError } from './pressure.ts';
import { allocatorState, trimAllocator, tuneAllocator } from './allocator.ts';

export { MemoryLimitError } from '../core/errors.ts';
export type { LeakInfo } from './leak-detector.ts';
export type { MemoryProbe, MemoryReading } from './memory-probe.ts';
export { ProcessMemoryProbe, heapSizeLimit, obtainGc, systemMemoryLimit } from './memory-probe.ts';
export { usableHeapLimit } from './limits.ts';
export { defaultMemoryLimit } from './memory-probe.ts';
export { memoryBreakdown, describeBreakdown, type MemoryBreakdown } from './breakdown.ts';
export type { LevelTimes, MemoryLevel, MemorySample, MemorySummary } from './types.ts';
export { resolveLimit, type MemoryGovernorEvents, type MemoryGovernorOptions } from './governor-options.ts';
export { nextLevel } from './levels.ts';

const log = logger('governor');

function noop(): void {}

/** Least ms between two samples that sources' polls take once memory is past the spill mark. */
const POLL_UNDER_PRESSURE_MS = 2;

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
  readonly #history: SampleHistory;
  readonly #leak: LeakDetector | undefined;
  readonly #gc: GcPacer;
  /** Tune and trim glibc's allocator (the `allocator` option). */
  readonly #allocator: boolean;

  #level: MemoryLevel = 'ok';
  #last: MemorySample | undefined;
  #attached = 0;
  readonly #loop: SamplingLoop;
  #closed = false;
  readonly #children = new TrackedChildren();
  readonly #waiters = new ReliefWaiters(() => this.#updateTimer());
  readonly #reuse = new ReusableMemory();
  #rowsSinceSample = 0;
  #lastError: MemoryLimitError | undefined;
  /** The error of a pause that outlasted maxPauseMs, while that pause goes on. */
  #stuckError: MemoryLimitError | undefined;

  readonly #totals = new Totals();
  /** Per-run accounts open now (see startRun); each gets every sample. */
  readonly #runs = new Set<Totals>();
  /** Events and time per level over the governor's life (leakWarnings read from the detector). */
  readonly #counts: Counters = zeroCounters();
  /** A reading passed the spill mark that the collection before it kept at ok (see #notePressure). */
  #nearSpill = false;
  /** A stage released memory while paused: the next sample collects at once (see released()). */
  #collectNow = false;
  /**
   * A stage released memory while not paused, and no collection ran since: the next sample that
   * would pause collects at once, whatever the pacing (see released()).
   */
  #releasedSinceGc = false;

  /** Validates `options` synchronously; no timer runs until a pipeline {@link attach}es. */
  constructor(options?: MemoryGovernorOptions) {
    super();
    const o = resolveGovernorOptions(options);
    this.#marks = o.marks;
    this.limit = o.limit;
    this.intervalMs = o.intervalMs;
    this.onCritical = o.onCritical;
    this.maxPauseMs = o.maxPauseMs;
    this.#history = new SampleHistory(o.historySize);
    this.#probe = o.probe;
    this.#leak = o.leak;
    this.#gc = new GcPacer(o.gc, o.gcIntervalMs);
    this.#allocator = o.allocator;
    this.#loop = new SamplingLoop(this.intervalMs, (fresh) => this.#measureAndUpdate(fresh));
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
    return this.#loop.running;
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
    if (this.#attached === 1) this.#loop.tick();
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
    if (this.#level === 'critical' && this.onCritical === 'abort' && this.#lastError)
      return Promise.reject(this.#lastError);
    // a pause that already outlasted maxPauseMs and goes on: fail at once rather than wait again
    if (this.#stuckError) return Promise.reject(this.#stuckError);
    return this.#waiters.wait(signal);
  }

  /** Counts a child process's RSS in every sample until the returned function is called. */
  trackChild(pid: number): () => void {
    return this.#children.track(pid);
  }

  /** Pids of the tracked children. */
  get children(): readonly number[] {
    return this.#children.pids();
  }

  /**
   * Takes a sample now if the last one is older than the interval, and resolves when the level
   * is up to date (undefined when no sample was due). Sources call it before each batch: a
   * pipeline that never yields to the event loop (sync source, sync transforms) starves the
   * timer, and must not outrun the governor.
   */
  poll(): Promise<void> | undefined {
    if (this.#closed || this.#attached === 0) return undefined;
    const inFlight = this.#loop.inFlight;
    if (inFlight) return inFlight.then(noop, noop);
    const last = this.#last;
    // past the spill mark memory may be climbing fast: sample on every poll (a sample of this
    // process costs microseconds; children are re-measured at most every 500 ms), so a source
    // cannot run from the pause mark through the critical one between two timer ticks
    const due = this.#level === 'ok' ? this.intervalMs : Math.min(this.intervalMs, POLL_UNDER_PRESSURE_MS);
    if (last !== undefined && Date.now() - last.time < due) return undefined;
    return this.#loop
      .sample(false)
      .then(noop, (error: unknown) => log('sampling failed: %s', (error as Error).message));
  }

  /** Rows are flowing now; leak detection judges only samples taken while rows flow. */
  noteRows(n: number): void {
    if (n > 0) this.#rowsSinceSample += n;
  }

  /**
   * A stage let go of memory it held (an operator spilled its table). While paused, collects
   * (deeply: freed heap pages go back to the system), trims the allocator and measures again
   * now, rather than at the next paced collection up to `gcIntervalMs` later, so the pause ends
   * as soon as the memory is gone: a groupBy at a 256 MB limit sat idle 1.4 s of its 8.6 s
   * waiting for that collection. Resolves when the level is up to date; undefined when not paused.
   * Not paused, it is remembered: a pause about to begin on that memory collects first even when
   * a collection ran a moment ago (a groupBy that spilled at the spill level then paused on its
   * table's garbage for 1.9 s of a 7 s run, until the next paced collection).
   */
  released(): Promise<void> | undefined {
    if (this.#closed || !this.#gc.enabled) return undefined;
    if (!this.paused) {
      this.#releasedSinceGc = true;
      return undefined;
    }
    this.#collectNow = true;
    return this.#loop.sample(true).then(noop, (error: unknown) => log('sampling failed: %s', (error as Error).message));
  }

  /** A spill sink reports that it spilled `bytes`. */
  noteSpill(bytes: number): void {
    this.#counts.spills++;
    if (Number.isFinite(bytes) && bytes > 0) this.#counts.spilledBytes += bytes;
  }

  /**
   * Bytes that may still be used before the pause mark, by the last sample (>= 0): the smaller
   * of the room under `pause * limit` and under the heap's pause mark. For adaptive batch sizes.
   */
  headroom(): number {
    return headroom(this.#last, this.limit, this.#marks.pause);
  }

  /** Takes a sample now (children measured afresh), updates the level and returns the sample. */
  sampleNow(): Promise<MemorySample> {
    return this.#loop.sample(true);
  }

  /** A JSON-serialisable summary of the governor's whole life. */
  summary(): MemorySummary {
    return this.#summarise(this.#totals, zeroCounters());
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
    return snapshot({ ...this.#counts, leakWarnings: this.#leak?.warnings ?? 0 });
  }

  #summarise(t: Totals, since: Counters): MemorySummary {
    const allocator = this.#allocator ? allocatorState() : 'off';
    return summarise(t, since, this.#counters(), {
      limit: this.limit,
      level: this.#level,
      last: this.#last,
      allocator,
    });
  }

  /** The recent samples, oldest first (a bounded ring of `historySize`). */
  history(): readonly MemorySample[] {
    return this.#history.list();
  }

  /**
   * Stops sampling for good and releases anyone waiting for relief (a closed governor no longer
   * governs). Idempotent. Attaching afterwards is a no-op.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    notePressure(this, false);
    this.#loop.close();
    this.#waiters.resolveAll();
    if (defaultInstance === this) defaultInstance = undefined;
  }

  #updateTimer(): void {
    this.#loop.update(!this.#closed && (this.#attached > 0 || this.#waiters.size > 0), this.#waiters.size > 0);
  }

  #read(fresh: boolean): Promise<MemorySample> {
    return readSample(this.#probe, this.children, fresh, this.limit);
  }

  async #measureAndUpdate(fresh: boolean): Promise<MemorySample> {
    let sample = await this.#read(fresh);
    let next = decideLevel(this.#level, sample, false, this.#reuse, this.limit, this.#marks);
    const released = this.#collectNow || (this.#releasedSinceGc && RANK[next] >= RANK.pause);
    this.#collectNow = false;
    // entering the spill level from ok, too: operators then write their tables out, which a join
    // cannot take back (its whole build side and every later probe row go through partitions). A
    // 1M x 500k join at a 256 MB limit reached the spill mark on the garbage of its CSV rows, spilled
    // its 39 MB build and took 6.9 s; after a collection it held 194-206 MB at most and took 4.0-4.6 s
    const enteringSpill = next === 'spill' && this.#level === 'ok';
    if ((RANK[next] >= RANK.pause || enteringSpill) && this.#gc.enabled) {
      // garbage may be what pushes us over (or keeps us paused): collect, measure again, then decide.
      // A pause about to begin: a collection first unless one just ran. The critical level, which
      // fails the run, or a stage that released memory (see released()): a deep one now, always
      // (freed ArrayBuffers a collection 150 ms old left behind took a sort's merge past critical)
      const entering = RANK[next] > RANK[this.#level] && (next === 'critical' || !this.paused);
      const deep = released || (entering && next === 'critical');
      const cap = deep ? 0 : entering ? ENTRY_GC_INTERVAL_MS : Infinity;
      if (this.#gc.run(sample.time, cap, deep)) {
        this.#counts.gcRuns++;
        this.#releasedSinceGc = false;
        // what the collection freed, glibc may keep: hand its free pages back before measuring
        if (this.#allocator) trimAllocator();
        this.#record(sample);
        sample = await this.#read(true);
        next = decideLevel(this.#level, sample, true, this.#reuse, this.limit, this.#marks);
        if (next === 'critical' && this.#level !== 'critical') {
          // critical fails the run: a reading over it right after a collection is read once more a
          // moment later, after another collection. On a loaded machine the collector's background
          // sweep, which releases freed ArrayBuffers, lags the collection that freed them: a sort's
          // merge at a 16 MB limit was declared critical at 18.2 MB so, 1 run in ~100
          await new Promise((resolve) => setTimeout(resolve, CRITICAL_CONFIRM_MS));
          if (this.#closed) return sample;
          this.#gc.run(Date.now(), 0, true);
          this.#record(sample);
          sample = await this.#read(true);
          next = decideLevel(this.#level, sample, true, this.#reuse, this.limit, this.#marks);
        }
      }
    }
    if (this.#closed) return sample;
    this.#record(sample);
    this.emit('sample', sample);
    if (next !== this.#level) this.#changeLevel(next, sample);
    this.#notePressure(enteringSpill, next, sample);
    this.#checkPauseLength(sample);
    if (this.#leak && this.#rowsSinceSample > 0) {
      const info = this.#leak.add(sample.time, sample.rss);
      if (info) {
        log(
          'leak: RSS grows %s/min over %ds (t=%s)',
          formatBytes(info.slopeBytesPerMin),
          Math.round(info.windowMs / 1000),
          info.tStat,
        );
        this.emit('leak', info);
      }
    }
    this.#rowsSinceSample = 0;
    return sample;
  }

  /** Books the time since the previous sample to the level that held it, and keeps the sample. */
  #record(sample: MemorySample): void {
    const prev = this.#last;
    if (prev && sample.time > prev.time) this.#counts.levels[this.#level] += sample.time - prev.time;
    this.#last = sample;
    this.#totals.add(sample);
    for (const run of this.#runs) run.add(sample);
    this.#history.push(sample);
  }

  /** Fails a pause that has lasted `maxPauseMs` (see the module comment). */
  #checkPauseLength(sample: MemorySample): void {
    if (!this.paused || this.#pausedSince === undefined || this.#stuckError) return;
    const pausedMs = sample.time - this.#pausedSince;
    if (pausedMs < this.maxPauseMs) return;
    const resume = this.#level === 'critical' ? this.#marks.criticalResume : this.#marks.resume;
    const error = stuckError(sample, this.limit, { pausedMs, maxPauseMs: this.maxPauseMs, resume }, this.summary());
    this.#stuckError = error;
    this.#counts.criticalEvents++;
    log('pause outlasted %d ms: failing', this.maxPauseMs);
    this.#waiters.rejectAll(error);
    this.emit('critical', error);
  }

  /**
   * Native codecs compress on the calling thread (native-pools.ts), and glibc's thresholds are
   * fixed, from the first reading past the spill mark, even when the collection before entering
   * the level keeps it at ok (so operators keep their tables): the codecs' thread arenas cannot be
   * afforded near the mark all the same. With them on their pools, a toSpill at a limit ~180 MB
   * above the idle process passed the critical mark in 1 run of 12, native memory 134 MB. This
   * lasts until the level leaves ok, or a reading falls below the spill level's resume mark.
   */
  #notePressure(enteringSpill: boolean, next: MemoryLevel, sample: MemorySample): void {
    if (enteringSpill && next === 'ok') {
      this.#nearSpill = true;
      if (this.#allocator) tuneAllocator();
    } else if (next !== 'ok' || sample.fraction < this.#marks.spillResume) this.#nearSpill = false;
    notePressure(this, next !== 'ok' || this.#nearSpill);
  }

  #changeLevel(next: MemoryLevel, sample: MemorySample): void {
    const previous = this.#level;
    const wasPaused = this.paused;
    this.#level = next;
    notePressure(this, next !== 'ok');
    // once per process, when memory first gets tight: fixed thresholds cost a run with room to
    // spare CPU (more mmap calls and fresh pages), and help only one near its limit (allocator.ts)
    if (next !== 'ok' && this.#allocator) tuneAllocator();
    if (!wasPaused && this.paused) this.#pausedSince = sample.time;
    else if (wasPaused && !this.paused) {
      this.#pausedSince = undefined;
      this.#stuckError = undefined;
    }
    log(
      'level %s -> %s: %s of %s (%d%%)',
      previous,
      next,
      formatBytes(sample.total),
      formatBytes(this.limit),
      Math.round(sample.fraction * 100),
    );
    if (previous === 'ok' && next !== 'ok') this.#counts.spillsRequested++;
    this.emit('level', next, sample, previous);
    if (!wasPaused && this.paused) {
      this.#counts.pressureEvents++;
      this.emit('pressure', sample);
    }
    if (next === 'critical') {
      this.#counts.criticalEvents++;
      if (this.onCritical === 'abort') {
        const error = criticalError(sample, this.limit, this.#marks.critical, this.summary());
        this.#lastError = error;
        this.#waiters.rejectAll(error);
        this.emit('critical', error);
      }
    } else {
      this.#lastError = undefined;
    }
    if (wasPaused && !this.paused) {
      this.emit('relief', sample);
      this.#waiters.resolveAll();
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
