/**
 * What every spillway stage shares: a name, a kind, its counters, and the pipeline context it is
 * attached to when a pipeline runs it. Stages are ordinary Node streams (so they also work in
 * `stream.pipeline` or stream-chain) that carry this extra face under the {@link STAGE} symbol.
 */
export { logger } from './log.ts';
import type { MemoryLevel } from '../memory/types.ts';
import type { WorkerStats } from '../workers/pool/worker-stats.ts';

/** Marks an object as a spillway stage. */
export const STAGE: unique symbol = Symbol.for('spillway.stage');

/** The three places a stage can stand in a pipeline. */
export type StageKind = 'source' | 'transform' | 'sink';

/** Counters a stage keeps; plain and JSON-serialisable. */
export interface StageStats {
  /** Stage name, unique within its pipeline (`map#2`). */
  name: string;
  kind: StageKind;
  batchesIn: number;
  batchesOut: number;
  rowsIn: number;
  rowsOut: number;
  /** Milliseconds spent in this stage's own work (user functions, parsing, writing). */
  timeMs: number;
  /** Rows dropped by an error policy (`skip` or dead-letter). */
  rowsSkipped: number;
  /** Rows written to a dead-letter file. */
  rowsDeadLettered: number;
  /** Extra facts a stage reports, e.g. the CSV parser path or bytes written. */
  details: Record<string, string | number | boolean>;
  /** Per-worker counters of a parallel stage; the pipeline gathers them in `stats.workers`. */
  workers?: WorkerStats[];
}

/** The part of a memory governor the stages use; {@link MemoryGovernor} implements it. */
export interface GovernorGate {
  /** True while sources must not read. */
  readonly paused: boolean;
  /** Resolves when reading may go on (at once when not paused). */
  waitForRelief(signal?: AbortSignal): Promise<void>;
  /** Rows are flowing now (leak detection judges only while they do). */
  noteRows(rows: number): void;
  /** Samples now if a sample is due; sources await it before each batch. */
  poll?(): Promise<void> | undefined;
  /** Bytes below the pause mark now, for adaptive batch sizes. */
  headroom(): number;
  /** The level now. */
  readonly level: MemoryLevel;
  /** A spill sink reports that it wrote `bytes` to disk. */
  noteSpill?(bytes: number): void;
  /**
   * A stage let go of memory it held (an operator spilled its table): while paused, the governor
   * collects and measures again now, so the pause ends as soon as the memory is gone.
   */
  released?(): Promise<void> | undefined;
  /**
   * Calls `listener` on every level change; returns a function that stops it. Optional: spill
   * sinks fall back to an EventEmitter's `level` event (as MemoryGovernor emits it).
   */
  onLevel?(listener: (level: MemoryLevel) => void): () => void;
  /** Counts a child process's memory until the returned function is called (parallel stages with process isolation). */
  trackChild?(pid: number): () => void;
}

/** Progress as a source sees it. Totals are undefined when unknown. */
export interface SourceProgress {
  rows: number;
  /** Input rows passed over, when a filter in the source makes it differ from `rows` (see ProgressEvent.rowsScanned). */
  rowsScanned?: number;
  /** Bytes read from the underlying file (compressed bytes for compressed input). */
  bytes: number;
  totalBytes?: number;
  totalRows?: number;
}

/** What a pipeline hands its stages when it starts them. */
export interface StageContext {
  /** Aborted when the pipeline is aborted or fails. */
  readonly signal: AbortSignal;
  /** The governor, when memory is governed. */
  readonly governor: GovernorGate | undefined;
  /** Asks the sources to end early (a stage returned `stop`). */
  requestStop(): void;
  /** True once {@link StageContext.requestStop} was called. */
  readonly stopRequested: boolean;
  /**
   * The share (0..1) of the run's first source read so far, when that source knows its size (a
   * file): an operator weighs what it holds against what is still to come. Undefined outside a
   * run, or for a stream.
   */
  readonly inputRead?: (() => number | undefined) | undefined;
}

/** How a batch holds its rows: plain row objects, an Arrow RecordBatch, or read-only row views over one. */
export type BatchForm = 'rows' | 'arrow' | 'view';

/**
 * What a stage can do, declared by the stage itself and read by the run (checkpointing refuses
 * stages that reorder batches; a source may produce Arrow when every stage after it accepts it).
 * `stats.details` is for display only; modules never read each other's details.
 */
export interface StageCapabilities {
  /** Batches leave in the order they came (false for `parallel({ ordered: false })`). */
  readonly ordered: boolean;
  /** The stage can record and resume a position (sources) or a committed output (sinks). */
  readonly checkpointable: boolean;
  /**
   * Why a checkpointed run cannot resume through this transform, when it cannot: it holds state
   * across batches that a checkpoint does not keep (a sort's runs, a limit's count). The run is
   * refused before any row, naming the stage.
   */
  readonly notResumable?: string;
  /** Forms of batch the stage consumes without converting; rows are always accepted. */
  readonly accepts: readonly BatchForm[];
  /**
   * The stage emits batches in the form it received (a filter over row views emits Arrow
   * selections): format negotiation looks through it to the next stage (lib/core/negotiate.ts).
   */
  readonly keepsForm: boolean;
  /**
   * The only input columns the stage reads, when it knows them and passes no other on (a groupBy
   * of built-in aggregates): a source right before it may leave the rest unread (projection
   * pushdown, lib/core/negotiate.ts). Undefined: every column.
   */
  readonly reads?: readonly string[];
  /**
   * For a stage that passes its input's columns on as they came ({@link keepsForm}, a filter over
   * row views): the only columns it reads itself. Projection pushdown looks through it to the
   * stage after, and the source fills these columns and that stage's {@link reads}.
   */
  readonly inspects?: readonly string[];
  /**
   * What the stage does, for a checkpoint's fingerprint (the source text of a map's function): a
   * resume through a stage whose code changed is refused, as its output would mix two versions.
   * Undefined: the stage's name says it all.
   */
  readonly identity?: string;
}

/** Capabilities of a stage that declares none: ordered, not checkpointable, rows only. */
export const DEFAULT_CAPABILITIES: StageCapabilities = Object.freeze({
  ordered: true,
  checkpointable: false,
  accepts: Object.freeze(['rows'] as const),
  keepsForm: false,
});

/** A stage's capabilities with the defaults filled in. */
export function capabilities(declared: Partial<StageCapabilities> | undefined): StageCapabilities {
  return declared === undefined ? DEFAULT_CAPABILITIES : Object.freeze({ ...DEFAULT_CAPABILITIES, ...declared });
}

/**
 * A source's side of format negotiation: the forms it can produce, and where `pipeline()` puts
 * its choice before the run starts (see lib/core/negotiate.ts).
 */
export interface FormOffer {
  /** Forms the source can produce; the first is what it produces when no choice is made. */
  readonly produces: readonly BatchForm[];
  /**
   * Called once, before any batch is read, with the form to produce and why (for stats).
   * @param form one of {@link FormOffer.produces}
   * @param reason a short phrase for `stats.details`
   */
  choose(form: BatchForm, reason: string): void;
  /**
   * Called after {@link FormOffer.choose} picked Arrow, when the next stage reads only `columns`:
   * the source may fill only those (a column the input lacks: all of them, as before).
   */
  project?(columns: readonly string[]): void;
}

/** The spillway face of a stage stream. */
export interface StageInfo {
  readonly kind: StageKind;
  /** What the stage can do (order, checkpointing, accepted batch forms). */
  readonly capabilities: StageCapabilities;
  /** A source that can produce more than one batch form offers them here. */
  readonly offer?: FormOffer;
  /** The stage's counters (live). */
  readonly stats: StageStats;
  /** Gives the stage its pipeline context; called once before data flows. */
  attach(context: StageContext): void;
}

/** A stream that is a spillway stage. */
export interface SpillwayStage {
  readonly [STAGE]: StageInfo;
}

/** True when `value` carries a spillway stage face. */
export function isStage(value: unknown): value is SpillwayStage {
  return typeof value === 'object' && value !== null && STAGE in value;
}

/** Fresh counters for a stage. */
export function newStageStats(name: string, kind: StageKind): StageStats {
  return {
    name,
    kind,
    batchesIn: 0,
    batchesOut: 0,
    rowsIn: 0,
    rowsOut: 0,
    timeMs: 0,
    rowsSkipped: 0,
    rowsDeadLettered: 0,
    details: {},
  };
}

/** A context for stages used outside `pipeline()` (e.g. in `stream.pipeline`): ungoverned. */
export function detachedContext(): StageContext {
  let stopped = false;
  return {
    signal: new AbortController().signal,
    governor: undefined,
    requestStop() {
      stopped = true;
    },
    get stopRequested() {
      return stopped;
    },
  };
}

/**
 * `base` with a signal that is also aborted by `stop`: a sink destroyed in the middle of a write
 * stops waiting on a caller's stream through it (lib/core/sink.ts), even outside a run.
 */
export function stoppableContext(base: StageContext, stop: AbortSignal): StageContext {
  const signal = AbortSignal.any([base.signal, stop]);
  return {
    signal,
    get governor() {
      return base.governor;
    },
    requestStop: () => base.requestStop(),
    get stopRequested() {
      return base.stopRequested;
    },
    inputRead: base.inputRead,
  };
}
