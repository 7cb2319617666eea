/**
 * The pause plumbing: sources waiting for relief, each settled once (resolved when the pause
 * ends or the governor closes, rejected by a memory error or its own abort signal), with the
 * abort listener removed on every path.
 */
import { AbortError } from '../core/errors.ts';

type Waiter = { resolve: () => void; reject: (error: Error) => void };

/** The set of pending `waitForRelief` calls. */
export class ReliefWaiters {
  readonly #waiters = new Set<Waiter>();
  readonly #onChange: () => void;

  /** `onChange` runs whenever a waiter is added or settled (the governor refs its timer while any waits). */
  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** Waiters pending now. */
  get size(): number {
    return this.#waiters.size;
  }

  /** A promise settled by {@link resolveAll}, {@link rejectAll} or `signal`'s abort. */
  wait(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => settle(new AbortError(undefined, { cause: signal?.reason }));
      const settle = (error?: Error): void => {
        this.#waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        this.#onChange();
        if (error) reject(error);
        else resolve();
      };
      const waiter: Waiter = { resolve: () => settle(), reject: settle };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#onChange();
    });
  }

  /** Lets every waiter go on. */
  resolveAll(): void {
    for (const waiter of [...this.#waiters]) waiter.resolve();
  }

  /** Fails every waiter with `error`. */
  rejectAll(error: Error): void {
    for (const waiter of [...this.#waiters]) waiter.reject(error);
  }
}
