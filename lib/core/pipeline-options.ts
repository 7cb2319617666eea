/** The options of `pipeline()`, apart from it so the process-wide defaults can name them. */
import type { MemoryGovernor } from '../memory/governor.ts';
import type { CheckpointOption } from '../observe/checkpoint.ts';
import type { ProgressOption } from '../observe/progress.ts';
import type { DashboardOption } from '../observe/dashboard/options.ts';

/** Options of {@link pipeline}. */
export interface PipelineOptions {
  /** Aborts the run: every stream is destroyed, no partial output is left under a final name. */
  signal?: AbortSignal;
  /**
   * The memory governor: its pause level stops the sources reading, its spill level makes spill
   * sinks flush, its critical level fails the run with a MemoryLimitError. Default: the
   * process-wide {@link defaultGovernor} (limit: what the machine or cgroup allows); `false`
   * runs ungoverned.
   */
  governor?: MemoryGovernor | false;
  /**
   * Live progress: `true` renders to stderr (one live line on a terminal, a plain line every 5 s
   * elsewhere); a function receives `ProgressEvent`s every 250 ms and a final one; an
   * object `{ onProgress, stream, intervalMs }` chooses both. Default: off (on in `spillway run`).
   */
  progress?: ProgressOption;
  /**
   * A directory where the run records, periodically and atomically, the source's position and
   * the sink's committed output; rerunning the same pipeline after a crash resumes from there.
   * Removed when the run finishes. A string, or `{ dir, intervalMs = 5000, everyBatches }`.
   */
  checkpoint?: CheckpointOption;
  /**
   * A live local dashboard: `true` serves one on 127.0.0.1 at a random free port with a per-run
   * token and prints `dashboard: URL` to stderr; `{ port, host, keep, title }` chooses. It closes
   * when the run ends (with `keep`, at Ctrl-C). Default: off.
   */
  dashboard?: DashboardOption;
}
