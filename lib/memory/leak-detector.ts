/**
 * Leak detection by trend: the least-squares slope of RSS over a sliding time window. Only
 * points taken while rows flow are fed in, so idle or paused stretches neither hide nor fake a
 * trend. One warning per episode: after a warning, the next needs the slope to fall below half
 * the threshold first.
 */

/** Options of {@link LeakDetector}. */
export interface LeakDetectorOptions {
  /** Width of the sliding window, ms. Default 60 000. */
  windowMs?: number;
  /** Slope that counts as a leak, bytes per minute. Default 1 MB (1e6) per minute. */
  thresholdBytesPerMin?: number;
  /**
   * Flowing time ignored at the start (warm-up: heaps and caches grow as a run starts).
   * Default: one window.
   */
  warmupMs?: number;
  /** Fewest points a judgement needs. Default 10. */
  minSamples?: number;
}

/** What a `leak` event carries. */
export interface LeakInfo {
  /** Least-squares slope of RSS over the window, bytes per minute. */
  slopeBytesPerMin: number;
  /** The threshold it passed, bytes per minute. */
  thresholdBytesPerMin: number;
  /** Time the window's points span, ms. */
  windowMs: number;
  /** Points in the window. */
  samples: number;
  /** Fitted RSS at the start and end of the window, bytes. */
  fromRss: number;
  toRss: number;
  /** Slope divided by its standard error: how clearly the rise stands out of the noise. */
  tStat: number;
  /** Time of the last point (ms since the epoch). */
  time: number;
}

/** The slope must stand this many standard errors above zero: noise alone rarely does. */
const MIN_T_STAT = 4;
/** The window must be at least this full before it is judged. */
const MIN_COVERAGE = 0.9;

/** Least-squares fit of `y` on `t`. */
export interface LinearFit {
  /** dy/dt. */
  slope: number;
  /** y at the mean t. */
  meanY: number;
  meanT: number;
  /** Standard error of the slope (Infinity with fewer than 3 points). */
  slopeError: number;
}

/** Fits a line through the points (centred sums, so large epoch times lose no precision). */
export function fitLine(ts: readonly number[], ys: readonly number[]): LinearFit {
  const n = ts.length;
  let meanT = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanT += (ts[i] as number) / n;
    meanY += (ys[i] as number) / n;
  }
  let stt = 0;
  let sty = 0;
  for (let i = 0; i < n; i++) {
    const dt = (ts[i] as number) - meanT;
    stt += dt * dt;
    sty += dt * ((ys[i] as number) - meanY);
  }
  const slope = stt > 0 ? sty / stt : 0;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const residual = (ys[i] as number) - meanY - slope * ((ts[i] as number) - meanT);
    sse += residual * residual;
  }
  const slopeError = n > 2 && stt > 0 ? Math.sqrt(sse / (n - 2) / stt) : Infinity;
  return { slope, meanY, meanT, slopeError };
}

/** Watches a series of (time, RSS) points taken while rows flow and reports a sustained rise. */
export class LeakDetector {
  readonly windowMs: number;
  readonly thresholdBytesPerMin: number;
  readonly warmupMs: number;
  readonly minSamples: number;
  #times: number[] = [];
  #values: number[] = [];
  #flowingMs = 0;
  #lastTime: number | undefined;
  #inEpisode = false;
  #warnings = 0;
  #lastSlope: number | undefined;

  constructor(options: LeakDetectorOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.thresholdBytesPerMin = options.thresholdBytesPerMin ?? 1e6;
    this.warmupMs = options.warmupMs ?? this.windowMs;
    this.minSamples = options.minSamples ?? 10;
  }

  /** Warnings given so far (one per episode). */
  get warnings(): number {
    return this.#warnings;
  }

  /** The slope (bytes/min) of the last judged window, if any. */
  get lastSlopeBytesPerMin(): number | undefined {
    return this.#lastSlope;
  }

  /**
   * Adds a point taken while rows flow. Returns a {@link LeakInfo} when this point starts a
   * leak episode, otherwise undefined. A gap longer than the window starts the window afresh.
   */
  add(time: number, rss: number): LeakInfo | undefined {
    const last = this.#lastTime;
    if (last !== undefined && time - last > this.windowMs) {
      this.#times = [];
      this.#values = [];
    } else if (last !== undefined && time > last) {
      this.#flowingMs += time - last;
    }
    this.#lastTime = time;
    this.#times.push(time);
    this.#values.push(rss);
    // drop points older than the window (shift is fine: a window holds hundreds of points)
    while (this.#times.length > 0 && (this.#times[0] as number) < time - this.windowMs) {
      this.#times.shift();
      this.#values.shift();
    }
    if (this.#flowingMs < this.warmupMs) return undefined;
    const n = this.#times.length;
    const span = time - (this.#times[0] as number);
    if (n < this.minSamples || span < this.windowMs * MIN_COVERAGE) return undefined;

    const fit = fitLine(this.#times, this.#values);
    const perMin = fit.slope * 60_000;
    this.#lastSlope = perMin;
    const tStat = fit.slopeError > 0 ? fit.slope / fit.slopeError : fit.slope > 0 ? Infinity : 0;
    if (this.#inEpisode) {
      if (perMin < this.thresholdBytesPerMin / 2) this.#inEpisode = false;
      return undefined;
    }
    if (perMin < this.thresholdBytesPerMin || tStat < MIN_T_STAT) return undefined;
    this.#inEpisode = true;
    this.#warnings++;
    const first = this.#times[0] as number;
    return {
      slopeBytesPerMin: Math.round(perMin),
      thresholdBytesPerMin: this.thresholdBytesPerMin,
      windowMs: span,
      samples: n,
      fromRss: Math.round(fit.meanY + fit.slope * (first - fit.meanT)),
      toRss: Math.round(fit.meanY + fit.slope * (time - fit.meanT)),
      tStat: Number.isFinite(tStat) ? Math.round(tStat * 10) / 10 : tStat,
      time,
    };
  }

  /** Forgets every point (not the warning count). */
  reset(): void {
    this.#times = [];
    this.#values = [];
    this.#lastTime = undefined;
    this.#inEpisode = false;
  }
}
