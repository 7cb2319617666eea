/**
 * Freed memory the allocator keeps must not keep a pipeline paused. After a spill or a burst of
 * batches, glibc keeps freed chunks in its arenas (its mmap threshold rises after large frees, so
 * later large buffers come from arenas that are rarely trimmed), and V8 keeps heap pages it no
 * longer uses: RSS stays at the pause mark although the data in use is far below it, and a
 * paused pipeline allocates nothing that could make the allocator give it back. Measured on a
 * governed spill (300 MB limit, 300k rows of ~400 bytes): RSS 241 MB with 19 MB of heap in use
 * and 34 MB external; 22 s of a 46 s run paused.
 *
 * New allocations reuse that memory before asking the OS for more, so it is room, not pressure.
 * This estimates the memory in use (`heapUsed + external + children + the native baseline`, the
 * baseline being the least `rss - heapTotal - external` seen: code, libraries, stacks) and, when
 * a paused governor finds it under the resume mark right after a full collection, grants a
 * credit of at most the retained memory (`RSS - in use`): leaving the pause is judged on
 * `RSS - credit`, so the pause ends. Entering the next one is judged on the largest of the memory
 * in use and `RSS - min(credit, cap)`, the cap keeping the raised pause mark 5% of the limit below
 * the critical one (levels.ts): growth of the data in use pauses at the usual mark, growth of RSS
 * alone pauses before the critical mark, and the critical mark is always judged on the real RSS.
 * One credit for both would not do: the retained memory can exceed the 10% between the resume
 * and pause marks (a CI run held 281 MB retained at a 381 MB limit and stayed paused for 120 s).
 */

/** The figures the estimate needs (a governor sample has them). */
export interface ReuseFigures {
  rss: number;
  total: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  childrenRss: number;
}

/** Tracks the native baseline and the credit of reusable memory, in bytes. */
export class ReusableMemory {
  #nativeBase = Infinity;
  #credit = 0;
  #grants = 0;

  /** Bytes of RSS currently treated as reusable. */
  get credit(): number {
    return this.#credit;
  }

  /** Times a credit was granted. */
  get grants(): number {
    return this.#grants;
  }

  /** Learns the native baseline from a sample; false when the probe gives no heap figures (no estimate). */
  observe(s: ReuseFigures): boolean {
    if (!(s.heapTotal > 0)) return false;
    const native = s.rss - s.heapTotal - s.external;
    if (native > 0 && native < this.#nativeBase) this.#nativeBase = native;
    return Number.isFinite(this.#nativeBase);
  }

  /** Memory in use by the estimate, bytes (undefined before a baseline is known). */
  inUse(s: ReuseFigures): number | undefined {
    if (!Number.isFinite(this.#nativeBase)) return undefined;
    return s.heapUsed + s.external + s.childrenRss + this.#nativeBase;
  }

  /** The total the marks are judged on: `total` less the credit, or less at most `cap` of it. */
  adjusted(total: number, cap = Infinity): number {
    return Math.max(0, total - Math.min(this.#credit, cap));
  }

  /** RSS fell under the resume mark by itself: the credit is no longer needed. */
  reset(): void {
    this.#credit = 0;
  }

  /**
   * After a full collection while paused: when the memory in use is under 90% of `resumeBytes`,
   * grants enough credit to bring `total` just under `resumeBytes`, at most the memory retained
   * (`total - in use`). Returns true when the credited total is now under the resume mark.
   */
  grant(s: ReuseFigures, resumeBytes: number): boolean {
    const used = this.inUse(s);
    if (used === undefined || used >= resumeBytes * 0.9) return false;
    const wanted = s.total - resumeBytes + Math.max(1, resumeBytes * 0.01);
    const credit = Math.min(Math.max(this.#credit, wanted), Math.max(0, s.total - used));
    if (credit > this.#credit) {
      this.#credit = credit;
      this.#grants++;
    }
    return this.adjusted(s.total) < resumeBytes;
  }
}
