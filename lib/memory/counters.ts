/**
 * The governor's accounting, defined once: event counters and time per level (a snapshot taken
 * at a run's start is subtracted at its end, so a shared governor still reports per run), and
 * running figures over every sample. `summarise` turns both into a MemorySummary.
 */
import type { LevelTimes, MemoryLevel, MemorySample, MemorySummary } from './types.ts';

/** Running figures over every sample (the history ring keeps only the recent ones). */
export class Totals {
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

  /** Counts one sample. */
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

  /** RSS growth per minute, by least squares over every sample. */
  get growthPerMin(): number {
    return this.#ctt > 0 ? (this.#cty / this.#ctt) * 60_000 : 0;
  }
}

/** Event counters at a moment, to subtract for per-run summaries. */
export type Counters = Pick<
  MemorySummary,
  'pressureEvents' | 'spillsRequested' | 'spills' | 'spilledBytes' | 'leakWarnings' | 'criticalEvents' | 'gcRuns'
> & { levels: LevelTimes };

/** Counters at zero (a fresh object each call: the governor counts into it). */
export function zeroCounters(): Counters {
  return {
    pressureEvents: 0,
    spillsRequested: 0,
    spills: 0,
    spilledBytes: 0,
    leakWarnings: 0,
    criticalEvents: 0,
    gcRuns: 0,
    levels: { ok: 0, spill: 0, pause: 0, critical: 0 },
  };
}

/** A copy of `c`, so later counting does not change it. */
export function snapshot(c: Counters): Counters {
  return { ...c, levels: { ...c.levels } };
}

/** What the summary says beside the counters: the governor's limit, level and last sample. */
export interface SummaryContext {
  limit: number;
  level: MemoryLevel;
  last: MemorySample | undefined;
  allocator: string;
}

/** The summary of the samples in `t` and of the events counted between `since` and `now`. */
export function summarise(t: Totals, since: Counters, now: Counters, context: SummaryContext): MemorySummary {
  const levels: LevelTimes = { ok: 0, spill: 0, pause: 0, critical: 0 };
  for (const key of Object.keys(levels) as MemoryLevel[]) levels[key] = Math.round(now.levels[key] - since.levels[key]);
  return {
    limit: context.limit,
    heapLimit: context.last?.heapLimit ?? 0,
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
    level: context.level,
    levels,
    last: context.last ? { ...context.last } : undefined,
    allocator: context.allocator,
  };
}
