/**
 * The live dashboard of one pipeline run: a {@link DashboardServer} fed by a progress tracker
 * (the same figures `progress` events carry), the governor's latest sample, the run's timeline
 * (charts rendered here, at most once a second and only while a page is connected) and the
 * workers' counters. When the run ends it sends the final report and closes, or with `keep`
 * stays until Ctrl-C.
 */
import type { Readable, Writable } from 'node:stream';
import type { MemoryGovernor } from '../../memory/governor.ts';
import type { PipelineStats } from '../../core/stats.ts';
import type { WorkerStats } from '../../workers/pool/worker-pool.ts';
import { ProgressTracker, resolveProgress, type ProgressEvent } from '../progress.ts';
import { STAGE, isStage, logger } from '../../core/stage.ts';
import type { DashboardSpec } from './options.ts';
import type { RunReading } from '../../core/reading.ts';
import { DashboardServer } from './server.ts';
import { pageHtml } from './page.ts';
import { dashboardFigures, type DashboardFigures } from './figures.ts';
import { runCharts } from './charts.ts';
import { formatHtmlReport, reportSections, workersTable } from './report-html.ts';
import { formatDuration } from '../../core/format.ts';
import type { TimelineRecorder } from '../timeline.ts';

const log = logger('dashboard');

export { setDashboardDefault, dashboardDefault, resolveDashboard } from './options.ts';
export type { DashboardOptions, DashboardOption, DashboardSpec } from './options.ts';

/** What a dashboard watches. */
export interface DashboardView {
  streams: readonly (Readable | Writable)[];
  governor: MemoryGovernor | undefined;
  /** `performance.now()` when the pipeline started. */
  started: number;
  timeline: TimelineRecorder;
}

/** How a run ended. */
export interface DashboardEnd {
  stats: PipelineStats;
  error?: Error;
}

const CHART_INTERVAL_MS = 1000;
const kept = new Set<Dashboard>();
let busyMs = 0;

/** Milliseconds this process has spent on dashboard figures and charts (benchmarks read it). */
export function dashboardBusyMs(): number {
  return busyMs;
}

/** The live dashboard of one run. Start it with {@link Dashboard.start}. */
export class Dashboard {
  readonly #server: DashboardServer;
  readonly #spec: DashboardSpec;
  readonly #view: DashboardView;
  readonly #tracker: ProgressTracker;
  #chartsAt = 0;
  #workersHtml = '';
  #batch = { min: Infinity, max: 0 };
  #ended = false;
  #onInterrupt: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #markClosed: () => void = () => undefined;
  /** Resolves once the server is closed. */
  readonly whenClosed: Promise<void> = new Promise((resolve) => {
    this.#markClosed = resolve;
  });

  private constructor(server: DashboardServer, spec: DashboardSpec, view: DashboardView) {
    this.#server = server;
    this.#spec = spec;
    this.#view = view;
    const progress = resolveProgress((event: ProgressEvent) => this.update(event));
    if (!progress) throw new Error('unreachable: a progress callback is always a spec');
    this.#tracker = new ProgressTracker(progress, {
      streams: view.streams,
      governor: view.governor,
      started: view.started,
    });
  }

  /** Starts the server, prints `dashboard: URL` and starts following the run. */
  static async start(spec: DashboardSpec, view: DashboardView): Promise<Dashboard> {
    const server = await DashboardServer.listen({
      host: spec.host,
      port: spec.port,
      page: (nonce) => pageHtml(nonce, spec.title),
    });
    const dashboard = new Dashboard(server, spec, view);
    dashboard.update(dashboard.#tracker.sample());
    try {
      spec.stream.write(`dashboard: ${server.url}\n`);
    } catch {
      // a closed stderr must not fail the pipeline
    }
    return dashboard;
  }

  /** The page's address, with its token. */
  get url(): string {
    return this.#server.url;
  }

  /** The port served on. */
  get port(): number {
    return this.#server.port;
  }

  /** True once the server is closed. */
  get closed(): boolean {
    return this.#server.closed;
  }

  /** A reading of the run's counters (the run's sampler, every 250 ms): figures now, charts at most once a second. */
  observe(reading: RunReading): void {
    this.#tracker.observe(reading);
    this.#sendCharts(false);
  }

  /** Publishes a progress event (the tracker calls this on each reading). */
  update(event: ProgressEvent): void {
    if (this.#server.closed) return;
    const started = performance.now();
    this.#server.send('figures', this.#figures(event));
    const html = workersTable(this.#workers());
    if (html !== this.#workersHtml) {
      this.#workersHtml = html;
      this.#server.send('workers', html);
    }
    busyMs += performance.now() - started;
  }

  /**
   * The run ended: sends the final figures, charts and report, then closes the server, or with
   * `keep` leaves it serving until SIGINT.
   */
  async end(end: DashboardEnd): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    const { stats, error } = end;
    const event = error ? this.#tracker.fail(stats) : this.#tracker.finish(stats);
    this.update(event);
    if (stats.timeline) this.#server.send('charts', runCharts(stats.timeline, this.#chartContext()));
    const state = error ? 'failed' : 'done';
    const status = error
      ? `failed after ${formatDuration(stats.durationMs)}: ${error.message}`
      : `done in ${formatDuration(stats.durationMs)}`;
    this.#server.setReport(formatHtmlReport(stats, `${this.#spec.title}: report`));
    this.#server.send('done', { state, status, html: reportSections(stats, 'final-') });
    if (this.#spec.keep) {
      this.#keep();
      return;
    }
    await this.close();
  }

  /** Stops serving now: ends the event streams and closes the port. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#ended = true;
    this.#tracker.stop();
    kept.delete(this);
    if (this.#onInterrupt) process.off('SIGINT', this.#onInterrupt);
    this.#closing = this.#server.close().finally(() => this.#markClosed());
    return this.#closing;
  }

  #keep(): void {
    kept.add(this);
    try {
      this.#spec.stream.write(`dashboard: still serving ${this.#server.url} (Ctrl-C to stop)\n`);
    } catch {
      // ignore a closed stderr
    }
    this.#onInterrupt = () => {
      this.close().catch((error: unknown) => log('close failed: %s', (error as Error).message));
    };
    process.once('SIGINT', this.#onInterrupt);
  }

  #workers(): WorkerStats[] {
    const workers: WorkerStats[] = [];
    for (const stream of this.#view.streams) if (isStage(stream)) workers.push(...(stream[STAGE].stats.workers ?? []));
    return workers;
  }

  #chartContext(): { rowsTotal?: number; idPrefix: string } {
    const total = this.#view.timeline.latest().rowsTotal;
    return total !== undefined ? { rowsTotal: total, idPrefix: 'live-' } : { idPrefix: 'live-' };
  }

  #sendCharts(force: boolean): void {
    // charts cost a little: drawn only while someone watches
    if (this.#server.closed || (!force && this.#server.clients === 0)) return;
    const now = performance.now();
    if (!force && now - this.#chartsAt < CHART_INTERVAL_MS) return;
    this.#chartsAt = now;
    this.#server.send('charts', runCharts(this.#view.timeline.snapshot(), this.#chartContext()));
    busyMs += performance.now() - now;
  }

  #figures(event: ProgressEvent): DashboardFigures {
    const source = this.#view.streams[0];
    const details = source && isStage(source) ? source[STAGE].stats.details : {};
    const latest = this.#view.timeline.latest();
    const last = latest.batchRows;
    if (last > 0) this.#batch = { min: Math.min(this.#batch.min, last), max: Math.max(this.#batch.max, last) };
    const min = typeof details.batchSizeMin === 'number' ? details.batchSizeMin : this.#batch.min;
    const max = typeof details.batchSizeMax === 'number' ? details.batchSizeMax : this.#batch.max;
    const restarts = this.#workers().reduce((n, w) => n + w.restarts, 0);
    const sample = this.#view.governor?.lastSample;
    return dashboardFigures(event, {
      ...(sample ? { sample } : {}),
      spilledBytes: latest.spilledBytes,
      batch: { last, min, max },
      restarts,
    });
  }
}

/**
 * Waits until every dashboard kept open (`keep: true`) is closed by Ctrl-C; resolves at once
 * when none is. `spillway run --keep-dashboard` awaits this before exiting.
 */
export async function keptDashboards(): Promise<void> {
  while (kept.size > 0) await Promise.all([...kept].map((d) => d.whenClosed));
}
