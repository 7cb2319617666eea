/**
 * Batch sizes from memory: how many rows fit a byte budget, and a controller that follows the
 * observed bytes per row and the governor's headroom without oscillating.
 */
import { ValidationError, describeValue } from '../core/errors.ts';
import { expectInteger, expectNumber, expectOptions, optionKeys, parseBytes, type ByteSize } from '../core/validate.ts';
import type { MemoryLevel } from './governor.ts';
import { logger } from '../core/log.ts';

const debug = logger('batch-size');

/** Rows a batch may hold when rows take `bytesPerRow` and the batch may take `budgetBytes`, within bounds. */
export function estimateBatchSize(
  bytesPerRow: number,
  budgetBytes: number,
  bounds: { min?: number; max?: number } = {},
): number {
  if (typeof bytesPerRow !== 'number' || Number.isNaN(bytesPerRow) || bytesPerRow < 0) {
    throw new ValidationError(`Expected \`bytesPerRow\` to be a number >= 0, got ${describeValue(bytesPerRow)}`);
  }
  if (typeof budgetBytes !== 'number' || Number.isNaN(budgetBytes) || budgetBytes < 0) {
    throw new ValidationError(`Expected \`budgetBytes\` to be a number >= 0, got ${describeValue(budgetBytes)}`);
  }
  const min = expectInteger(bounds.min, 'bounds.min', 1, 1);
  const max = expectInteger(bounds.max, 'bounds.max', Number.MAX_SAFE_INTEGER, min);
  if (bytesPerRow === 0) return max;
  const rows = Math.floor(budgetBytes / bytesPerRow);
  return Math.min(max, Math.max(min, rows));
}

/** The part of a governor the controller reads. */
export interface HeadroomSource {
  headroom(): number;
  readonly level: MemoryLevel;
}

/** Options of {@link AdaptiveBatchSize}. */
export interface AdaptiveBatchSizeOptions {
  /** Fewest rows a batch. Default 1. */
  min?: number;
  /** Most rows a batch. Default 100 000. */
  max?: number;
  /** Rows of the first batches, before any bytes were observed. Default 1024 (within bounds). */
  initial?: number;
  /** Follow this governor's headroom; without one the budget is fixed. */
  governor?: HeadroomSource;
  /** Bytes one batch may take: a fixed budget, and a cap when a governor is given. Default 16 MB. */
  budget?: ByteSize;
  /** Share of the governor's headroom one batch may take (several are in flight). Default 1/16. */
  headroomShare?: number;
  /** Weight of a new observation in the moving average of bytes per row, (0, 1]. Default 0.2. */
  smoothing?: number;
}

/** What the controller chose, for stats. */
export interface BatchSizeSummary {
  /** Batch sizes handed out. */
  batches: number;
  /** Smallest, largest and last size chosen. */
  min: number;
  max: number;
  last: number;
  /** Times the size changed. */
  changes: number;
  /** Moving average of bytes per row, if any rows were observed. */
  bytesPerRow: number | undefined;
}

/** Relative change under which the size is kept: the dead band that stops small wobbles. */
const DEAD_BAND = 0.15;
/** A step moves at most half way to the target, and never by more than 2x. */
const STEP = 0.5;
/** Levels at which batches drop to the minimum. */
const PAUSED: ReadonlySet<MemoryLevel> = new Set<MemoryLevel>(['pause', 'critical']);
/** Recent sizes kept in {@link AdaptiveBatchSize.chosen}. */
const CHOSEN_KEPT = 256;

/** Every option of AdaptiveBatchSizeOptions, for strict validation. */
const KNOWN_ADAPTIVE_BATCH_SIZE_OPTIONS = optionKeys<AdaptiveBatchSizeOptions>({
  min: true,
  max: true,
  initial: true,
  governor: true,
  budget: true,
  headroomShare: true,
  smoothing: true,
});
/**
 * Chooses batch sizes: a moving average of bytes per row (from {@link observe}) against a byte
 * budget (a share of the governor's headroom, capped by `budget`). Damped: it moves half way to
 * the target, by at most 2x a step, and ignores targets within 15% of the current size, so a
 * steady input settles on one size instead of oscillating. At the pause level it drops to `min`
 * at once (memory is short; there is no point damping that).
 */
export class AdaptiveBatchSize {
  readonly min: number;
  readonly max: number;
  readonly #governor: HeadroomSource | undefined;
  readonly #budget: number;
  readonly #share: number;
  readonly #alpha: number;
  #bytesPerRow: number | undefined;
  #current: number;
  /** Sizes as they changed, the first included (the last 256 changes). */
  readonly chosen: number[] = [];
  #batches = 0;
  #changes = 0;
  #minChosen = Infinity;
  #maxChosen = 0;

  constructor(options?: AdaptiveBatchSizeOptions) {
    const o = expectOptions(options, 'options', KNOWN_ADAPTIVE_BATCH_SIZE_OPTIONS);
    this.min = expectInteger(o.min, 'options.min', 1, 1);
    this.max = expectInteger(o.max, 'options.max', Math.max(this.min, 100_000), 1);
    if (this.max < this.min)
      throw new ValidationError(`Expected \`options.max\` (${this.max}) to be at least \`options.min\` (${this.min})`);
    this.#current = expectInteger(
      o.initial,
      'options.initial',
      Math.min(this.max, Math.max(this.min, 1024)),
      this.min,
      this.max,
    );
    if (o.governor !== undefined && (o.governor === null || typeof o.governor.headroom !== 'function')) {
      throw new ValidationError(
        `Expected \`options.governor\` to be a MemoryGovernor, got ${describeValue(o.governor)}`,
      );
    }
    this.#governor = o.governor;
    this.#budget = o.budget === undefined ? 16e6 : parseBytes(o.budget, 'options.budget');
    this.#share = expectNumber(o.headroomShare, 'options.headroomShare', 1 / 16, Number.MIN_VALUE, 1);
    this.#alpha = expectNumber(o.smoothing, 'options.smoothing', 0.2, Number.MIN_VALUE, 1);
    this.chosen.push(this.#current);
  }

  /** The moving average of bytes per row, once rows were observed. */
  get bytesPerRow(): number | undefined {
    return this.#bytesPerRow;
  }

  /** The size the last {@link next} returned (or the initial one). */
  get current(): number {
    return this.#current;
  }

  /** Reports a batch that went by: its rows and (estimated) bytes. */
  observe(rows: number, bytes: number): void {
    if (!(rows > 0) || !(bytes >= 0) || !Number.isFinite(bytes)) return;
    const perRow = bytes / rows;
    this.#bytesPerRow =
      this.#bytesPerRow === undefined ? perRow : this.#bytesPerRow + this.#alpha * (perRow - this.#bytesPerRow);
  }

  /** The size of the next batch. */
  next(): number {
    const target = this.#target();
    let size = this.#current;
    if (this.#governor && PAUSED.has(this.#governor.level)) size = this.min;
    else if (target !== undefined && Math.abs(target - size) > DEAD_BAND * size) {
      const stepped = size + STEP * (target - size);
      size = Math.round(Math.min(size * 2, Math.max(size / 2, stepped)));
      size = Math.min(this.max, Math.max(this.min, size));
    }
    if (size !== this.#current) {
      debug(
        '%d -> %d rows (%s bytes/row, level %s)',
        this.#current,
        size,
        this.#bytesPerRow === undefined ? '?' : Math.round(this.#bytesPerRow),
        this.#governor?.level ?? 'ungoverned',
      );
      this.#changes++;
      this.chosen.push(size);
      if (this.chosen.length > CHOSEN_KEPT) this.chosen.shift();
    }
    this.#current = size;
    this.#batches++;
    if (size < this.#minChosen) this.#minChosen = size;
    if (size > this.#maxChosen) this.#maxChosen = size;
    return size;
  }

  /** A JSON-serialisable account of the sizes chosen. */
  summary(): BatchSizeSummary {
    return {
      batches: this.#batches,
      min: this.#batches > 0 ? this.#minChosen : this.#current,
      max: this.#batches > 0 ? this.#maxChosen : this.#current,
      last: this.#current,
      changes: this.#changes,
      bytesPerRow: this.#bytesPerRow === undefined ? undefined : Math.round(this.#bytesPerRow),
    };
  }

  #target(): number | undefined {
    const governor = this.#governor;
    if (this.#bytesPerRow === undefined) return undefined;
    let budget = this.#budget;
    if (governor) {
      budget = Math.min(budget, governor.headroom() * this.#share);
      // at the spill level memory is getting short: aim lower so batches shrink before a pause
      if (governor.level === 'spill') budget /= 2;
    }
    return estimateBatchSize(this.#bytesPerRow, budget, { min: this.min, max: this.max });
  }
}

/** A batch size option: a fixed number of rows, or `'auto'` to follow memory. */
export type BatchSizeOption = number | 'auto';

/**
 * The batch size a source or `batch()` uses: fixed, or adaptive (bytes per row observed, the
 * governor's headroom followed). `record(stats)` puts the sizes chosen into the stage's stats.
 */
export function batchSizer(
  option: unknown,
  path: string,
  defaults: { initial: number; min: number; max: number; budget?: ByteSize },
  governor: HeadroomSource | undefined,
): {
  next(): number;
  observe(rows: number, bytes: number): void;
  record(details: Record<string, string | number | boolean>): void;
} {
  if (option !== undefined && option !== 'auto') {
    const size = expectInteger(option, path, defaults.initial);
    return { next: () => size, observe: () => undefined, record: (details) => void (details.batchSize = size) };
  }
  const adaptive = new AdaptiveBatchSize({ ...defaults, governor });
  return {
    next: () => adaptive.next(),
    observe: (rows, bytes) => adaptive.observe(rows, bytes),
    record: (details) => {
      const summary = adaptive.summary();
      details.batchSizeMin = summary.min;
      details.batchSizeMax = summary.max;
      details.batchSizeLast = summary.last;
      details.batchSizeChanges = summary.changes;
    },
  };
}
