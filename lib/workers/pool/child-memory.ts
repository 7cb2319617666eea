/**
 * The memory cap of child-process workers (`isolation: 'process'` with `workerMemoryLimit`): their
 * RSS sampled every `memoryCheckIntervalMs`, and a child over the limit killed with reason
 * `memory`. One check at a time, so `stop()` can wait for it and no /proc file stays open.
 */
import { logger } from '../../core/log.ts';
import { childRss } from '../../memory/child-rss.ts';
import type { Slot } from './pool-task.ts';

const debug = logger('pool');

/** Samples the children of `slots` and kills those over `limit`. */
export class ChildMemoryWatch {
  readonly #slots: readonly Slot[];
  readonly #limit: number;
  readonly #timer: NodeJS.Timeout;
  #check: Promise<void> | undefined;
  #stopped = false;

  constructor(slots: readonly Slot[], limit: number, intervalMs: number) {
    this.#slots = slots;
    this.#limit = limit;
    this.#timer = setInterval(() => {
      this.#check ??= this.#checkAll().finally(() => (this.#check = undefined));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops sampling; resolves once a check in flight has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#check;
  }

  async #checkAll(): Promise<void> {
    if (this.#stopped) return;
    await Promise.all(this.#slots.map((slot) => this.#checkOne(slot)));
  }

  async #checkOne(slot: Slot): Promise<void> {
    const worker = slot.worker;
    const pid = worker?.pid;
    if (worker === undefined || pid === undefined || worker.exited) return;
    try {
      const memory = await childRss(pid);
      slot.stats.rss = memory;
      if (memory > this.#limit && !worker.exited && slot.worker === worker) {
        debug('worker %s (pid %d): rss %d over the limit %d, killing it', worker.id, pid, memory, this.#limit);
        await worker.kill('memory');
      }
    } catch {
      // the child exited between the check and the sample
    }
  }
}
