/**
 * The governor's sampling loop: one interval timer, running while a pipeline is attached or a
 * source waits for relief, and at most one sample in flight (a slow probe never piles samples
 * up; a caller that wants a sample while one runs waits for it, then takes its own).
 */
import { logger } from '../core/stage.ts';
import type { MemorySample } from './types.ts';

const log = logger('governor');

/** Runs `measure` every `intervalMs` while wanted, one at a time. */
export class SamplingLoop {
  readonly #intervalMs: number;
  readonly #measure: (fresh: boolean) => Promise<MemorySample>;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<MemorySample> | undefined;
  #closed = false;

  constructor(intervalMs: number, measure: (fresh: boolean) => Promise<MemorySample>) {
    this.#intervalMs = intervalMs;
    this.#measure = measure;
  }

  /** True while the timer runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** The sample being taken now, if any. */
  get inFlight(): Promise<MemorySample> | undefined {
    return this.#inFlight;
  }

  /**
   * Starts or stops the timer. It is unref'd so sampling never keeps a process alive, except
   * while a paused source waits (`hold`): then the timer is the only thing that can bring
   * relief, and the process must not exit under it.
   */
  update(want: boolean, hold: boolean): void {
    want &&= !this.#closed;
    if (want && !this.#timer) this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    else if (!want && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    if (this.#timer) {
      if (hold) this.#timer.ref();
      else this.#timer.unref();
    }
  }

  /** A timer tick: a sample unless one is in flight. */
  tick(): void {
    if (this.#inFlight || this.#closed) return;
    this.sample(false).catch((error: unknown) => log('sampling failed: %s', (error as Error).message));
  }

  /** Takes a sample once the one in flight (if any) is done. */
  async sample(fresh: boolean): Promise<MemorySample> {
    while (this.#inFlight) await this.#inFlight.catch(() => undefined);
    const run = this.#measure(fresh);
    this.#inFlight = run;
    try {
      return await run;
    } finally {
      this.#inFlight = undefined;
    }
  }

  /** Stops the timer for good. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
