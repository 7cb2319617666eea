/**
 * What `_SPILLWAY_PENDING` says (tree-commit.ts puts it before the first upload of a tree): who
 * writes the tree (host, pid and the process's start time, so a reused pid is not mistaken for
 * the writer), since when, and the keys the commit is going to upload. A later write to the same
 * prefix reads it to tell a write under way from one whose process died (SIGKILL, power loss)
 * and, for a dead one, exactly which objects are its leftovers (stale-pending.ts).
 */
import { hostname } from 'node:os';
import { SELF, ownerAlive } from '../../io/temp-files.ts';

/**
 * How old a pending marker of another host must be to count as left by a dead process: a process
 * on another machine cannot be asked whether it runs, so its marker is trusted for a day.
 */
export const FOREIGN_PENDING_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** The writer of a tree, as its marker records it. */
export interface PendingOwner {
  host: string;
  pid: number;
  /** Start time of the process (Linux clock ticks since boot); null where the platform does not tell it. */
  start: string | null;
}

/** The content of `_SPILLWAY_PENDING` (JSON). */
export interface PendingRecord {
  writer: 'spillway';
  owner: PendingOwner;
  /** When the commit began (ISO 8601). */
  startedAt: string;
  /** Every key the commit uploads, listed before the first upload. */
  keys: string[];
  /** The commit may replace or delete objects that were there before it: a failure cannot give the old tree back. */
  replacesOld: boolean;
  /** The prefix held `_SUCCESS` before the commit deleted it (put back when the commit is undone). */
  hadSuccess: boolean;
}

/** The marker of a commit by this process that uploads `keys`. */
export function pendingRecord(keys: readonly string[], replacesOld: boolean, hadSuccess: boolean): PendingRecord {
  return {
    writer: 'spillway',
    owner: { host: hostname(), pid: SELF.pid, start: SELF.start ?? null },
    startedAt: new Date().toISOString(),
    keys: [...keys],
    replacesOld,
    hadSuccess,
  };
}

/** Parses a marker's content; undefined when it is not a record of this shape (an older spillway's, or another tool's). */
export function parsePending(text: string): PendingRecord | undefined {
  let value: Partial<PendingRecord>;
  try {
    value = JSON.parse(text) as Partial<PendingRecord>;
  } catch {
    return undefined;
  }
  const owner = value?.owner;
  if (
    value?.writer !== 'spillway' ||
    typeof owner?.host !== 'string' ||
    typeof owner.pid !== 'number' ||
    typeof value.startedAt !== 'string' ||
    !Array.isArray(value.keys) ||
    !value.keys.every((k) => typeof k === 'string') ||
    typeof value.replacesOld !== 'boolean' ||
    typeof value.hadSuccess !== 'boolean'
  )
    return undefined;
  return value as PendingRecord;
}

/**
 * True when the marker's writer is known to be gone: on this host, its process is not running
 * (or the pid now belongs to a process started later); on another host, the marker is older than
 * {@link FOREIGN_PENDING_MAX_AGE_MS}.
 */
export function writerDead(record: PendingRecord, now: number = Date.now(), host: string = hostname()): boolean {
  const { owner } = record;
  if (owner.host === host) return !ownerAlive({ pid: owner.pid, start: owner.start ?? undefined });
  const started = Date.parse(record.startedAt);
  return Number.isFinite(started) && now - started > FOREIGN_PENDING_MAX_AGE_MS;
}

/** The writer, for messages: `pid 123 on host h, since 2026-...`. */
export function describeWriter(record: PendingRecord): string {
  return `pid ${record.owner.pid} on host ${record.owner.host}, since ${record.startedAt}`;
}
