/**
 * `toSpill`: keeps a pipeline's results in memory up to a budget and writes the overflow, oldest
 * batches first, to compressed Arrow IPC files; the output reads as one dataset in the original
 * order (see {@link Spilled}). The memory governor's `spill` level (or higher) flushes every
 * memory-resident batch to disk.
 */
import { BatchSink } from '../lib/core/sink.ts';
import { ValidationError } from '../lib/core/errors.ts';
import {
  expectBoolean,
  expectInteger,
  expectOneOf,
  expectOptions,
  optionKeys,
  parseBytes,
  type ByteSize,
} from '../lib/core/validate.ts';
import type { Spilled } from '../lib/formats/spill/spilled.ts';
import { DEFAULT_CACHE_BYTES } from '../lib/formats/spill/defaults.ts';
import type { SpillSinkState } from '../lib/formats/spill/sink-state.ts';
import { spillIdentity, type SpillSettings } from '../lib/formats/spill/settings.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';

// the spill writer (and apache-arrow) loads with the first batch, not with `import 'spillway'`
const stateModule = lazyImport(() => import('../lib/formats/spill/sink-state.ts'));

/** Options of {@link toSpill}. */
export interface ToSpillOptions {
  /**
   * Bytes this sink may hold (default 256 MB; 0 spills everything): batches kept in memory, plus
   * batches on their way to disk (queued for the writer, being compressed, encoded copies not yet
   * written; a quarter of the budget, at most 64 MB), plus the output's replay cache (whose
   * default is that quarter too). Beyond it the oldest batches are written out, one bounded
   * slice at a time.
   */
  budget?: ByteSize;
  /** Body compression of the spill files: `lz4` (default, LZ4 frame), `zstd` or `none`. */
  compression?: 'lz4' | 'zstd' | 'none';
  /** Start a new spill file once one reaches this size (default 64 MB). */
  fileSize?: ByteSize;
  /** The spill directory (created with mode 0700; must be empty if it exists). Default: a fresh one under the OS temp dir. */
  dir?: string;
  /**
   * Keep the directory after `dispose()` and process exit, and write every batch to disk at the
   * end so that `openSpill(dir)` can replay it all from another process. A failed run's kept
   * spill stays only in a `dir` the caller named (for `openSpill(dir, { partial: true })`).
   * Default false: the directory is removed on `dispose()`, on normal exit, and when the pipeline
   * fails.
   */
  keep?: boolean;
  /** Bytes of decoded batches the output caches for `get`/`slice` (default: the in-flight share of the budget, at most 64 MB). */
  cacheBytes?: ByteSize;
  /** Batches in flight in the file writer (compression and writes overlap); default 4 with LZ4, else 2. */
  window?: number;
}

/** Every option of ToSpillOptions, for strict validation. */
const KNOWN_TO_SPILL_OPTIONS = optionKeys<ToSpillOptions>({
  budget: true,
  compression: true,
  fileSize: true,
  dir: true,
  keep: true,
  cacheBytes: true,
  window: true,
});
/**
 * A sink whose output is a {@link Spilled} dataset: batches stay in memory up to `budget` bytes,
 * beyond it (or when the governor reaches `spill`) the oldest are written to Arrow IPC files in
 * a spill directory, rotated at `fileSize`, listed with checksums in an atomically written
 * manifest. Fails with a {@link SpillError} naming the directory when the disk is full or the
 * directory unwritable.
 *
 * @example
 * ```ts
 * const { output: spilled } = await pipeline(fromCsv('huge.csv'), map(score), toSpill({ budget: '256MB', keep: true }));
 * for await (const batch of spilled.batches()) { ... }
 * const again = await openSpill(spilled.dir); // another process, later
 * ```
 */
export function toSpill(options?: ToSpillOptions): BatchSink<Spilled> {
  const settings = resolveOptions(options);
  let state: SpillSinkState | undefined;
  let keepOn: boolean | undefined;
  const open = async (): Promise<SpillSinkState> => {
    const { SpillSinkState } = await stateModule.load();
    if (state === undefined) {
      state = new SpillSinkState(settings);
      if (keepOn !== undefined) state.keepForResume(keepOn);
    }
    return state;
  };
  return new BatchSink<Spilled>({
    name: 'toSpill',
    // spills Arrow as it is: a source may produce Arrow for it (format negotiation)
    capabilities: { accepts: ['rows', 'arrow'] },
    write: async (batch, context, stats) => (await open()).write(batch, context, stats),
    finish: async (context, stats) => (await open()).finish(context, stats),
    // finished, then the run failed after all: the output goes nowhere, so its directory goes now
    discard: (spilled) => spilled.dispose(),
    // a state never opened made no directory: nothing to remove
    abort: async () => state?.abort(),
    checkpoint: {
      identity: spillIdentity(settings),
      // committing writes every batch held in memory to disk: a resumable spill lives on disk
      commit: async (context) => (await open()).commit(context),
      async restart() {
        // a run killed before its first checkpoint left spill files in the given directory: only ours are removed
        const { removeOwnFiles } = await import('../lib/formats/spill/sink-dir.ts');
        if (options?.dir !== undefined) await removeOwnFiles(options.dir);
      },
      resume: async (saved) => (await open()).resume(saved),
      keep: (on) => {
        keepOn = on;
        state?.keepForResume(on);
      },
    },
  });
}

/** Validates the options and derives the memory shares from the budget. */
function resolveOptions(options: ToSpillOptions | undefined): SpillSettings {
  const opts = expectOptions(options, 'options', KNOWN_TO_SPILL_OPTIONS);
  const budget = opts.budget === undefined ? 256e6 : parseBytes(opts.budget, 'options.budget');
  const compression = expectOneOf(opts.compression, 'options.compression', ['lz4', 'zstd', 'none'], 'lz4');
  const fileSize = opts.fileSize === undefined ? 64e6 : parseBytes(opts.fileSize, 'options.fileSize');
  if (fileSize < 1) throw new ValidationError('Expected `options.fileSize` to be at least 1 byte');
  if (opts.dir !== undefined && (typeof opts.dir !== 'string' || opts.dir.length === 0))
    throw new ValidationError('Expected `options.dir` to be a non-empty directory path');
  const keep = expectBoolean(opts.keep, 'options.keep', false);
  const inFlight = inFlightShare(budget);
  const cacheBytes =
    opts.cacheBytes === undefined
      ? Math.max(1, Math.floor(Math.min(DEFAULT_CACHE_BYTES, inFlight)))
      : parseBytes(opts.cacheBytes, 'options.cacheBytes');
  const window = opts.window === undefined ? undefined : expectInteger(opts.window, 'options.window', 4, 1, 1024);
  return {
    budget,
    compression,
    fileSize,
    dir: opts.dir,
    keep,
    inFlight,
    cacheBytes,
    residentBudget: Math.max(0, budget - inFlight),
    window,
  };
}

/**
 * Bytes a spill sink lets be on their way to disk (queued, compressing, encoded, not yet
 * written): a quarter of the budget, at most 64 MB (one batch always goes through); 32 MB when
 * the budget is 0 (spill everything: the budget then bounds nothing in memory).
 */
export function inFlightShare(budget: number): number {
  if (budget <= 0) return 32 * 1024 * 1024;
  return Math.min(budget / 4, 64 * 1024 * 1024);
}
