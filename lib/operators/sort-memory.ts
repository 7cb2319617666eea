/**
 * How much memory the external sort takes, asked of the governor as it goes: when a buffered run
 * must be spilled (the operator's budget, or the governor's level and headroom), how big a
 * spilled run's batches and the output batches are, and how many runs one merge reads at once
 * (the collection after a spill is gc-pacer.ts `collectGarbage`). The budget given to the sort is a cap; under a governor
 * the run that is actually held is what the governor says is available.
 */
import type { GovernorGate } from '../core/stage.ts';
import { GOVERNOR_SHARE } from './operator-options.ts';

/** Bytes a spilled run's batch has at most: a merge holds two per run (one read ahead). */
const RUN_BATCH_BYTES = 1 << 20;
/** Fewest bytes of run the governor's pressure spills (below, a run is not worth a file). */
const MIN_RUN_BYTES = 256 << 10;
/**
 * Memory spilling a run takes beyond its buffers, as a share of them: key arrays and permutation,
 * and the sorted copies written, which stay in RSS until collected (about the run again); and as
 * much again for the batches that arrive before the governor's next sample shows the growth.
 */
const SPILL_OVERHEAD = 2;

/** True when the governor has paused the sources (pause or critical). */
export function isPaused(governor: GovernorGate | undefined): boolean {
  return governor?.level === 'pause' || governor?.level === 'critical';
}

/** The sort's memory decisions for one budget, batch size and governor. */
export class SortMemory {
  readonly #budget: number;
  readonly #batchSize: number;
  readonly #governor: GovernorGate | undefined;
  readonly #limit: number | undefined;
  #runs = 0;

  constructor(budget: number, batchSize: number, governor: GovernorGate | undefined) {
    this.#budget = budget;
    this.#batchSize = batchSize;
    this.#governor = governor;
    const limit = (governor as { limit?: unknown } | undefined)?.limit;
    this.#limit = typeof limit === 'number' && limit > 0 ? limit : undefined;
  }

  /**
   * The smallest run the governor makes the sort spill (smaller runs only multiply files and
   * merge work): an eighth of the budget, at most a 32nd of the governor's limit.
   */
  minRun(): number {
    const share = this.#limit === undefined ? Infinity : this.#limit / 32;
    return Math.min(this.#budget, Math.max(MIN_RUN_BYTES, Math.min(this.#budget / 8, share)));
  }

  /**
   * True when the governor says a run of `buffered` bytes must go: it has paused the sources, or
   * what is left before its pause mark would not hold the memory spilling the run takes. The run
   * budget is thus what the governor says is available, capped by the operator's budget.
   *
   * The spill level alone does not make a run go here: the run held when the level was entered
   * went then (the sorter listens to the level), and the level can stay at `spill` on memory the
   * sort does not hold (the reader, V8's heap, the allocator's free pages: a 256 MB limit's
   * process sat at 137 MB, between the spill mark and the one below which the level is left). A
   * run per {@link SortMemory.minRun} while it stayed there made a 5M-row sort write 49 runs of 8
   * MB and merge them in two passes, where runs the headroom holds are a single pass.
   */
  mustSpill(buffered: number): boolean {
    const governor = this.#governor;
    if (governor === undefined || buffered < this.minRun()) return false;
    return isPaused(governor) || governor.headroom() < buffered * SPILL_OVERHEAD;
  }

  /**
   * At the end of the input: keep the last run in memory only when the governor leaves room for
   * sorting it and for what consumes the output (a Parquet writer's row group and encoder), else
   * spill it too and merge every run from disk with one small batch each in memory.
   */
  lastRunMustSpill(buffered: number): boolean {
    const governor = this.#governor;
    if (governor === undefined || buffered === 0) return false;
    // a run kept is held whole until the merge ends, beside a batch of every spilled run: it
    // stays within the merge's budget (a headroom sampled before the last batches came is no bound)
    if (this.#runs > 0 && buffered > this.mergeBudget()) return true;
    return governor.level !== 'ok' || governor.headroom() < buffered * (1 + SPILL_OVERHEAD);
  }

  /** Notes a run spilled (a last run kept in memory then shares the merge with the spilled ones). */
  noteRunSpilled(): void {
    this.#runs++;
  }

  /**
   * The merge's memory: the budget, but no more than the governor's share for an operator (a
   * budget far above the limit must not make the merge hold a big batch of every run).
   */
  mergeBudget(): number {
    return Math.min(this.#budget, this.#limit === undefined ? Infinity : this.#limit * GOVERNOR_SHARE);
  }

  /** Bytes of a spilled run's batch. */
  runBatchBytes(): number {
    return Math.min(RUN_BATCH_BYTES, Math.max(64 << 10, this.mergeBudget() / 64));
  }

  /** Rows per batch of a spilled run whose rows take `bytes` / `rows` each. */
  spillRows(bytes: number, rows: number): number {
    const perRow = Math.max(1, bytes / Math.max(1, rows));
    return Math.max(256, Math.min(this.#batchSize, Math.floor(this.runBatchBytes() / perRow)));
  }

  /**
   * Rows per output batch: `batchSize`, fewer when rows are wide and memory is short (the
   * stages downstream hold a few batches each).
   */
  outputRows(bytes: number, rows: number): number {
    const perRow = Math.max(1, bytes / Math.max(1, rows));
    const target = Math.max(64 << 10, this.mergeBudget() / 16);
    return Math.max(64, Math.min(this.#batchSize, Math.floor(target / perRow)));
  }

  /** Runs merged at once: a batch of each and one read ahead fit a third of the merge budget. */
  fanIn(): number {
    return Math.max(4, Math.floor(this.mergeBudget() / (3 * this.runBatchBytes())));
  }
}
