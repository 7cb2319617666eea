/**
 * The point of no return of a sink's finish: the first rename of a temporary file into its final
 * name. Before it, an abort removes everything the sink wrote; after it, the output is in place and
 * the run ends as a success (the abort came too late to take it back). Without this point an abort
 * landing between the rename and the sink's 'finish' event rejected the run while the renamed file
 * stayed under its final name.
 *
 * A sink runs its finish inside {@link CommitPoint.run}; every rename into a final name (AtomicFile,
 * the Parquet and Arrow writers, a partitioned tree) calls {@link passCommitPoint} just before it. Both sides decide synchronously, so exactly one
 * of "committed" and "refused" wins.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<CommitPoint>();

/** One sink's finish: open, then committed (a rename happened) or refused (the sink was destroyed first). */
export class CommitPoint {
  #state: 'open' | 'committed' | 'refused' = 'open';

  /** True once a rename into a final name has begun: the output can no longer be taken back. */
  get committed(): boolean {
    return this.#state === 'committed';
  }

  /** Runs `finish` so that renames inside it pass this point. */
  run<T>(finish: () => T): T {
    return current.run(this, finish);
  }

  /** The sink is being destroyed: later renames must not happen. False when one already has. */
  refuse(): boolean {
    if (this.#state === 'committed') return false;
    this.#state = 'refused';
    return true;
  }

  /** A rename is about to happen: false when the sink was destroyed first. */
  pass(): boolean {
    if (this.#state === 'refused') return false;
    this.#state = 'committed';
    return true;
  }
}

/**
 * Called just before a rename of `path` into its final name: throws when the sink whose finish
 * this runs in was destroyed (aborted) first, so the rename must not happen (the caller's cleanup
 * removes the temporary file). Outside a sink's finish it passes.
 */
export function passCommitPoint(path: string): void {
  if (current.getStore()?.pass() === false)
    throw new Error(`the run was aborted before ${path} was renamed into place`);
}
