/**
 * Live progress of a pipeline: a tracker samples the stages' live counters, the source's
 * position and totals, the governor and the worker pools on an unref'd timer (every 250 ms), and
 * hands plain event objects to a callback and/or a renderer. The renderer draws one live line on
 * a terminal (redrawn at most 4 times a second) and plain lines every few seconds elsewhere
 * (never a carriage return or an escape code, so logs stay line-oriented).
 *
 * Nothing here runs per row: a sample reads a handful of counters.
 */
import { LineRenderer, clamp } from './progress-line.ts';
import type { Readable, Writable } from 'node:stream';
import type { ProgressEvent, ProgressStream } from './progress-event.ts';
import { readRun, type RunReading } from '../core/reading.ts';
import { ValidationError, describeValue } from '../core/errors.ts';
import type { MemoryGovernor } from '../memory/governor.ts';
import type { PipelineStats } from '../core/stats.ts';

export type { ProgressEvent, ProgressStage, ProgressStream } from './progress-event.ts';

/** The object form of the `progress` pipeline option. */
export interface ProgressOptions {
  /** Receives every event (every `intervalMs`, and a final one). */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Where to render lines. Default: `process.stderr`, unless only `onProgress` is given (then
   * nothing is rendered).
   */
  stream?: ProgressStream;
  /**
   * Ms between events and between rendered lines. Default: events every 250 ms, a live terminal
   * line redrawn every 250 ms, a plain line every 5000 ms off a terminal.
   */
  intervalMs?: number;
}

/**
 * The `progress` pipeline option: `true` renders to stderr, a function receives the events, an
 * object chooses both, `false`/absent: no progress.
 */
export type ProgressOption = boolean | ((event: ProgressEvent) => void) | ProgressOptions;

/** A validated progress option. */
export interface ProgressSpec {
  onProgress: ((event: ProgressEvent) => void) | undefined;
  stream: ProgressStream | undefined;
  /** Ms between samples. */
  sampleMs: number;
  /** Ms between rendered lines. */
  renderMs: number;
}

/** Sampling interval when none is given. */
export const PROGRESS_SAMPLE_MS = 250;
/** Plain-line interval off a terminal when none is given. */
export const PROGRESS_LINE_MS = 5000;
/** Time constant of the rate smoothing. */
const SMOOTHING_MS = 3000;

/** Validates the `progress` option; undefined when progress is off. Throws ValidationError. */
export function resolveProgress(option: unknown, path = 'options.progress'): ProgressSpec | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return spec(undefined, process.stderr, undefined);
  if (typeof option === 'function') return spec(option as (event: ProgressEvent) => void, undefined, undefined);
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new ValidationError(
      `Expected \`${path}\` to be a boolean, a function or an object, got ${describeValue(option)}`,
    );
  }
  const o = option as ProgressOptions;
  for (const key of Object.keys(o)) {
    if (!['onProgress', 'stream', 'intervalMs'].includes(key))
      throw new ValidationError(`Unknown option \`${path}.${key}\` (expected onProgress, stream, intervalMs)`);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new ValidationError(`Expected \`${path}.onProgress\` to be a function, got ${describeValue(o.onProgress)}`);
  }
  if (
    o.stream !== undefined &&
    (typeof o.stream !== 'object' || o.stream === null || typeof o.stream.write !== 'function')
  ) {
    throw new ValidationError(`Expected \`${path}.stream\` to be a writable stream, got ${describeValue(o.stream)}`);
  }
  const interval = o.intervalMs;
  if (interval !== undefined && (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 10)) {
    throw new ValidationError(`Expected \`${path}.intervalMs\` to be an integer >= 10, got ${describeValue(interval)}`);
  }
  const stream = o.stream ?? (o.onProgress === undefined ? process.stderr : undefined);
  return spec(o.onProgress, stream, interval);
}

function spec(
  onProgress: ProgressSpec['onProgress'],
  stream: ProgressStream | undefined,
  intervalMs: number | undefined,
): ProgressSpec {
  const tty = stream?.isTTY === true;
  return {
    onProgress,
    stream,
    sampleMs: Math.min(PROGRESS_SAMPLE_MS, intervalMs ?? PROGRESS_SAMPLE_MS),
    // a terminal line is redrawn at most 4 times a second, whatever the interval asked
    renderMs: tty ? Math.max(PROGRESS_SAMPLE_MS, intervalMs ?? PROGRESS_SAMPLE_MS) : (intervalMs ?? PROGRESS_LINE_MS),
  };
}

/** What a tracker watches: the pipeline's streams, its governor and its start time. */
export interface ProgressView {
  streams: readonly (Readable | Writable)[];
  governor: MemoryGovernor | undefined;
  /** `performance.now()` when the pipeline started. */
  started: number;
}

/** The counted part of an event, before rates and totals are derived. */
type LiveFigures = Omit<ProgressEvent, 'state' | 'fraction' | 'rowsPerSec' | 'bytesPerSec' | 'etaMs' | 'elapsedMs'>;

/** The part of a reading a progress event shows. */
function liveFigures(reading: RunReading): LiveFigures {
  const { at: _at, batches: _batches, batchSizeLast: _last, ...figures } = reading;
  return figures;
}

/**
 * Samples a running pipeline and reports progress. `start()` begins the timer (unref'd: it
 * never keeps the process alive); `finish(stats)` or `fail(stats)` send the final event and
 * finish the rendered output.
 */
export class ProgressTracker {
  readonly #spec: ProgressSpec;
  readonly #view: ProgressView;
  readonly #renderer: LineRenderer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #last: { at: number; rows: number; bytes: number } | undefined;
  #rowsPerSec = 0;
  #bytesPerSec = 0;
  #ended = false;
  #failedCallback = false;

  constructor(spec: ProgressSpec, view: ProgressView) {
    this.#spec = spec;
    this.#view = view;
    this.#renderer = spec.stream ? new LineRenderer(spec.stream, spec.renderMs) : undefined;
  }

  /** Starts sampling. */
  start(): void {
    if (this.#timer || this.#ended) return;
    this.#last = { at: this.#view.started, rows: 0, bytes: 0 };
    this.#timer = setInterval(() => this.#tick(), this.#spec.sampleMs);
    this.#timer.unref();
  }

  /** A live event now (also advances the smoothed rates). */
  sample(now = performance.now(), live: LiveFigures = this.#read()): ProgressEvent {
    const last = this.#last ?? { at: this.#view.started, rows: 0, bytes: 0 };
    const dt = now - last.at;
    if (dt > 0) {
      const rowsRate = ((live.rows - last.rows) / dt) * 1000;
      const bytesRate = ((live.bytes - last.bytes) / dt) * 1000;
      // the first rate is taken as is; later ones are blended in by how much time they cover
      const alpha =
        this.#last === undefined || (this.#rowsPerSec === 0 && this.#bytesPerSec === 0)
          ? 1
          : 1 - Math.exp(-dt / SMOOTHING_MS);
      this.#rowsPerSec += alpha * (rowsRate - this.#rowsPerSec);
      this.#bytesPerSec += alpha * (bytesRate - this.#bytesPerSec);
      this.#last = { at: now, rows: live.rows, bytes: live.bytes };
    }
    return this.#event('running', live, now - this.#view.started, this.#rowsPerSec, this.#bytesPerSec);
  }

  /** Ends with the run's final stats: the last event, and the finished line. */
  finish(stats: PipelineStats): ProgressEvent {
    return this.#end('done', stats);
  }

  /** Ends a failed run: a final `failed` event; the live line is cleared. */
  fail(stats?: PipelineStats): ProgressEvent {
    return this.#end('failed', stats);
  }

  #end(state: 'done' | 'failed', stats: PipelineStats | undefined): ProgressEvent {
    this.#stopTimer();
    const live = this.#read();
    const elapsed = stats?.durationMs ?? performance.now() - this.#view.started;
    if (stats) {
      live.rows = stats.rowsIn;
      live.bytes = stats.bytesRead;
      if (stats.memory?.last)
        live.memory = {
          level: stats.memory.level,
          rss: stats.memory.last.rss,
          fraction: Math.round(stats.memory.last.fraction * 1e4) / 1e4,
        };
    }
    const seconds = elapsed / 1000;
    const event = this.#event(
      state,
      live,
      elapsed,
      seconds > 0 ? live.rows / seconds : 0,
      seconds > 0 ? live.bytes / seconds : 0,
    );
    if (event.workers) event.workers.busy = 0;
    if (!this.#ended) {
      this.#ended = true;
      this.#emit(event);
      if (state === 'done') this.#renderer?.finish(event);
      else this.#renderer?.clear();
    }
    return event;
  }

  /** Stops the timer without a final event (idempotent). */
  stop(): void {
    this.#stopTimer();
    this.#ended = true;
    this.#renderer?.clear();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    this.observe(readRun(this.#view.streams, this.#view.governor));
  }

  /** Reports a reading taken by the run's sampler: advances the rates, emits and renders an event. */
  observe(reading: RunReading): void {
    if (this.#ended) return;
    const event = this.sample(reading.at, liveFigures(reading));
    this.#emit(event);
    this.#renderer?.update(event, reading.at);
  }

  #emit(event: ProgressEvent): void {
    if (!this.#spec.onProgress || this.#failedCallback) return;
    try {
      this.#spec.onProgress(event);
    } catch {
      // a broken progress callback must not break the pipeline; it is not called again
      this.#failedCallback = true;
    }
  }

  #read(): LiveFigures {
    return liveFigures(readRun(this.#view.streams, this.#view.governor));
  }

  #event(
    state: ProgressEvent['state'],
    live: LiveFigures,
    elapsedMs: number,
    rowsPerSec: number,
    bytesPerSec: number,
  ): ProgressEvent {
    let fraction: number | undefined;
    let remaining: number | undefined;
    if (live.rowsTotal !== undefined && live.rowsTotal > 0) {
      // a source that filters (a dataset's `where`) gives fewer rows than its input holds: the
      // share done is of the input it passed over (the done line of a pushdown read said 15%)
      const scanned = live.rowsScanned ?? live.rows;
      fraction = clamp(scanned / live.rowsTotal);
      if (live.rowsScanned !== undefined) {
        if (fraction > 0) remaining = (elapsedMs * (1 - fraction)) / fraction;
      } else if (rowsPerSec > 0) remaining = (Math.max(0, live.rowsTotal - live.rows) / rowsPerSec) * 1000;
    } else if (live.bytesTotal !== undefined && live.bytesTotal > 0) {
      fraction = clamp(live.bytes / live.bytesTotal);
      if (bytesPerSec > 0) remaining = (Math.max(0, live.bytesTotal - live.bytes) / bytesPerSec) * 1000;
    } else if (live.rowsTotal === 0 || live.bytesTotal === 0) {
      fraction = 1;
      remaining = 0;
    }
    if (state === 'done' && fraction !== undefined) {
      fraction = 1;
      remaining = 0;
    }
    const { stages, ...figures } = live;
    return {
      state,
      ...figures,
      ...(fraction !== undefined ? { fraction } : {}),
      rowsPerSec: Math.round(rowsPerSec),
      bytesPerSec: Math.round(bytesPerSec),
      ...(remaining !== undefined ? { etaMs: Math.round(remaining) } : {}),
      elapsedMs: Math.round(elapsedMs),
      stages,
    };
  }
}
