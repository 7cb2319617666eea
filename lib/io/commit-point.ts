/**
 * The point of no return of a sink's finish: the rename of its output into the final name.
 * Before it, an abort removes everything the sink wrote; after it, the output is in place and
 * the run ends as a success (the abort came too late to take it back). Without this point an abort
 * landing between the rename and the sink's 'finish' event rejected the run while the renamed file
 * stayed under its final name.
 *
 * BatchSink owns one per sink and hands it to its spec's `finish`; the sink passes it down to the
 * call that renames (AtomicFile, the Parquet writer, toArrow's file target, a partitioned tree),
 * which calls {@link CommitPoint.enter} just before renaming. Both sides decide synchronously, so
 * exactly one of "committed" and "refused" wins. (Passed explicitly: an AsyncLocalStorage scope
 * would turn on promise hooks for the whole process, 5-9% on a row pipeline run after it.)
 */

/** One sink's finish: open, then committed (a rename began) or refused (the sink was destroyed first). */
export class CommitPoint {
  #state: 'open' | 'committed' | 'refused' = 'open';

  /** True once a rename into a final name has begun: the output can no longer be taken back. */
  get committed(): boolean {
    return this.#state === 'committed';
  }

  /** The sink is being destroyed: a rename still to come must not happen. False when one already has. */
  refuse(): boolean {
    if (this.#state === 'committed') return false;
    this.#state = 'refused';
    return true;
  }

  /**
   * Called just before renaming `path` into place: throws when the sink was destroyed (aborted)
   * first, so the rename does not happen (the caller's cleanup removes the temporary file).
   */
  enter(path: string): void {
    if (this.#state === 'refused') throw new Error(`the run was aborted before ${path} was renamed into place`);
    this.#state = 'committed';
  }
}
