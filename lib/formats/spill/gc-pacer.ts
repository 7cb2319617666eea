/**
 * Keeps the garbage a spill leaves behind from growing RSS past the budget. Batches kept under
 * the budget live long enough to reach V8's old generation; once spilled they are garbage there,
 * and V8 grows the old generation by its own allocation heuristics, not by the budget: with no
 * collection between, a 32 MB budget over 10x its size in rows peaked 300 MB above the idle
 * process. A spill sink calls {@link GcPacer.spilled} with the bytes it has let go; once they add
 * up to the budget (at least 16 MB) and the heap has grown by as much, and by at least the heap
 * that was live after the previous one (so the cost stays proportional to the bytes spilled,
 * however large the process's own heap), it runs a full collection. Before the first collection
 * the heap the process held when the sink was made stands in for the live heap: a process that
 * already holds 1.2 GB is not made to pay a full collection (about a second) per spill sink
 * just to learn it (that cost toSpill 4x of its write speed in `npm run bench -- spill`).
 */
import v8 from 'node:v8';
import { obtainGc } from '../../memory/memory-probe.ts';

/** Least bytes let go between two collections. */
const MIN_PACE = 16 * 1024 * 1024;

/** Runs a full GC after each `budget` bytes spilled, when the heap grew by as much. */
export class GcPacer {
  readonly #pace: number;
  #released = 0;
  /** Heap in use after the last collection; before the first, when the sink was made. */
  #heapAfter: number;
  #runs = 0;

  /** @param budget the sink's budget, bytes */
  constructor(budget: number) {
    this.#pace = Math.max(MIN_PACE, budget);
    this.#heapAfter = v8.getHeapStatistics().used_heap_size;
  }

  /** Collections run so far. */
  get runs(): number {
    return this.#runs;
  }

  /** The sink let go of `bytes` (written to disk); may run a collection. */
  spilled(bytes: number): void {
    this.#released += bytes;
    if (this.#released < this.#pace) return;
    this.#released = 0;
    const used = v8.getHeapStatistics().used_heap_size;
    // a full collection costs in proportion to the live heap: run one only when the heap has
    // grown by at least as much as was live after the last (amortised: a process holding a large
    // heap of its own is not collected every few MB)
    if (used - this.#heapAfter < Math.max(this.#pace, this.#heapAfter)) return;
    const gc = obtainGc();
    if (!gc) return;
    gc();
    this.#runs++;
    this.#heapAfter = v8.getHeapStatistics().used_heap_size;
  }
}
