/**
 * A compact record of a run over time: rows and bytes read, batch size, bytes spilled and (when
 * memory is governed) RSS, heap, children's memory and the governor's level. Columns of numbers,
 * JSON-serialisable, and bounded: when it reaches `maxPoints` it keeps every other point and
 * records half as often, so an hour-long run costs as much as a minute-long one. Memory columns
 * keep the peak of each merged interval, so a short spike or pause is never thinned away.
 */
import type { MemoryGovernor, MemoryLevel, MemorySample } from '../memory/governor.ts';
import type { RunReading } from '../core/reading.ts';
import type { Timeline } from './timeline-data.ts';
import type { RunEnd, RunObserver, RunView } from '../core/observer.ts';

/** The governor's level as a number in {@link Timeline.level}: 0 ok, 1 spill, 2 pause, 3 critical. */
export const LEVEL_RANK: Readonly<Record<MemoryLevel, number>> = { ok: 0, spill: 1, pause: 2, critical: 3 };

export type { Timeline, TimelineMemory } from './timeline-data.ts';

/** What the recorder reads at each point. */
export interface TimelineReading {
  rows: number;
  bytes: number;
  /** Rows in the latest batch (0 when none yet). */
  batchRows: number;
  /** Bytes spilled so far, when not known from the governor. */
  spilledBytes?: number;
  /** Totals, when the sources know them. */
  rowsTotal?: number;
  bytesTotal?: number;
}

/** Options of {@link TimelineRecorder}. */
export interface TimelineRecorderOptions {
  /** Reads the run's counters; called once per point. */
  read: () => TimelineReading;
  /** The governor whose samples and level fill the memory columns. */
  governor?: MemoryGovernor;
  /** Most points kept (at least 16). Default 600. */
  maxPoints?: number;
  /** Spacing of the first points, ms. Default 100. */
  intervalMs?: number;
  /** Records on a timer; false records only on {@link TimelineRecorder.record} (tests). Default true. */
  timer?: boolean;
  /** The clock, ms since the epoch (tests). */
  now?: () => number;
}

const CUMULATIVE = ['t', 'rows', 'bytes', 'batchRows', 'spilledBytes'] as const;
const PEAK = ['rss', 'heapUsed', 'children', 'level'] as const;

/** Records a {@link Timeline} while a pipeline runs. */
export class TimelineRecorder {
  readonly #read: () => TimelineReading;
  readonly #governor: MemoryGovernor | undefined;
  readonly #maxPoints: number;
  readonly #now: () => number;
  readonly #useTimer: boolean;
  readonly #timeline: Timeline;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  // peaks since the previous point, from the governor's samples and level changes
  #peak: { rss: number; heapUsed: number; children: number; level: number } | undefined;
  readonly #onSample = (sample: MemorySample): void => this.#notePeak(sample);
  readonly #onLevel = (level: MemoryLevel): void => {
    if (this.#peak) this.#peak.level = Math.max(this.#peak.level, LEVEL_RANK[level]);
  };
  #spilledAtStart = 0;

  constructor(options: TimelineRecorderOptions) {
    this.#read = options.read;
    this.#governor = options.governor;
    this.#maxPoints = Math.max(16, Math.floor(options.maxPoints ?? 600));
    this.#now = options.now ?? Date.now;
    this.#useTimer = options.timer ?? true;
    this.#timeline = {
      start: this.#now(),
      intervalMs: Math.max(1, options.intervalMs ?? 100),
      t: [],
      rows: [],
      bytes: [],
      batchRows: [],
      spilledBytes: [],
    };
    const governor = this.#governor;
    if (governor) {
      const marks = governor.marks;
      const heapLimit = governor.lastSample?.heapLimit ?? 0;
      this.#timeline.memory = {
        limit: governor.limit,
        heapLimit,
        spill: Math.round(marks.spill * governor.limit),
        pause: Math.round(marks.pause * governor.limit),
        critical: Math.round(marks.critical * governor.limit),
      };
      Object.assign(this.#timeline, { rss: [], heapUsed: [], children: [], level: [] });
      this.#spilledAtStart = governor.summary().spilledBytes;
      governor.on('sample', this.#onSample);
      governor.on('level', this.#onLevel);
    }
  }

  /** The spacing of points now, ms (doubles each time the record is thinned). */
  get intervalMs(): number {
    return this.#timeline.intervalMs;
  }

  /** Starts recording on the timer and takes the first point. */
  start(): this {
    this.record();
    this.#schedule();
    return this;
  }

  /** Adds a point now. */
  record(): void {
    if (this.#stopped) return;
    const tl = this.#timeline;
    const reading = this.#read();
    const t = Math.max(0, this.#now() - tl.start);
    // a second point at the same time (a stop right after a tick) replaces the first
    if (tl.t.length > 0 && tl.t[tl.t.length - 1] === t) this.#dropLast();
    tl.t.push(t);
    tl.rows.push(reading.rows);
    tl.bytes.push(reading.bytes);
    tl.batchRows.push(reading.batchRows);
    if (reading.rowsTotal !== undefined) tl.rowsTotal = reading.rowsTotal;
    if (reading.bytesTotal !== undefined) tl.bytesTotal = reading.bytesTotal;
    const governor = this.#governor;
    if (governor) {
      const last = governor.lastSample;
      if (last) this.#notePeak(last);
      const peak = this.#peak ?? { rss: 0, heapUsed: 0, children: 0, level: LEVEL_RANK[governor.level] };
      tl.rss?.push(peak.rss);
      tl.heapUsed?.push(peak.heapUsed);
      tl.children?.push(peak.children);
      tl.level?.push(Math.max(peak.level, LEVEL_RANK[governor.level]));
      // points taken before the governor's first sample borrow the first one, not zero
      if (last) backfill(tl, peak);
      if (last && tl.memory) tl.memory.heapLimit = last.heapLimit;
      this.#peak = undefined;
      tl.spilledBytes.push(Math.max(reading.spilledBytes ?? 0, governor.summary().spilledBytes - this.#spilledAtStart));
    } else {
      tl.spilledBytes.push(reading.spilledBytes ?? 0);
    }
    if (tl.t.length >= this.#maxPoints) this.#thin();
  }

  /** The latest point's batch size and bytes spilled, and the totals known (cheap: no copy). */
  latest(): { batchRows: number; spilledBytes: number; rowsTotal?: number } {
    const tl = this.#timeline;
    const latest = { batchRows: tl.batchRows.at(-1) ?? 0, spilledBytes: tl.spilledBytes.at(-1) ?? 0 };
    return tl.rowsTotal === undefined ? latest : { ...latest, rowsTotal: tl.rowsTotal };
  }

  /** A copy of the record so far. */
  snapshot(): Timeline {
    return cloneTimeline(this.#timeline);
  }

  /** Takes a last point, stops the timer and the governor listeners, and returns the record. */
  stop(): Timeline {
    if (!this.#stopped) {
      this.record();
      this.#stopped = true;
      clearTimeout(this.#timer);
      this.#governor?.off('sample', this.#onSample);
      this.#governor?.off('level', this.#onLevel);
    }
    return this.snapshot();
  }

  #schedule(): void {
    if (!this.#useTimer || this.#stopped) return;
    // a chain of timeouts, so thinning can stretch the interval; unref'd: never keeps a process alive
    this.#timer = setTimeout(() => {
      this.record();
      this.#schedule();
    }, this.#timeline.intervalMs);
    this.#timer.unref();
  }

  /** Removes the latest point, its memory peaks carried into the next. */
  #dropLast(): void {
    const tl = this.#timeline;
    for (const key of CUMULATIVE) tl[key].pop();
    const rss = tl.rss?.pop();
    const heapUsed = tl.heapUsed?.pop();
    const children = tl.children?.pop();
    const level = tl.level?.pop();
    if (rss === undefined) return;
    const peak = (this.#peak ??= { rss: 0, heapUsed: 0, children: 0, level: 0 });
    peak.rss = Math.max(peak.rss, rss);
    peak.heapUsed = Math.max(peak.heapUsed, heapUsed ?? 0);
    peak.children = Math.max(peak.children, children ?? 0);
    peak.level = Math.max(peak.level, level ?? 0);
  }

  #notePeak(sample: MemorySample): void {
    const peak = (this.#peak ??= { rss: 0, heapUsed: 0, children: 0, level: 0 });
    peak.rss = Math.max(peak.rss, sample.rss);
    peak.heapUsed = Math.max(peak.heapUsed, sample.heapUsed);
    peak.children = Math.max(peak.children, sample.childrenRss);
  }

  /** Merges neighbouring points pairwise and doubles the interval. */
  #thin(): void {
    thinTimeline(this.#timeline);
  }
}

function backfill(tl: Timeline, peak: { rss: number; heapUsed: number; children: number }): void {
  const rss = tl.rss ?? [];
  for (let i = rss.length - 2; i >= 0 && rss[i] === 0; i--) {
    rss[i] = peak.rss;
    if (tl.heapUsed) tl.heapUsed[i] = peak.heapUsed;
    if (tl.children) tl.children[i] = peak.children;
  }
}

/**
 * Halves a timeline in place: each pair of points becomes one at the later time, with the later
 * cumulative values and the higher memory values; the interval doubles. The last point is kept.
 */
export function thinTimeline(tl: Timeline): void {
  const n = tl.t.length;
  const keep = (i: number): boolean => i % 2 === 1 || i === n - 1;
  for (const key of CUMULATIVE) tl[key] = tl[key].filter((_, i) => keep(i));
  for (const key of PEAK) {
    const column = tl[key];
    if (!column) continue;
    const merged: number[] = [];
    for (let i = 0; i < n; i++) {
      if (!keep(i)) continue;
      const previous = i % 2 === 1 ? (column[i - 1] ?? 0) : 0;
      merged.push(Math.max(previous, column[i] ?? 0));
    }
    tl[key] = merged;
  }
  tl.intervalMs *= 2;
}

/** A deep copy of a timeline. */
export function cloneTimeline(tl: Timeline): Timeline {
  const copy: Timeline = {
    ...tl,
    t: [...tl.t],
    rows: [...tl.rows],
    bytes: [...tl.bytes],
    batchRows: [...tl.batchRows],
    spilledBytes: [...tl.spilledBytes],
  };
  for (const key of PEAK) {
    const column = tl[key];
    if (column) copy[key] = [...column];
  }
  if (tl.memory) copy.memory = { ...tl.memory };
  return copy;
}

/**
 * Turns the run's readings into a {@link TimelineRecorder}'s: the first source's rows, bytes and
 * totals, its latest batch size (as adaptive sources report it, else rows over batches since
 * the previous reading), and what spill sinks wrote to disk.
 */
export function timelineReader(read: () => RunReading): () => TimelineReading {
  let previous = { rows: 0, batches: 0, batchRows: 0 };
  return () => {
    const { rows, batches, bytes, batchSizeLast, rowsTotal, bytesTotal } = read();
    let batchRows = previous.batchRows;
    if (batchSizeLast !== undefined) batchRows = batchSizeLast;
    else if (batches > previous.batches) batchRows = Math.round((rows - previous.rows) / (batches - previous.batches));
    previous = { rows, batches, batchRows };
    const reading: TimelineReading = { rows, bytes, batchRows };
    if (rowsTotal !== undefined) reading.rowsTotal = rowsTotal;
    if (bytesTotal !== undefined) reading.bytesTotal = bytesTotal;
    return reading;
  };
}

/** Records the run's timeline from the sampler's readings and adds it to the stats at the end. */
export class TimelineObserver implements RunObserver {
  readonly name = 'timeline';
  #recorder: TimelineRecorder | undefined;
  #latest: RunReading | undefined;

  /** The recorder (the dashboard draws from it); undefined before the run starts. */
  get recorder(): TimelineRecorder | undefined {
    return this.#recorder;
  }

  get sampleMs(): number | undefined {
    return this.#recorder?.intervalMs;
  }

  start(run: RunView): void {
    const read = (): RunReading => this.#latest ?? run.read();
    this.#recorder = new TimelineRecorder({ read: timelineReader(read), governor: run.governor, timer: false }).start();
  }

  sample(reading: RunReading): void {
    this.#latest = reading;
    this.#recorder?.record();
    this.#latest = undefined;
  }

  end(end: RunEnd): void {
    if (this.#recorder) end.stats.timeline = this.#recorder.stop();
  }

  dispose(): void {
    this.#recorder?.stop();
  }
}
