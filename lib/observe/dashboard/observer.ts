/**
 * The `dashboard` option as a run observer. `pipeline()` imports this module only when a
 * dashboard is asked for, so a run without one never loads the server, page or charts.
 */
import type { RunEnd, RunObserver, RunView } from '../../core/observer.ts';
import type { RunReading } from '../../core/reading.ts';
import type { TimelineObserver } from '../timeline.ts';
import { Dashboard } from './dashboard.ts';
import type { DashboardSpec } from './options.ts';

/** Figures pushed to the page, ms between readings. */
const DASHBOARD_SAMPLE_MS = 250;

/** Serves the live dashboard of a run and its final report. */
export class DashboardObserver implements RunObserver {
  readonly name = 'dashboard';
  readonly sampleMs = DASHBOARD_SAMPLE_MS;
  readonly #spec: DashboardSpec;
  readonly #timeline: TimelineObserver;
  #dashboard: Dashboard | undefined;

  /** @param timeline the run's timeline observer (started before this one), for the charts */
  constructor(spec: DashboardSpec, timeline: TimelineObserver) {
    this.#spec = spec;
    this.#timeline = timeline;
  }

  async start(run: RunView): Promise<void> {
    const timeline = this.#timeline.recorder;
    if (!timeline) throw new Error('the dashboard observer must start after the timeline observer');
    this.#dashboard = await Dashboard.start(this.#spec, { ...run, timeline });
  }

  sample(reading: RunReading): void {
    this.#dashboard?.observe(reading);
  }

  async end(end: RunEnd): Promise<void> {
    await this.#dashboard?.end(end);
  }

  async dispose(): Promise<void> {
    // a kept dashboard (keep: true) stays until Ctrl-C; end() already decided
    if (this.#dashboard && !this.#spec.keep) await this.#dashboard.close();
  }
}
