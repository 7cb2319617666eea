/**
 * `pipeline(...stages, options?)`: runs a source, transforms and a sink as one Node stream
 * pipeline of batches, and resolves to the sink's output and the run's stats.
 */
import { Readable, Writable, Duplex, pipeline as streamPipeline } from 'node:stream';
import { once } from 'node:events';
import { fun } from 'stream-chain/fun.js';
import { none } from 'stream-chain/defs.js';
import { BatchSink } from './sink.ts';
import { BatchSource } from './source.ts';
import { BatchTransform } from './transform.ts';
import { rowStage } from './row-stage.ts';
import { AbortError, MemoryLimitError, ValidationError, toError } from './errors.ts';
import { StageActivity } from './stage-activity.ts';
import { expectOptions, expectSignal } from './validate.ts';
import { STAGE, isStage, logger, newStageStats, type SourceProgress, type StageContext, type StageStats } from './stage.ts';
import { fromIterable } from '../sources/fromIterable.ts';
import { drain } from '../sinks/drain.ts';
import type { Row } from './batch.ts';
import { MemoryGovernor, defaultGovernor, type MemorySummary } from './governor.ts';
import type { RowFunction } from './row-function.ts';
import type { WorkerStats } from './pool/worker-pool.ts';
import { Checkpointer, type CheckpointOption } from './checkpoint.ts';
import { ProgressTracker, resolveProgress, type ProgressOption } from './progress.ts';
import { pipelineDefaults, withPipelineDefaults } from './defaults.ts';
import { dashboardDefault, resolveDashboard, startDashboard, type DashboardOption } from './dashboard/dashboard.ts';
import { TimelineRecorder, streamsReader, type Timeline } from './dashboard/timeline.ts';

const log = logger('pipeline');

/** A per-row function or (async) generator function placed directly in a pipeline. */
export type PipelineFunction = (row: never, index: number) => unknown;

/** What may stand in a pipeline: spillway stages, Node streams, functions, and (first) iterables of rows. */
export type PipelineStage = Readable | Writable | Duplex | PipelineFunction | Iterable<Row> | AsyncIterable<Row>;

/** Options of {@link pipeline}. */
export interface PipelineOptions {
  /** Aborts the run: every stream is destroyed, no partial output is left under a final name. */
  signal?: AbortSignal;
  /**
   * The memory governor: its pause level stops the sources reading, its spill level makes spill
   * sinks flush, its critical level fails the run with a MemoryLimitError. Default: the
   * process-wide {@link defaultGovernor} (limit: the smaller of 90% of what the machine or cgroup
   * allows and the V8 heap limit plus as much again; see `defaultMemoryLimit`); `false` runs
   * ungoverned.
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

/** Counters of a finished run; a plain, JSON-serialisable object. */
export interface PipelineStats {
  /** Rows the source(s) produced. */
  rowsIn: number;
  /** Rows that reached the sink. */
  rowsOut: number;
  batchesIn: number;
  batchesOut: number;
  /** Bytes the source read from its file (compressed bytes for compressed input). */
  bytesRead: number;
  /** Wall time of the run. */
  durationMs: number;
  /** ISO-8601 start time. */
  startedAt: string;
  /** Per stage, in pipeline order. */
  stages: StageStats[];
  /** Rows dropped by error policies, over all stages. */
  errors: { skipped: number; deadLettered: number };
  /** Memory over this run (peak, mean and min RSS, growth, time paused, pressure events, leak warnings, spills); absent when ungoverned. */
  memory?: MemorySummary;
  /** Per worker of every parallel stage (batches, rows, failures, restarts, busy time, rows/s); absent without one. */
  workers?: WorkerStats[];
  /** Rows, bytes, batch size, spills and memory over time, at most 600 points (thinned as the run grows). */
  timeline?: Timeline;
}

/** What {@link pipeline} resolves to. */
export interface PipelineResult<T> {
  /** What the sink produced: rows for `collect()`, a file summary for `toCsv()`, ... */
  output: T;
  stats: PipelineStats;
}

type Stages<T> = [...PipelineStage[], BatchSink<T>] | [...PipelineStage[], BatchSink<T>, PipelineOptions];

/**
 * Runs the stages as one pipeline of batches. Stages may be spillway stages (`fromCsv`, `map`,
 * `toCsv`, ...), Node streams, per-row functions and (async) generator functions (as in
 * stream-chain: returning `undefined` drops the row), and, first, an iterable of rows.
 * The last argument may be {@link PipelineOptions}.
 *
 * Resolves to `{ output, stats }`. Rejects with the first real error of any stage (with its
 * context: stage, file, line, batch), after destroying every stream.
 *
 * @example
 * ```ts
 * const { output, stats } = await pipeline(
 *   fromCsv('trades.csv.gz', { cast: true }),
 *   filter((row: Trade) => row.qty > 0),
 *   toCsv('out.csv'),
 *   { signal: AbortSignal.timeout(60_000) },
 * );
 * ```
 */
export function pipeline<T>(...args: Stages<T>): Promise<PipelineResult<T>>;
export function pipeline(...args: [...PipelineStage[], PipelineOptions] | PipelineStage[]): Promise<PipelineResult<unknown>>;
export async function pipeline(...args: unknown[]): Promise<PipelineResult<unknown>> {
  const split = splitArguments(args);
  const { stages } = split;
  // process-wide defaults (spillway run) fill what the options leave out
  const options = withPipelineDefaults(split.options);
  const signal = expectSignal(options.signal, 'options.signal');
  const progressSpec = resolveProgress(options.progress);
  const dashboardSpec = resolveDashboard(options.dashboard ?? dashboardDefault());
  const governor = options.governor === false ? undefined : (options.governor ?? defaultGovernor());
  if (governor !== undefined && !(governor instanceof MemoryGovernor)) {
    throw new ValidationError('Expected `options.governor` to be a MemoryGovernor or false');
  }
  const streams = buildStreams(stages);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const controller = new AbortController();
  let stopRequested = false;
  const context: StageContext = {
    signal: controller.signal,
    governor,
    requestStop() {
      stopRequested = true;
    },
    get stopRequested() {
      return stopRequested;
    },
  };
  for (const stream of streams) if (isStage(stream)) stream[STAGE].attach(context);
  const checkpointer = options.checkpoint === undefined ? undefined : await startCheckpoint(options.checkpoint, streams, context);
  log('start: %s', streams.map(stageName).join(' -> '));

  if (signal?.aborted) {
    for (const stream of streams) stream.destroy();
    throw new AbortError(undefined, { cause: signal.reason });
  }

  const timeline = new TimelineRecorder({ read: streamsReader(streams), governor }).start();
  const dashboard = dashboardSpec ? await startDashboard(dashboardSpec, { streams, governor, started, timeline }) : undefined;
  let firstError: Error | undefined;
  const detach = governor?.attach();
  const memoryRun = governor?.startRun();
  const progress = progressSpec ? new ProgressTracker(progressSpec, { streams, governor, started }) : undefined;
  progress?.start();
  const hooks = pipelineDefaults();
  hooks.onStart?.();
  log('governor %s, progress %s', governor ? `limit ${governor.limit}` : 'off', progressSpec ? `every ${progressSpec.sampleMs} ms` : 'off');
  // which stage was working while memory rose, for the memory errors (sampled until the pause)
  const activity = new StageActivity(streams.flatMap((s) => (isStage(s) ? [s[STAGE].stats] : [])));
  const onSample = (): void => {
    if (!governor?.paused) activity.note();
  };
  governor?.on('sample', onSample);
  const onCritical = (error: MemoryLimitError): void => {
    const named = withRunningStage(error, activity);
    firstError ??= named;
    streams[0]?.destroy(named);
  };
  governor?.on('critical', onCritical);
  const noteError = (error: Error): void => {
    // the first real error wins; a premature close is only the echo of another failure
    if ((error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    firstError ??= error;
  };
  for (const stream of streams) stream.on('error', noteError);
  const onAbort = (): void => {
    const error = new AbortError(undefined, { cause: signal?.reason });
    firstError ??= error;
    streams[0]?.destroy(error);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    await new Promise<void>((resolve, reject) => {
      streamPipeline(streams as unknown as [Readable, Writable], (error) => {
        if (error) reject(firstError ?? error);
        else if (firstError) reject(firstError);
        else resolve();
      });
    });
  } catch (error) {
    controller.abort(error);
    const memory = await memoryRun?.stop();
    // stream.pipeline reports before the destroys finish: wait until our stages have released
    // their files and removed temporary output
    await Promise.all(streams.filter((s) => isStage(s) && !s.closed).map((s) => once(s, 'close').catch(() => undefined)));
    // a checkpoint being written finishes first, so a rerun finds it
    await checkpointer?.settle();
    log('failed: %s', (error as Error).message);
    const failed = collectStats(streams, performance.now() - started, startedAt);
    if (memory) failed.memory = memory;
    progress?.fail(failed);
    failed.timeline = timeline.stop();
    await dashboard?.end({ stats: failed, error: toError(error) });
    hooks.onEnd?.({ stats: failed, error: toError(error) });
    throw toError(error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    governor?.off('critical', onCritical);
    governor?.off('sample', onSample);
    detach?.();
  }
  await checkpointer?.finish().catch(async (error: unknown) => {
    timeline.stop();
    await dashboard?.close();
    throw error;
  });
  const sink = streams[streams.length - 1];
  const output = sink instanceof BatchSink ? (sink.result() as unknown) : undefined;
  const stats = collectStats(streams, performance.now() - started, startedAt);
  if (memoryRun) stats.memory = await memoryRun.stop();
  stats.timeline = timeline.stop();
  log('done: %d rows in, %d rows out, %d ms', stats.rowsIn, stats.rowsOut, Math.round(stats.durationMs));
  progress?.finish(stats);
  await dashboard?.end({ stats });
  hooks.onEnd?.({ stats });
  return { output, stats };
}

/** The governor's error with the stage that was running as memory rose (context `stage`). */
function withRunningStage(error: MemoryLimitError, activity: StageActivity): MemoryLimitError {
  const running = activity.running();
  if (!running || error.context.stage !== undefined) return error;
  const times = activity
    .window()
    .map((s) => `${s.stage} ${(s.busyMs / 1000).toFixed(1)} s, ${s.rowsIn} rows in`)
    .join('; ');
  const span = running.windowMs > 0 ? `the last ${(running.windowMs / 1000).toFixed(1)} s before the pause` : 'the run';
  const message = `${error.message}. Stage running as memory rose: ${running.stage} (own time over ${span}: ${times})`;
  const named = new MemoryLimitError(message, error.memory, { ...error.context, stage: running.stage }, { cause: error.cause });
  named.stack = `${named.name}: ${named.message}\n${(error.stack ?? '').split('\n').slice(1).join('\n')}`;
  return named;
}

/** Checks that the stages can be checkpointed and resumes them from an existing checkpoint; destroys the streams when it cannot. */
async function startCheckpoint(option: CheckpointOption, streams: (Readable | Writable)[], context: StageContext): Promise<Checkpointer> {
  try {
    const stages = streams.map((stream) => {
      if (!isStage(stream)) return { kind: 'foreign' as const, name: stream.constructor.name || 'stream' };
      const stats = stream[STAGE].stats;
      return { kind: stats.kind, name: stats.name, ordered: stats.details.ordered === false ? false : undefined };
    });
    const first = streams[0];
    const last = streams[streams.length - 1];
    const checkpointer = new Checkpointer(option, stages, first instanceof BatchSource ? first : undefined, last instanceof BatchSink ? last : undefined);
    await checkpointer.start(context);
    return checkpointer;
  } catch (error) {
    for (const stream of streams) stream.destroy();
    throw error;
  }
}

function isStream(value: unknown): value is Readable | Writable {
  return value instanceof Readable || value instanceof Writable || value instanceof Duplex;
}

function isIterable(value: unknown): value is Iterable<Row> | AsyncIterable<Row> {
  return typeof value === 'object' && value !== null && (Symbol.iterator in value || Symbol.asyncIterator in value);
}

function splitArguments(args: unknown[]): { stages: unknown[]; options: PipelineOptions } {
  const last = args[args.length - 1];
  const hasOptions = typeof last === 'object' && last !== null && !isStream(last) && !isIterable(last) && !isStage(last);
  const stages = hasOptions ? args.slice(0, -1) : args;
  const options = hasOptions ? expectOptions(last as PipelineOptions) : {};
  if (stages.length === 0) throw new ValidationError('pipeline() needs at least a source');
  return { stages, options };
}

const GENERATOR = Object.getPrototypeOf(function* () {}) as object;
const ASYNC_GENERATOR = Object.getPrototypeOf(async function* () {}) as object;

function isGeneratorFunction(fn: unknown): boolean {
  const proto = Object.getPrototypeOf(fn) as object;
  return proto === GENERATOR || proto === ASYNC_GENERATOR;
}

/** stream-chain passes `undefined` on as a value; in a pipeline it drops the row, as `none` does. */
function dropUndefined(fn: PipelineFunction): (value: unknown) => unknown {
  if (isGeneratorFunction(fn)) return fn as (value: unknown) => unknown;
  const call = fn as (value: unknown) => unknown;
  return (value) => {
    const result = call(value);
    if (result === undefined) return none;
    if (typeof result === 'object' && result !== null && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).then((settled) => (settled === undefined ? none : settled));
    }
    return result;
  };
}

/** Turns the user's stages into streams: a source first, a sink last, functions fused per run. */
function buildStreams(stages: unknown[]): (Readable | Writable)[] {
  const streams: (Readable | Writable)[] = [];
  const names = new Map<string, number>();
  let functions: PipelineFunction[] = [];
  const flushFunctions = (): void => {
    if (functions.length === 0) return;
    const only = functions[0];
    // one plain function runs directly; several, or a generator, compose through stream-chain
    const fn = functions.length === 1 && only && !isGeneratorFunction(only) ? only : (fun(...functions.map(dropUndefined)) as unknown as RowFunction);
    streams.push(rowStage('map', fn as RowFunction, undefined, functions.length === 1 ? only?.name || 'function' : 'functions'));
    functions = [];
  };
  stages.forEach((stage, i) => {
    if (i === 0 && !isStream(stage)) {
      if (isIterable(stage)) streams.push(fromIterable(stage));
      else if (typeof stage === 'function' && isGeneratorFunction(stage)) streams.push(fromIterable((stage as () => Iterable<Row>)()));
      else throw new ValidationError(`pipeline(): the first stage must be a source (a Readable, fromCsv(...), an iterable of rows), got ${typeof stage}`);
      return;
    }
    if (typeof stage === 'function') {
      functions.push(stage as PipelineFunction);
      return;
    }
    flushFunctions();
    if (!isStream(stage)) throw new ValidationError(`pipeline(): stage ${i} must be a stream, a spillway stage or a function, got ${stage === null ? 'null' : typeof stage}`);
    if (i > 0 && !(stage instanceof Writable)) throw new ValidationError(`pipeline(): stage ${i} is a Readable only; only the first stage may be a source`);
    streams.push(stage);
    // a foreign transform's output is normalised to batches and counted
    if (!isStage(stage) && stage instanceof Readable) streams.push(normaliser(stage));
  });
  flushFunctions();
  const last = streams[streams.length - 1];
  if (streams.length === 1 || !(last instanceof Writable) || last instanceof BatchTransform || (last instanceof Duplex && !isStage(last))) {
    streams.push(drain());
  }
  for (const stream of streams) {
    if (!isStage(stream)) continue;
    const stats = stream[STAGE].stats;
    const count = (names.get(stats.name) ?? 0) + 1;
    names.set(stats.name, count);
    if (count > 1) stats.name = `${stats.name}#${count}`;
  }
  return streams;
}

/** Counts and wraps what a foreign stream emits into batches. */
function normaliser(after: Readable | Writable): BatchTransform {
  const name = `${after.constructor.name || 'stream'}`;
  return new BatchTransform({ name, transform: (batch, push) => push(batch) });
}

function stageName(stream: Readable | Writable): string {
  return isStage(stream) ? stream[STAGE].stats.name : stream.constructor.name;
}

function collectStats(streams: (Readable | Writable)[], durationMs: number, startedAt: string): PipelineStats {
  const stages: StageStats[] = [];
  let bytesRead = 0;
  for (const stream of streams) {
    if (!isStage(stream)) continue;
    const stats = stream[STAGE].stats;
    stages.push({ ...stats, timeMs: Math.round(stats.timeMs * 100) / 100, details: { ...stats.details }, ...(stats.workers ? { workers: stats.workers.map((w) => ({ ...w })) } : {}) });
    if (stream instanceof BatchSource) bytesRead += (stream.progress() as SourceProgress).bytes;
  }
  const source = stages[0] ?? newStageStats('source', 'source');
  const sink = stages[stages.length - 1] ?? newStageStats('sink', 'sink');
  const workers = stages.flatMap((s) => s.workers ?? []);
  return {
    rowsIn: source.rowsOut,
    rowsOut: sink.rowsIn,
    batchesIn: source.batchesOut,
    batchesOut: sink.batchesIn,
    bytesRead,
    durationMs: Math.round(durationMs * 100) / 100,
    startedAt,
    stages,
    errors: {
      skipped: stages.reduce((n, s) => n + s.rowsSkipped, 0),
      deadLettered: stages.reduce((n, s) => n + s.rowsDeadLettered, 0),
    },
    ...(workers.length > 0 ? { workers } : {}),
  };
}
