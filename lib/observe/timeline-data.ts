/** The timeline a run records (stats.timeline): plain arrays, JSON-serialisable. */

/** Memory limit and the governor's marks, bytes. */
export interface TimelineMemory {
  limit: number;
  heapLimit: number;
  spill: number;
  pause: number;
  critical: number;
}

/**
 * A run over time, in columns: point `i` is `t[i]`, `rows[i]`, ... Cumulative columns (rows,
 * bytes, spilledBytes) hold the value at the point; memory columns the peak since the previous one.
 */
export interface Timeline {
  /** When the run started, ms since the epoch. */
  start: number;
  /** Spacing of the points now, ms (doubles each time the record is thinned). */
  intervalMs: number;
  /** Per point: ms since `start`. */
  t: number[];
  /** Rows the sources produced so far. */
  rows: number[];
  /** Bytes the sources read so far. */
  bytes: number[];
  /** Rows in the sources' latest batch: the batch size chosen. */
  batchRows: number[];
  /** Bytes spill sinks wrote so far. */
  spilledBytes: number[];
  /** This process's RSS, bytes (governed runs only). */
  rss?: number[];
  /** V8 heap used, bytes (governed runs only). */
  heapUsed?: number[];
  /** RSS of child processes, bytes (governed runs only). */
  children?: number[];
  /** Highest governor level since the previous point, see {@link LEVEL_RANK} (governed runs only). */
  level?: number[];
  /** The limit and marks the memory columns are judged against (governed runs only). */
  memory?: TimelineMemory;
  /** Rows the sources will produce, when they know. */
  rowsTotal?: number;
  /** Bytes the sources will read, when they know. */
  bytesTotal?: number;
}
