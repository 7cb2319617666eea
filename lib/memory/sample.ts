/**
 * One memory sample: a probe's reading turned into the figures the governor judges (RSS plus
 * children against the limit, the heap against what V8 lets it fill), and the bounded ring of
 * recent samples the governor keeps for `history()`, and the child processes each sample counts.
 *
 * The pressure is the larger of RSS (this process plus tracked children) over the limit and V8
 * heap used over the heap the process can fill before V8 aborts it (the old-generation limit,
 * see `usableHeapLimit`), so a heap near its own ceiling pauses too and becomes a
 * MemoryLimitError at the critical mark instead of a fatal "heap out of memory".
 */
import { ValidationError, describeValue } from '../core/errors.ts';
import type { MemoryProbe, MemoryReading } from './memory-probe.ts';
import type { MemorySample } from './types.ts';

/**
 * The share of the fillable heap that counts as full. V8 does not wait for the old generation to
 * fill: when mark-compacts free little near its limit it aborts ("Ineffective mark-compacts near
 * heap limit"), and a leak under `--max-old-space-size=96` was aborted at 77 MB used (80%) while
 * the governor, judging 77 of 96, had not reached its critical mark. Judged on 80% of it, the
 * pause mark (0.8) falls at 64% of the heap and the critical mark (0.95) at 76%.
 */
export const HEAP_FULL = 0.8;

/** The heap's pressure: `heapUsed` against {@link HEAP_FULL} of the heap it can fill. */
export function heapPressure(heapUsed: number, heapUsable: number): number {
  return heapUsable > 0 ? heapUsed / (heapUsable * HEAP_FULL) : 0;
}

/** Reads `probe` and returns the sample; the pressure is the larger of RSS and heap fractions. */
export async function readSample(
  probe: MemoryProbe,
  children: readonly number[],
  fresh: boolean,
  limit: number,
): Promise<MemorySample> {
  const reading: MemoryReading = await probe.sample(children, { fresh });
  const childrenRss = reading.childrenRss ?? 0;
  const total = reading.rss + childrenRss;
  const heapUsable =
    reading.heapUsable !== undefined && reading.heapUsable > 0
      ? Math.min(reading.heapUsable, reading.heapLimit || Infinity)
      : reading.heapLimit;
  const heapFraction = heapPressure(reading.heapUsed, heapUsable);
  return {
    time: reading.time ?? Date.now(),
    rss: reading.rss,
    heapUsed: reading.heapUsed,
    heapLimit: reading.heapLimit,
    heapTotal: reading.heapTotal ?? 0,
    heapUsable,
    external: reading.external ?? 0,
    arrayBuffers: reading.arrayBuffers ?? 0,
    childrenRss,
    total,
    fraction: Math.max(total / limit, heapFraction),
  };
}

/** The last `size` samples, in a ring. */
export class SampleHistory {
  readonly #size: number;
  readonly #ring: MemorySample[] = [];
  #start = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** Keeps `sample`, dropping the oldest when full. */
  push(sample: MemorySample): void {
    if (this.#ring.length < this.#size) this.#ring.push(sample);
    else {
      this.#ring[this.#start] = sample;
      this.#start = (this.#start + 1) % this.#size;
    }
  }

  /** The samples, oldest first. */
  list(): readonly MemorySample[] {
    return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)];
  }
}

/** Child processes whose RSS each sample counts, ref-counted per pid. */
export class TrackedChildren {
  readonly #count = new Map<number, number>();

  /** Counts `pid` until the returned function is called (idempotent). */
  track(pid: number): () => void {
    if (!Number.isInteger(pid) || pid <= 0)
      throw new ValidationError(`Expected \`pid\` to be a positive integer, got ${describeValue(pid)}`);
    this.#count.set(pid, (this.#count.get(pid) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const count = (this.#count.get(pid) ?? 1) - 1;
      if (count <= 0) this.#count.delete(pid);
      else this.#count.set(pid, count);
    };
  }

  /** The pids tracked now. */
  pids(): readonly number[] {
    return [...this.#count.keys()];
  }
}
