/**
 * Keeps the garbage a spill leaves behind from growing RSS past the budget. Batches kept under
 * the budget live long enough to reach V8's old generation; once spilled they are garbage there,
 * freed only by a full collection, and V8 runs one by its own heuristics, not by the budget. A
 * spill sink calls {@link GcPacer.spilled} with the bytes it has let go; once they add up to a
 * quarter of the budget (at least 8 MB) and the heap and external memory (the batches'
 * ArrayBuffers) have grown by as much, and by at least the heap that was live after the previous
 * one (so the cost stays proportional to the bytes spilled, however large the process's own
 * heap), it runs a full collection and trims glibc's arenas. Before the first collection the heap
 * the process held when the sink was made stands in for the live heap: a process that already
 * holds 1.2 GB is not made to pay a full collection (about a second) per spill sink just to learn it.
 *
 * A sink that spills also fixes glibc's mmap threshold (see lib/memory/allocator.ts): freed
 * Arrow buffers then go back to the system instead of staying in arenas.
 *
 * Measured with test/fixtures/memory/budget-spill.ts from the compiled build (32 MB budget, ten
 * times as many rows, 2-core machine with other work running), peak RSS over idle + budget: 84-97
 * MB when the growth counted the JS heap alone (spilled ArrayBuffers are external memory, so the
 * check rarely fired); 66-68 MB counting external memory, at half the budget's pace; 51-57 MB with
 * the allocator fixed and trimmed as well. Collections then took 7-15% of a fast spill's time (lz4
 * Arrow batches at 200-350 MB/s, 8 MB pace with a budget of 0), so they are held to a twentieth of
 * the elapsed time: 2-3% there. As shipped (a quarter's pace, the cap), on an idle machine: 47-54
 * MB over in most runs, 59-61 MB in about one of ten.
 */
import v8 from 'node:v8';
import { collectGarbage } from '../../memory/gc-pacer.ts';
import { tuneAllocator, trimAllocator } from '../../memory/allocator.ts';

/** Most of the elapsed time the collections may take. */
const GC_TIME_SHARE = 0.05;

/** Least bytes let go between two collections. */
const MIN_PACE = 8 * 1024 * 1024;

/** Runs a full GC after each quarter budget spilled, when the heap and external memory grew by as much. */
export class GcPacer {
  readonly #pace: number;
  #released = 0;
  /** JS heap in use after the last collection; before the first, when the sink was made. */
  #heapAfter = 0;
  /** The same plus external memory (ArrayBuffers): what spilled batches free. */
  #heldAfter = 0;
  #tuned = false;
  /** performance.now() before which no collection runs (see GC_TIME_SHARE). */
  #nextAt = -Infinity;
  #runs = 0;

  /** @param budget the sink's budget, bytes */
  constructor(budget: number) {
    this.#pace = Math.max(MIN_PACE, budget / 4);
    this.#measure();
  }

  #measure(): void {
    const stats = v8.getHeapStatistics();
    this.#heapAfter = stats.used_heap_size;
    this.#heldAfter = stats.used_heap_size + stats.external_memory;
  }

  /** Collections run so far. */
  get runs(): number {
    return this.#runs;
  }

  /** The sink let go of `bytes` (written to disk); may run a collection. */
  spilled(bytes: number): void {
    // once, when the sink first spills: a sink that stays under its budget changes nothing
    if (!this.#tuned) {
      this.#tuned = true;
      tuneAllocator();
    }
    this.#released += bytes;
    if (this.#released < this.#pace) return;
    this.#released = 0;
    const stats = v8.getHeapStatistics();
    // spilled batches are ArrayBuffers: external memory, which used_heap_size does not count
    const grown = stats.used_heap_size + stats.external_memory - this.#heldAfter;
    // a full collection costs in proportion to the live heap: run one only when the heap has
    // grown by at least as much as was live after the last (amortised: a process holding a large
    // heap of its own is not collected every few MB)
    if (grown < Math.max(this.#pace, this.#heapAfter)) return;
    // and at most a twentieth of the time: a fast spill (lz4 at 400 MB/s) is not slowed by more
    const started = performance.now();
    if (started < this.#nextAt) return;
    // collectGarbage also finishes the sweep that frees the buffers, so the reading after is true
    if (!collectGarbage(false)) return;
    this.#runs++;
    trimAllocator();
    this.#measure();
    const ended = performance.now();
    this.#nextAt = ended + (ended - started) * (1 / GC_TIME_SHARE - 1);
  }
}
