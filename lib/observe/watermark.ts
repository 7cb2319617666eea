/**
 * The sink side's record of which source batches its rows came from, so a commit of N durable
 * rows maps back to a source position to resume from (see checkpoint.ts's module comment).
 */
import type { BatchPosition } from '../core/batch.ts';
import { CheckpointError } from '../core/errors.ts';

interface Mark {
  position: BatchPosition;
  /** Logical rows received through the end of this batch. */
  end: number;
}

/**
 * The sink side's record of which source batches its rows came from (see the module comment).
 * Positions must arrive in order of their source index.
 */
export class Watermark {
  #marks: Mark[] = [];
  #rows: number;

  /** @param rows logical rows already accounted for (the resume point's `through`) */
  constructor(rows = 0) {
    this.#rows = rows;
  }

  /** Logical rows received so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Notes a batch of `numRows` rows from the source batch at `position`. */
  note(position: BatchPosition, numRows: number): void {
    const last = this.#marks[this.#marks.length - 1];
    if (last !== undefined && position.index < last.position.index) {
      throw new CheckpointError(
        `batches reached the sink out of order (source batch ${position.index} after ${last.position.index}); checkpointing needs stages that keep the order (parallel({ ordered: true }))`,
        { batch: position.index },
      );
    }
    this.#rows += numRows;
    if (last !== undefined && last.position === position) last.end = this.#rows;
    else this.#marks.push({ position, end: this.#rows });
  }

  /**
   * The resume point for `committed` durable rows: the last closed source batch all of whose
   * rows are committed, with the logical rows through it; undefined when there is none yet.
   */
  resolve(committed: number): { position: BatchPosition; through: number } | undefined {
    const marks = this.#marks;
    let found = -1;
    for (let i = 0; i + 1 < marks.length; i++) {
      const mark = marks[i]!;
      if (mark.end > committed) break;
      if (marks[i + 1]!.position.index > mark.position.index) found = i;
    }
    if (found < 0) return undefined;
    const mark = marks[found]!;
    // earlier marks can no longer be a resume point
    if (found > 0) this.#marks = marks.slice(found);
    return { position: mark.position, through: mark.end };
  }
}
