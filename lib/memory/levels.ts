/**
 * The governor's levels: marks as fractions of the limit, and the hysteresis that moves between
 * levels (each level is entered at its mark and left only below a lower one).
 *
 * Levels, as fractions of the limit (each configurable):
 * - `ok`
 * - `spill` from 0.6: spill sinks move what they hold to disk; left below `spill - 0.1`
 * - `pause` from 0.8: sources stop reading (`paused`, `waitForRelief`); left below `resume` (0.7)
 * - `critical` from 0.95: with `onCritical: 'abort'` a `critical` event carries a
 *   MemoryLimitError and pending `waitForRelief` calls reject with it; with `'wait'` it
 *   only stays paused. Left below `max(pause, critical - 0.05)`, into `pause`.
 */
import type { MemoryLevel, MemorySample } from './types.ts';
import type { ReusableMemory } from './reusable-memory.ts';
import { logger } from '../core/stage.ts';
import { formatBytes } from '../core/format.ts';
import { HEAP_FULL, heapPressure } from './sample.ts';

const log = logger('governor');

/** Marks derived from the options, as fractions. */
export interface Marks {
  spill: number;
  spillResume: number;
  pause: number;
  resume: number;
  critical: number;
  criticalResume: number;
}

/** Levels in order of severity. */
export const RANK: Record<MemoryLevel, number> = { ok: 0, spill: 1, pause: 2, critical: 3 };

/** The next level for pressure `f` when the current one is `current` (the hysteresis lives here). */
export function nextLevel(current: MemoryLevel, f: number, marks: Marks): MemoryLevel {
  if (f >= marks.critical) return 'critical';
  if (current === 'critical' && f >= marks.criticalResume) return 'critical';
  if (f >= marks.pause) return 'pause';
  if ((current === 'pause' || current === 'critical') && f >= marks.resume) return 'pause';
  if (f >= marks.spill) return 'spill';
  if (current !== 'ok' && f >= marks.spillResume) return 'spill';
  return 'ok';
}

/**
 * The level for `sample` when the level is `current`. Critical is judged on the real figures;
 * ok/spill/pause on RSS less the credit of reusable memory (see reusable-memory.ts), granted
 * only right after a collection (`collected`) while paused, and never below the memory in use.
 */
export function decideLevel(
  current: MemoryLevel,
  sample: MemorySample,
  collected: boolean,
  reuse: ReusableMemory,
  limit: number,
  marks: Marks,
): MemoryLevel {
  const known = reuse.observe(sample);
  if (sample.total < marks.resume * limit) reuse.reset();
  const heapFraction = heapPressure(sample.heapUsed, sample.heapUsable);
  if (sample.fraction >= marks.critical) return nextLevel(current, sample.fraction, marks);
  if (known && collected && current === 'pause' && heapFraction < marks.resume) {
    if (reuse.grant(sample, marks.resume * limit))
      log(
        'reusable memory: RSS %s, in use ~%s: credit %s',
        formatBytes(sample.total),
        formatBytes(reuse.inUse(sample) ?? 0),
        formatBytes(reuse.credit),
      );
  }
  let adjusted = sample.fraction;
  if (reuse.credit > 0) {
    // leaving a pause: the whole credit; entering one: at most the cap (see reusable-memory.ts)
    const cap = current === 'pause' ? Infinity : Math.max(0, marks.critical - marks.pause - 0.05) * limit;
    const inUse = (reuse.inUse(sample) ?? 0) / limit;
    adjusted = Math.max(reuse.adjusted(sample.total, cap) / limit, heapFraction, inUse);
  }
  const level = nextLevel(current, adjusted, marks);
  // in critical, leave it only on the real figures
  return current === 'critical' && RANK[level] < RANK.critical ? nextLevel(current, sample.fraction, marks) : level;
}

/**
 * Bytes that may still be used before the pause mark by sample `last` (>= 0): the smaller of
 * the room under `pause * limit` and under the heap's pause mark (sample.ts `heapPressure`).
 */
export function headroom(last: MemorySample | undefined, limit: number, pause: number): number {
  const pauseBytes = pause * limit;
  if (!last) return Math.floor(pauseBytes);
  const heapRoom = pause * HEAP_FULL * (last.heapUsable || last.heapLimit) - last.heapUsed;
  const room = Math.min(pauseBytes - last.total, heapRoom);
  return Math.max(0, Math.floor(room));
}
