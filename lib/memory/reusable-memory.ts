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
 * credit: the pause and resume marks are judged on `RSS - credit` until RSS falls below the
 * resume mark by itself. The credit is capped so the raised pause mark stays 5% of the limit
 * below the critical one, which is always judged on the real RSS: growth past the reused memory still pauses, and a
 * real excess still fails.
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

  /** The total the marks are judged on: `total - credit`. */
  adjusted(total: number): number {
    return Math.max(0, total - this.#credit);
  }

  /** RSS fell under the resume mark by itself: the credit is no longer needed. */
  reset(): void {
    this.#credit = 0;
  }

  /**
   * After a full collection while paused: when the memory in use is under `resumeBytes`, grants
   * enough credit to bring `total` just under `resumeBytes`, at most `maxCredit`. Returns true
   * when the adjusted total is now under the resume mark.
   */
  grant(s: ReuseFigures, resumeBytes: number, maxCredit: number): boolean {
    const used = this.inUse(s);
    if (used === undefined || used >= resumeBytes * 0.9) return false;
    const wanted = s.total - resumeBytes + Math.max(1, resumeBytes * 0.01);
    const credit = Math.min(Math.max(this.#credit, wanted), Math.max(0, maxCredit));
    if (credit <= this.#credit) return this.adjusted(s.total) < resumeBytes;
    this.#credit = credit;
    this.#grants++;
    return this.adjusted(s.total) < resumeBytes;
  }
}
