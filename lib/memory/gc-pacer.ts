/**
 * Collections the governor runs itself. Memory user code has dropped comes back only after a
 * collection, and a paused pipeline allocates little, so V8 may never run one. When a sample would enter `spill`
 * (from `ok`), `pause` or `critical` (at most every `gcIntervalMs` while paused), the governor
 * runs a full GC and measures again before deciding. It uses `globalThis.gc` when exposed, otherwise exposes it once
 * through `v8.setFlagsFromString` + `vm.runInNewContext('gc')` (see `obtainGc`); `gc: false`
 * turns this off. Paced, so a long pause does not turn into back-to-back full collections.
 */
import { obtainGc } from './memory-probe.ts';

/**
 * A full collection now. `deep` first asks for V8's memory-reducing flavour, which also hands
 * freed heap pages back to the system: a plain collection leaves them in RSS, and a pause ends
 * only when RSS falls. The plain full collection runs in both cases: V8 11 (Node 20) treats the
 * options form `{ type: 'major' }` as a no-op (0.4 ms; 100 MB of dropped old-generation
 * ArrayBuffers still held after it, freed by a plain call in 14 ms), so until 2026-12-05 a deep
 * collection there freed nothing, and a distinct over 5M rows at a 256 MB limit sat paused ~2 s
 * after its first spill, until the next paced plain collection.
 *
 * Then a young-generation collection, whose start finishes the sweep the first one left to a
 * background thread: the ArrayBuffers a collection frees are released (and leave RSS and
 * `process.memoryUsage().arrayBuffers`) only when that sweep ends, after the collection returns.
 * Measured at once, 64 KB buffers freed by a synchronous full collection were still counted in
 * 8 of 20 tries (13.2 MB of 13.2 MB), so a governor sampling right after its collection saw
 * garbage as held: a sort's merge at a 16 MB limit was declared critical so in CI. With the
 * second collection (about a millisecond), 0 of 20.
 */
export function collectGarbage(deep: boolean): boolean {
  const gc = obtainGc() as ((options?: object) => void) | undefined;
  if (!gc) return false;
  if (deep) gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  gc();
  gc({ type: 'minor', execution: 'sync' });
  return true;
}

/**
 * Least ms between two collections run before the spill level or a pause begins or the critical level is declared
 * (while a pause lasts, `gcIntervalMs` paces them). Garbage is what most often takes a pipeline
 * into a pause; a pause that begins within `gcIntervalMs` of the last collection was held until
 * the next one: a groupBy at a 256 MB limit sat idle 2 s of its 10 s so.
 */
export const ENTRY_GC_INTERVAL_MS = 200;

/**
 * Ms between a collection that left memory past the critical mark and the collection and reading
 * that confirm it (the critical level fails the run; see governor.ts).
 */
export const CRITICAL_CONFIRM_MS = 25;

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

  /** Collects now (deeply: see {@link collectGarbage}) unless one ran within the interval (or `capMs`, when shorter); true when it ran. */
  run(now: number, capMs = Infinity, deep = false): boolean {
    if (!this.enabled || now - this.#lastAt < Math.min(this.#intervalMs, capMs)) return false;
    if (!collectGarbage(deep)) return false;
    this.#lastAt = now;
    return true;
  }
}
