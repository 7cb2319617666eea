/**
 * Memory measurement for the governor: this process's RSS and V8 heap, and the RSS of child
 * processes (child-rss.ts: /proc/<pid>/status on Linux, closed after each reading). Also what the
 * machine allows (cgroup limit, total memory) and a way to run a garbage collection when the
 * process was not started with `--expose-gc`.
 */
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { childRss } from './child-rss.ts';
import { logger } from '../core/log.ts';
import { usableHeapLimit } from './limits.ts';

const log = logger('governor');

/**
 * One raw reading from a {@link MemoryProbe}. The governor derives `total` and `fraction` from
 * it and its limit, so a probe need only measure; a full `MemorySample` is accepted too.
 */
export interface MemoryReading {
  /** When it was measured (ms since the epoch); the governor uses `Date.now()` when absent. */
  time?: number;
  /** Resident set size of this process, bytes. */
  rss: number;
  /** V8 heap in use, bytes. */
  heapUsed: number;
  /** V8 heap limit (`heap_size_limit`), bytes. */
  heapLimit: number;
  /** V8 heap reserved (`heapTotal`: used plus free pages), bytes. */
  heapTotal?: number;
  /**
   * Heap the process can fill before V8 aborts it (the old-generation limit; see
   * `usableHeapLimit`), bytes. The governor judges heap pressure on it, else on `heapLimit`.
   */
  heapUsable?: number;
  /** Memory of C++ objects bound to JS objects, bytes (includes `arrayBuffers`). */
  external?: number;
  /** ArrayBuffers and Buffers, bytes. */
  arrayBuffers?: number;
  /** Summed RSS of the tracked child processes, bytes. */
  childrenRss?: number;
}

/** What a probe may be asked besides the child pids. */
export interface ProbeRequest {
  /** Measure the children now instead of reusing a recent reading. */
  fresh?: boolean;
}

/**
 * Measures memory. The governor calls it every interval with the pids of the children it
 * tracks. Inject one in tests to drive the governor with chosen figures.
 */
export interface MemoryProbe {
  sample(children: readonly number[], request?: ProbeRequest): Promise<MemoryReading> | MemoryReading;
}

/** Options of {@link ProcessMemoryProbe}. */
export interface ProcessMemoryProbeOptions {
  /** Measure children at most this often (ms); readings in between reuse the last. Default 500. */
  childIntervalMs?: number;
}

/**
 * The real probe: `process.memoryUsage()` for this process and {@link childRss} for children.
 * Children are read at most every `childIntervalMs` (reading /proc is cheap but not free), and at
 * once when the set of pids changes; no descriptor stays open between readings. A pid that has
 * gone away counts as zero and is reported once.
 */
export class ProcessMemoryProbe implements MemoryProbe {
  readonly #childIntervalMs: number;
  readonly #heapLimit = v8.getHeapStatistics().heap_size_limit;
  readonly #heapUsable = usableHeapLimit(this.#heapLimit);
  #childrenRss = 0;
  #childrenAt = -Infinity;
  #childrenKey = '';
  readonly #gone = new Set<number>();

  constructor(options: ProcessMemoryProbeOptions = {}) {
    this.#childIntervalMs = options.childIntervalMs ?? 500;
  }

  /** Pids that were tracked but no longer exist (seen by the last child reading). */
  get vanished(): ReadonlySet<number> {
    return this.#gone;
  }

  async sample(children: readonly number[], request: ProbeRequest = {}): Promise<MemoryReading> {
    const childrenRss = await this.#children(children, request.fresh === true);
    const usage = process.memoryUsage();
    return {
      time: Date.now(),
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      heapLimit: this.#heapLimit,
      heapTotal: usage.heapTotal,
      heapUsable: this.#heapUsable,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      childrenRss,
    };
  }

  async #children(pids: readonly number[], fresh: boolean): Promise<number> {
    if (pids.length === 0) {
      this.#childrenKey = '';
      return (this.#childrenRss = 0);
    }
    const key = pids.join(',');
    const now = performance.now();
    if (!fresh && key === this.#childrenKey && now - this.#childrenAt < this.#childIntervalMs) return this.#childrenRss;
    this.#childrenKey = key;
    this.#childrenAt = now;
    this.#childrenRss = await readChildrenRss(pids, this.#gone);
    return this.#childrenRss;
  }
}

/** Sums the RSS of `pids` (read side by side); a pid that no longer exists counts 0 and is added to `gone`. */
async function readChildrenRss(pids: readonly number[], gone: Set<number>): Promise<number> {
  const readings = await Promise.allSettled(pids.map((pid) => childRss(pid)));
  let sum = 0;
  readings.forEach((reading, i) => {
    if (reading.status === 'fulfilled') {
      sum += reading.value;
      return;
    }
    const pid = pids[i] as number;
    if (!gone.has(pid)) log('child %d is gone: %s', pid, (reading.reason as Error).message);
    gone.add(pid);
  });
  return sum;
}

/** What the machine lets this process use: the cgroup limit when it is set and sane, else total memory. */
export function systemMemoryLimit(): number {
  const total = os.totalmem();
  // Node 20.10+; returns 0 (older) or a huge number (2^64) when no cgroup limit is set
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  if (typeof constrained === 'number' && constrained > 0 && constrained < total) return constrained;
  return total;
}

/** The V8 heap limit of this process, bytes. */
export function heapSizeLimit(): number {
  return v8.getHeapStatistics().heap_size_limit;
}

let exposedGc: (() => void) | null | undefined;

/**
 * A function that runs a full garbage collection, or undefined when none can be had.
 * Uses `globalThis.gc` when the process runs with `--expose-gc`; otherwise, once, turns the
 * flag on, takes `gc` from a fresh V8 context and turns the flag off again, so contexts the
 * user creates later do not see a `gc` global. Why: memory that user code has let go is only
 * returned after a collection; a paused pipeline that allocates nothing may otherwise never
 * see one, and stay paused forever.
 */
export function obtainGc(): (() => void) | undefined {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return global as () => void;
  if (exposedGc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const fn: unknown = vm.runInNewContext('gc');
      exposedGc = typeof fn === 'function' ? (fn as () => void) : null;
    } catch (error) {
      log('cannot expose gc: %s', (error as Error).message);
      exposedGc = null;
    } finally {
      try {
        v8.setFlagsFromString('--no-expose-gc');
      } catch {
        // the flag stays on: harmless
      }
    }
  }
  return exposedGc ?? undefined;
}

const MiB = 2 ** 20;

/**
 * The memory limit of a governor given none: the smaller of 90% of what the machine allows (the
 * cgroup limit when set, else total memory) and the V8 heap limit plus as much again for memory
 * outside the heap (Buffers, Arrow data, native allocations; at least 512 MiB of it). A default
 * run thus stays within a small multiple of what the process was configured for, and never
 * counts on memory the container does not have.
 */
export function defaultMemoryLimit(
  system: number = systemMemoryLimit(),
  heapLimit: number = v8.getHeapStatistics().heap_size_limit,
): number {
  return Math.floor(Math.min(system * 0.9, heapLimit + Math.max(heapLimit, 512 * MiB)));
}
