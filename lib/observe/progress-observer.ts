/** The `progress` option as a run observer: a {@link ProgressTracker} fed by the run's sampler. */
import type { RunEnd, RunObserver, RunView } from '../core/observer.ts';
import type { RunReading } from '../core/reading.ts';
import { ProgressTracker, type ProgressSpec } from './progress.ts';

/** Reports progress events and renders the progress line while a run goes on. */
export class ProgressObserver implements RunObserver {
  readonly name = 'progress';
  readonly sampleMs: number;
  readonly #spec: ProgressSpec;
  #tracker: ProgressTracker | undefined;

  constructor(spec: ProgressSpec) {
    this.#spec = spec;
    this.sampleMs = spec.sampleMs;
  }

  start(run: RunView): void {
    this.#tracker = new ProgressTracker(this.#spec, run);
  }

  sample(reading: RunReading): void {
    this.#tracker?.observe(reading);
  }

  end({ stats, error }: RunEnd): void {
    if (error) this.#tracker?.fail(stats);
    else this.#tracker?.finish(stats);
  }

  dispose(): void {
    this.#tracker?.stop();
  }
}
