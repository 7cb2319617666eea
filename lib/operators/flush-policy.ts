/**
 * When a hash operator writes its table out to partitions: over its budget; or the governor at
 * its spill level and the table at a quarter of the budget (so a process that sits at that level
 * still spills in large pieces); or the governor at pause or critical and the table worth writing
 * out at all. Not while merging a partition after the input ended: only its budget splits it
 * again (the sources are done, and the process's level mostly reflects what it held before).
 */
import type { GovernorGate } from '../core/stage.ts';

/** Recursive repartitioning stops at this depth (a skewed key cannot be split by hashing). */
export const MAX_DEPTH = 6;
/** A partition is repartitioned only when it holds at least this many groups (or keys) per partition it would make. */
export const MIN_REPARTITION = 4;

/** Smallest table written out because of the governor's pause or critical level. */
const MIN_LEVEL_FLUSH = 1 << 20;

/** True when a table of `groups` groups holding `bytes` must be written out now; see the module comment. */
export function flushDue(
  groups: number,
  bytes: number,
  budget: number,
  governor: GovernorGate | undefined,
  merging: boolean,
): boolean {
  if (groups <= 1) return false;
  if (bytes > budget) return true;
  if (merging) return false;
  const level = governor?.level;
  if (level === 'spill') return bytes >= budget / 4;
  return (level === 'pause' || level === 'critical') && bytes >= Math.min(MIN_LEVEL_FLUSH, budget / 16);
}
