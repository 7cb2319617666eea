/**
 * The step a stage has under way, and a signal its destroy aborts. A stage destroyed mid-step
 * must not release its files while the step still runs: the step would go on opening files after
 * they were removed (a partitioned sink's next partition, a groupBy's next spill set). So the
 * destroy aborts the signal (the step's waits on a caller's stream or another input end with it),
 * waits for the step to settle, and only then releases (lib/core/sink.ts,
 * lib/operators/operator-transform.ts).
 */
import { stoppableContext, type StageContext } from './stage.ts';

/** One stage's step under way and its stop signal (see the module comment). */
export class WorkInFlight {
  readonly #stop = new AbortController();
  /** The last context asked for and what the stage's steps see of it. */
  #context: { base: StageContext; step: StageContext } | undefined;
  /** The step under way (settles, never rejects). */
  #current: Promise<void> | undefined;

  /** Aborted by {@link WorkInFlight.stop}. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** `base` (the run's context) as the stage's steps see it: its signal also aborted by {@link WorkInFlight.stop}. */
  context(base: StageContext): StageContext {
    if (this.#context?.base !== base) this.#context = { base, step: stoppableContext(base, this.signal) };
    return this.#context.step;
  }

  /** Notes `step` as the step under way until it settles; returns it unchanged. */
  track<T>(step: Promise<T>): Promise<T> {
    const settled = step.then(
      () => undefined,
      () => undefined,
    );
    this.#current = settled;
    void settled.then(() => {
      if (this.#current === settled) this.#current = undefined;
    });
    return step;
  }

  /** Aborts the signal with `reason`; resolves once the step under way (if any) has settled. */
  stop(reason: Error): Promise<void> {
    this.#stop.abort(reason);
    return this.#current ?? Promise.resolve();
  }
}
