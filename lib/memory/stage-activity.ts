/**
 * Which stage was running when memory rose. A memory error that names only bytes leaves the user
 * guessing which of their functions holds the data; the stage whose own time grew most in the
 * seconds before the sources were paused is the one that was working (and allocating) then.
 * The pipeline feeds it the stages' live counters at each governor sample.
 */
import type { StageStats } from '../core/stage.ts';
import { MemoryLimitError } from '../core/errors.ts';
import { formatDuration } from '../core/format.ts';

/** Snapshots kept: with the default 100 ms interval, about the last two seconds. */
const RING = 20;

interface Snapshot {
  time: number;
  timeMs: number[];
  rowsIn: number[];
}

/** What {@link StageActivity.running} reports. */
export interface RunningStage {
  /** Stage name, e.g. `map#1`. */
  stage: string;
  /** Source, transform or sink. */
  kind: StageStats['kind'];
  /** Its own time in the window, ms. */
  busyMs: number;
  /** The window's length, ms. */
  windowMs: number;
  /** Rows it took in during the window. */
  rowsIn: number;
}

/** Keeps recent snapshots of stage counters and names the busiest stage of the window. */
export class StageActivity {
  readonly #stats: readonly StageStats[];
  readonly #ring: Snapshot[] = [];

  /** @param stats the stages' live counters, in pipeline order */
  constructor(stats: readonly StageStats[]) {
    this.#stats = stats;
  }

  /** Records the counters now; call it while memory is still rising (not while paused). */
  note(time: number = Date.now()): void {
    this.#ring.push({ time, timeMs: this.#stats.map((s) => s.timeMs), rowsIn: this.#stats.map((s) => s.rowsIn) });
    if (this.#ring.length > RING) this.#ring.shift();
  }

  /**
   * Each stage's own time in the window between the oldest and newest snapshot (over the whole
   * run with fewer than two), in pipeline order.
   */
  window(): RunningStage[] {
    const first = this.#ring[0];
    const last = this.#ring.at(-1);
    const useWindow = first !== undefined && last !== undefined && first !== last;
    return this.#stats.map((stats, i) => ({
      stage: stats.name,
      kind: stats.kind,
      busyMs: Math.round(useWindow ? last.timeMs[i]! - first.timeMs[i]! : stats.timeMs),
      windowMs: useWindow ? last.time - first.time : 0,
      rowsIn: useWindow ? last.rowsIn[i]! - first.rowsIn[i]! : stats.rowsIn,
    }));
  }

  /**
   * The stage that was running as memory rose: the busiest transform or sink of the window (a
   * source's batches are bounded by the pipeline's buffers; what grows is held downstream), or
   * the busiest stage when no other worked. Undefined when there are no stages.
   */
  running(): RunningStage | undefined {
    const all = this.window();
    const busiest = (list: RunningStage[]): RunningStage | undefined =>
      list.reduce<RunningStage | undefined>(
        (best, s) => (best === undefined || s.busyMs > best.busyMs ? s : best),
        undefined,
      );
    const downstream = busiest(all.filter((s) => s.kind !== 'source'));
    return downstream !== undefined && downstream.busyMs > 0 ? downstream : busiest(all);
  }
}

/** The governor's error with the stage that was running as memory rose (context `stage`). */
export function withRunningStage(error: MemoryLimitError, activity: StageActivity): MemoryLimitError {
  const running = activity.running();
  if (!running || error.context.stage !== undefined) return error;
  const times = activity
    .window()
    .map((s) => `${s.stage} ${formatDuration(s.busyMs)}, ${s.rowsIn} rows in`)
    .join('; ');
  const span = running.windowMs > 0 ? `the last ${formatDuration(running.windowMs)} before the pause` : 'the run';
  const message = `${error.message}. Stage running as memory rose: ${running.stage} (own time over ${span}: ${times})`;
  const named = new MemoryLimitError(
    message,
    error.memory,
    { ...error.context, stage: running.stage },
    { cause: error.cause },
  );
  named.stack = `${named.name}: ${named.message}\n${(error.stack ?? '').split('\n').slice(1).join('\n')}`;
  return named;
}
