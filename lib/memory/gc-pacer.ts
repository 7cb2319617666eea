/**
 * Collections the governor runs itself. Memory user code has dropped comes back only after a
 * collection, and a paused pipeline allocates little, so V8 may never run one. When a sample would enter `pause` or
 * `critical` (and at most every `gcIntervalMs` while paused), the governor runs a full GC and
 * measures again before deciding. It uses `globalThis.gc` when exposed, otherwise exposes it once
 * through `v8.setFlagsFromString` + `vm.runInNewContext('gc')` (see `obtainGc`); `gc: false`
 * turns this off. Paced, so a long pause does not turn into back-to-back full collections.
 */
import { obtainGc } from './memory-probe.ts';

/** Least ms between two collections run before declaring the critical level. */
export const CRITICAL_GC_INTERVAL_MS = 200;

/** Runs a full GC at most every `intervalMs`. */
export class GcPacer {
  /** False with `gc: false`: never collect. */
  readonly enabled: boolean;
  readonly #intervalMs: number;
  #lastAt = -Infinity;

  constructor(enabled: boolean, intervalMs: number) {
    this.enabled = enabled;
    this.#intervalMs = intervalMs;
  }

  /** Collects now unless one ran within the interval (or `capMs`, when shorter); true when it ran. */
  run(now: number, capMs = Infinity): boolean {
    if (!this.enabled || now - this.#lastAt < Math.min(this.#intervalMs, capMs)) return false;
    const gc = obtainGc();
    if (!gc) return false;
    this.#lastAt = now;
    gc();
    return true;
  }
}
