/**
 * Who parses which range of a parallel CSV read. The parser threads, once loaded (about 0.2 s),
 * take ranges in file order, a few each ahead of the consumer. The main thread, when the range it
 * needs next is still on a thread (or no thread is loaded yet), parses the next range nobody has
 * taken instead of waiting: the two share the parse by how busy each is, the main thread taking
 * fewer ranges while the stages after the source keep it busy. Measured with one thread on 2
 * cores (3M-row trades CSV): groupBy over the file 1.80-2.07 s -> 1.44-1.56 s; CSV -> Parquet
 * 3.07-3.16 s -> 2.66-2.86 s, but at a peak RSS of 321-340 MB against 192-208 MB on one thread,
 * which is why 2 cores still default to no parser thread (settings.ts). Replies are held until
 * consumed, in order; ranges parsed ahead are bounded by the threads' window plus {@link MAIN_AHEAD}.
 */
import { runRangeTask, type RangeReply, type RangeTask } from './task.ts';
import type { ParserThreads } from './threads.ts';

/** Ranges the main thread may have parsed ahead of the one consumed (each holds its batches). */
const MAIN_AHEAD = 2;

/** Ranges each thread is given ahead of the consumer. */
const PER_THREAD = 2;

/** The ranges of one read and their replies; see the module comment. */
export class RangeQueue {
  readonly #count: number;
  readonly #threads: ParserThreads;
  readonly #task: (k: number) => RangeTask;
  /** Reply (or its promise) per range taken; undefined when a thread failed it (read again on the main thread). */
  readonly #replies = new Map<number, Promise<RangeReply | undefined>>();
  readonly #settled = new Set<number>();
  /** The next range nobody has taken. */
  #next = 0;
  #onThreads = 0;
  /** Ranges the main thread parsed. */
  parsedHere = 0;
  /** False: the threads parse every range (a test's way to run the threads on a small file). */
  readonly #mainParses: boolean;

  /**
   * @param count ranges of the read
   * @param threads the read's parser threads (at least one)
   * @param task the task of range `k`
   */
  constructor(count: number, threads: ParserThreads, task: (k: number) => RangeTask, mainParses = true) {
    this.#count = count;
    this.#threads = threads;
    this.#task = task;
    this.#mainParses = mainParses;
  }

  /** Range `k`'s reply (ranges are taken in order, each once): undefined when its thread failed it. */
  async take(k: number): Promise<RangeReply | undefined> {
    this.#feedThreads(k);
    // parse ahead here while range k is still on a thread (yielding between ranges, so that a
    // thread's answer is seen as soon as it comes)
    while (this.#mainParses && !this.#settled.has(k) && this.#next < this.#count && this.#next <= k + this.#ahead()) {
      this.#parseHere(this.#next++);
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#feedThreads(k);
    }
    const reply = await this.#replies.get(k)!;
    this.#replies.delete(k);
    this.#settled.delete(k);
    return reply;
  }

  #ahead(): number {
    return this.#threads.size * PER_THREAD + MAIN_AHEAD;
  }

  /** Gives the loaded threads ranges until each has {@link PER_THREAD} out, never past the window. */
  #feedThreads(k: number): void {
    while (
      this.#onThreads < (this.#mainParses ? this.#threads.ready : this.#threads.size) * PER_THREAD &&
      this.#next < this.#count &&
      this.#next < k + this.#ahead()
    ) {
      const n = this.#next++;
      this.#onThreads++;
      this.#replies.set(
        n,
        this.#threads.run(this.#task(n)).then(
          (reply) => this.#done(n, reply),
          // a dead thread fails its ranges: they are then read on the main thread
          () => this.#done(n, undefined),
        ),
      );
    }
  }

  #done(n: number, reply: RangeReply | undefined): RangeReply | undefined {
    this.#onThreads--;
    this.#settled.add(n);
    return reply;
  }

  #parseHere(n: number): void {
    const { reply } = runRangeTask(this.#task(n));
    this.parsedHere++;
    this.#settled.add(n);
    this.#replies.set(n, Promise.resolve(reply));
  }
}
