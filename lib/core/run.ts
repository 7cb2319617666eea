/**
 * A Run owns one pipeline run from start to end: the stages' shared context and abort signal,
 * the governor's accounting, the checkpointer, one sampler of the stages' counters, and the
 * observers. `pipeline()` builds the streams and hands them to a Run; everything the run started
 * is released by one {@link Run.dispose}, on every path.
 */
import { once } from 'node:events';
import { pipeline as streamPipeline, type Readable, type Writable } from 'node:stream';
import { AbortError, toError, type MemoryLimitError } from './errors.ts';
import { StageActivity, withRunningStage } from '../memory/stage-activity.ts';
import { logger } from './log.ts';
import { readRun, type RunReading } from './reading.ts';
import { BatchSink } from './sink.ts';
import { BatchSource } from './source.ts';
import { STAGE, isStage, type StageContext } from './stage.ts';
import { collectStats, type PipelineStats } from './stats.ts';
import type { RunObserver, RunView } from './observer.ts';
import type { MemoryGovernor } from '../memory/governor.ts';
import type { MemorySummary } from '../memory/types.ts';
import { Checkpointer, type CheckpointOption } from '../observe/checkpoint.ts';
import { guardRun } from '../io/signals.ts';

const log = logger('run');

/** What a run is given besides its streams. */
export interface RunOptions {
  /** The governor, or undefined when ungoverned. */
  governor: MemoryGovernor | undefined;
  /** The caller's signal: aborting it fails the run with an AbortError. */
  signal: AbortSignal | undefined;
  /** Checkpoint/resume, when asked for. */
  checkpoint: CheckpointOption | undefined;
  /** Observers, called in this order. */
  observers: RunObserver[];
}

/** One pipeline run; see the module comment. */
export class Run {
  readonly streams: readonly (Readable | Writable)[];
  readonly context: StageContext;
  readonly started = performance.now();
  readonly startedAt = new Date().toISOString();
  readonly #options: RunOptions;
  readonly #controller = new AbortController();
  readonly #observers: RunObserver[] = [];
  readonly #cleanups: (() => void | Promise<void>)[] = [];
  #checkpointer: Checkpointer | undefined;
  #memoryRun: { stop(): Promise<MemorySummary> } | undefined;
  #firstError: Error | undefined;
  #sampler: NodeJS.Timeout | undefined;
  #disposed = false;

  constructor(streams: readonly (Readable | Writable)[], options: RunOptions) {
    this.streams = streams;
    this.#options = options;
    let stopRequested = false;
    this.context = {
      signal: this.#controller.signal,
      governor: options.governor,
      requestStop() {
        stopRequested = true;
      },
      get stopRequested() {
        return stopRequested;
      },
      inputRead: () => inputRead(streams),
    };
    for (const stream of streams) if (isStage(stream)) stream[STAGE].attach(this.context);
  }

  /** The first real error any stage or the governor reported. */
  get firstError(): Error | undefined {
    return this.#firstError;
  }

  /** Starts the checkpointer, the governor's accounting, the observers and the sampler. */
  async start(): Promise<void> {
    const { signal, governor, checkpoint } = this.#options;
    if (checkpoint !== undefined) this.#checkpointer = await this.#startCheckpoint(checkpoint);
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    this.#listen();
    this.#guardSignals();
    if (governor) {
      this.#cleanups.push(governor.attach());
      this.#memoryRun = governor.startRun();
    }
    const view: RunView = {
      streams: this.streams,
      governor,
      started: this.started,
      read: () => readRun(this.streams, governor),
    };
    for (const observer of this.#options.observers) {
      this.#observers.push(observer);
      await observer.start?.(view);
    }
    this.#schedule(new Map());
    log('start: %s', this.streams.map(stageName).join(' -> '));
  }

  /** Lets the data flow; resolves when the sink has finished, rejects with the first real error. */
  flow(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      streamPipeline(this.streams as unknown as [Readable, Writable], (error) => {
        const first = this.#firstError ?? error ?? undefined;
        if (first) reject(first);
        else resolve();
      });
    });
  }

  /** Ends a run whose data all arrived: commits the checkpoint, tells the observers, returns the sink's output and the stats. */
  async succeed(): Promise<{ output: unknown; stats: PipelineStats }> {
    await this.#checkpointer?.finish();
    const sink = this.streams[this.streams.length - 1];
    const output = sink instanceof BatchSink ? (sink.result() as unknown) : undefined;
    const stats = await this.#stats();
    log('done: %d rows in, %d rows out, %d ms', stats.rowsIn, stats.rowsOut, Math.round(stats.durationMs));
    await this.#end({ stats });
    return { output, stats };
  }

  /**
   * Ends a failed run: aborts the stages, waits until they released their files, lets a
   * checkpoint being written finish (so a rerun finds it), tells the observers. Returns the
   * error the run fails with (the first real one).
   */
  async fail(reason: unknown): Promise<Error> {
    const error = this.#firstError ?? toError(reason);
    this.#controller.abort(error);
    // streams that never flowed (a refused checkpoint, a busy dashboard port) close here
    for (const stream of this.streams) if (!stream.destroyed) stream.destroy();
    // stream.pipeline reports before the destroys finish
    await Promise.all(
      this.streams.filter((s) => isStage(s) && !s.closed).map((s) => once(s, 'close').catch(() => undefined)),
    );
    await this.#checkpointer?.settle();
    // a sink that finished before the failure: its output goes to nobody (a spill directory goes now)
    const sink = this.streams[this.streams.length - 1];
    if (sink instanceof BatchSink) await sink.discardOutput().catch(() => undefined);
    log('failed: %s', error.message);
    const stats = await this.#stats();
    await this.#end({ stats, error });
    return error;
  }

  /** Releases everything the run started (timers, listeners, accounting, observers). Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    clearTimeout(this.#sampler);
    this.#sampler = undefined;
    await this.#memoryRun?.stop().catch(() => undefined);
    for (const cleanup of this.#cleanups.splice(0).reverse()) await cleanup();
    for (const observer of this.#observers) {
      try {
        await observer.dispose?.();
      } catch (error) {
        log('observer %s: dispose failed: %s', observer.name, (error as Error).message);
      }
    }
  }

  async #stats(): Promise<PipelineStats> {
    clearTimeout(this.#sampler);
    this.#sampler = undefined;
    const stats = collectStats(this.streams, performance.now() - this.started, this.startedAt);
    const memoryRun = this.#memoryRun;
    this.#memoryRun = undefined;
    if (memoryRun) stats.memory = await memoryRun.stop();
    return stats;
  }

  async #end(end: { stats: PipelineStats; error?: Error }): Promise<void> {
    for (const observer of this.#observers) {
      try {
        await observer.end?.(end);
      } catch (error) {
        // an observer that fails at the end must not change the run's outcome
        log('observer %s: end failed: %s', observer.name, (error as Error).message);
      }
    }
  }

  /** Error, abort and critical-memory listeners; removed by dispose(). */
  #listen(): void {
    const { signal, governor } = this.#options;
    const fail = (error: Error): void => this.#fail(error);
    const noteError = (error: Error): void => {
      // the first real error wins; a premature close is only the echo of another failure
      if ((error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      this.#firstError ??= error;
      // the stages' signal too, at once: a stage in the middle of a batch (an async map's lanes)
      // went on calling the user's function until its batch ended, after the run had failed
      if (!this.#sinkCommitted()) this.#controller.abort(this.#firstError);
    };
    for (const stream of this.streams) stream.on('error', noteError);
    const onAbort = (): void => fail(new AbortError(undefined, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    // which stage was working while memory rose, for the memory errors (sampled until the pause)
    const activity = new StageActivity(this.streams.flatMap((s) => (isStage(s) ? [s[STAGE].stats] : [])));
    const onSample = (): void => {
      if (!governor?.paused) activity.note();
    };
    const onCritical = (error: MemoryLimitError): void => fail(withRunningStage(error, activity));
    governor?.on('sample', onSample);
    governor?.on('critical', onCritical);
    this.#cleanups.push(() => {
      signal?.removeEventListener('abort', onAbort);
      governor?.off('critical', onCritical);
      governor?.off('sample', onSample);
    });
  }

  /** Fails the run with `error` (an abort, a signal, a memory alarm): every stage is destroyed. */
  #fail(error: Error): void {
    // the sink finished or began renaming its output into place: the output is whole, and a
    // late abort or memory alarm cannot take it back (lib/io/commit-point.ts)
    if (this.#sinkCommitted()) return;
    this.#firstError ??= error;
    // every stream, not the source alone: once the source has ended, destroying it no longer
    // reaches the stages still finishing (a sort merging its runs, a sink writing its footer, a
    // worker in a long call: SIGTERM then waited out its 10 s grace)
    for (const stream of this.streams) if (!stream.destroyed) stream.destroy(error);
  }

  /** The last stream finished, or is a sink that passed its commit point. */
  #sinkCommitted(): boolean {
    const sink = this.streams.at(-1) as Writable | undefined;
    return sink?.writableFinished === true || (sink instanceof BatchSink && sink.committed);
  }

  /**
   * SIGINT, SIGTERM and SIGHUP that nothing else handles abort this run cleanly, then end the
   * process with the signal (lib/io/signals.ts); released by dispose().
   */
  #guardSignals(): void {
    let settled: () => void = () => undefined;
    const unguard = guardRun((reason) => this.#fail(reason), new Promise<void>((resolve) => (settled = resolve)));
    this.#cleanups.push(() => {
      settled();
      unguard();
    });
  }

  /** One timer for all observers: due at the earliest observer, one reading for all that are due. */
  #schedule(due: Map<RunObserver, number>): void {
    if (this.#disposed) return;
    const now = performance.now();
    let next = Infinity;
    for (const observer of this.#observers) {
      const every = observer.sampleMs;
      if (every === undefined || observer.sample === undefined) continue;
      if (!due.has(observer)) due.set(observer, now + every);
      next = Math.min(next, due.get(observer)!);
    }
    if (next === Infinity) return;
    this.#sampler = setTimeout(() => this.#tick(due), Math.max(0, next - now));
    this.#sampler.unref();
  }

  #tick(due: Map<RunObserver, number>): void {
    const now = performance.now();
    let reading: RunReading | undefined;
    for (const [observer, at] of due) {
      if (at > now) continue;
      reading ??= readRun(this.streams, this.#options.governor);
      due.set(observer, now + (observer.sampleMs ?? Infinity));
      try {
        observer.sample?.(reading);
      } catch (error) {
        log('observer %s: sample failed: %s', observer.name, (error as Error).message);
      }
    }
    this.#schedule(due);
  }

  async #startCheckpoint(option: CheckpointOption): Promise<Checkpointer> {
    const stages = this.streams.map((stream) => {
      if (!isStage(stream)) return { kind: 'foreign' as const, name: stream.constructor.name || 'stream' };
      const face = stream[STAGE];
      const { ordered, notResumable, identity } = face.capabilities;
      return {
        kind: face.stats.kind,
        name: face.stats.name,
        ordered,
        ...(notResumable ? { notResumable } : {}),
        ...(identity === undefined ? {} : { identity }),
      };
    });
    const first = this.streams[0];
    const last = this.streams[this.streams.length - 1];
    const checkpointer = new Checkpointer(
      option,
      stages,
      first instanceof BatchSource ? first : undefined,
      last instanceof BatchSink ? last : undefined,
    );
    await checkpointer.start(this.context);
    return checkpointer;
  }
}

function stageName(stream: Readable | Writable): string {
  return isStage(stream) ? stream[STAGE].stats.name : stream.constructor.name;
}

/** The share of the first source's input read so far, by bytes or rows, when it knows its total. */
function inputRead(streams: readonly (Readable | Writable)[]): number | undefined {
  const source = streams.find((s): s is BatchSource => s instanceof BatchSource);
  if (source === undefined) return undefined;
  const { rows, bytes, totalRows, totalBytes } = source.progress();
  if (totalBytes !== undefined && totalBytes > 0) return Math.min(1, bytes / totalBytes);
  if (totalRows !== undefined && totalRows > 0) return Math.min(1, rows / totalRows);
  return undefined;
}
