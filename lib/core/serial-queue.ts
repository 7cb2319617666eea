/**
 * One queue for everything that touches a spilling operator's in-memory state: its batches, and
 * the spills the governor's level asks for at any moment. Work runs strictly one after another.
 * Awaiting the queue and then running work outside it is the bug this prevents: a level's flush
 * and a batch then ran side by side on one table, and groups were lost or counted twice.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `work` after everything queued before it; its result or failure goes to this caller only. */
  run<T>(work: () => T | Promise<T>): Promise<T> {
    const done = this.#tail.then(work);
    this.#tail = done.then(
      () => {},
      () => {},
    );
    return done;
  }

  /** Settles (never rejects) once everything queued so far has run. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
