/**
 * `pipeline(...stages, options?)`: runs a source, transforms and a sink as one Node stream
 * pipeline of batches, and resolves to the sink's output and the run's stats. This module builds
 * the streams from what the user passed; a {@link Run} owns the run itself.
 */
import { Readable, Writable, Duplex } from 'node:stream';
import { fun } from 'stream-chain/fun.js';
import { none } from 'stream-chain/defs.js';
import type { BatchSink } from './sink.ts';
import { BatchTransform } from './transform.ts';
import { rowStage } from './row-stage.ts';
import { ValidationError } from './errors.ts';
import { expectOptions, expectSignal, optionKeys } from './validate.ts';
import { isStage, STAGE } from './stage.ts';
import { Run } from './run.ts';
import { negotiateForms } from './negotiate.ts';
import type { RunObserver } from './observer.ts';
import type { PipelineResult } from './stats.ts';
import type { PipelineOptions } from './pipeline-options.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { drain } from '../../sinks/drain.ts';
import type { Row } from './batch.ts';
import { MemoryGovernor, defaultGovernor } from '../memory/governor.ts';
import type { RowFunction } from './row-function.ts';
import { resolveProgress } from '../observe/progress.ts';
import { ProgressObserver } from '../observe/progress-observer.ts';
import { TimelineObserver } from '../observe/timeline.ts';
import { hooksObserver } from '../observe/hooks.ts';
import { pipelineDefaults, withPipelineDefaults } from './defaults.ts';
import { dashboardDefault, resolveDashboard } from '../observe/dashboard/options.ts';

export type { PipelineResult, PipelineStats } from './stats.ts';
export type { PipelineOptions } from './pipeline-options.ts';

/** A per-row function or (async) generator function placed directly in a pipeline. */
export type PipelineFunction = (row: never, index: number) => unknown;

/** What may stand in a pipeline: spillway stages, Node streams, functions, and (first) iterables of rows. */
export type PipelineStage = Readable | Writable | Duplex | PipelineFunction | Iterable<Row> | AsyncIterable<Row>;

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
export function pipeline(
  ...args: [...PipelineStage[], PipelineOptions] | PipelineStage[]
): Promise<PipelineResult<unknown>>;
export async function pipeline(...args: unknown[]): Promise<PipelineResult<unknown>> {
  const split = splitArguments(args);
  // process-wide defaults (spillway run) fill what the options leave out
  const options = withPipelineDefaults(split.options);
  const signal = expectSignal(options.signal, 'options.signal');
  const governor = options.governor === false ? undefined : (options.governor ?? defaultGovernor());
  if (governor !== undefined && !(governor instanceof MemoryGovernor)) {
    throw new ValidationError('Expected `options.governor` to be a MemoryGovernor or false');
  }
  const observers = await runObservers(options);
  const streams = buildStreams(split.stages);
  // the sources learn what to produce before anything is opened
  negotiateForms(streams);
  const run = new Run(streams, { governor, signal, checkpoint: options.checkpoint, observers });
  try {
    await run.start();
    await run.flow();
    return await run.succeed();
  } catch (error) {
    throw await run.fail(error);
  } finally {
    await run.dispose();
  }
}

/** The observers the options ask for, in the order they see the run end. */
async function runObservers(options: PipelineOptions): Promise<RunObserver[]> {
  const progress = resolveProgress(options.progress);
  const dashboard = resolveDashboard(options.dashboard ?? dashboardDefault());
  // the timeline comes first: it adds stats.timeline before the others see the stats
  const timeline = new TimelineObserver();
  const observers: RunObserver[] = [timeline];
  if (progress) observers.push(new ProgressObserver(progress));
  if (dashboard) {
    const { DashboardObserver } = await import('../observe/dashboard/observer.ts');
    observers.push(new DashboardObserver(dashboard, timeline));
  }
  observers.push(hooksObserver(pipelineDefaults()));
  return observers;
}

function isStream(value: unknown): value is Readable | Writable {
  return value instanceof Readable || value instanceof Writable || value instanceof Duplex;
}

function isIterable(value: unknown): value is Iterable<Row> | AsyncIterable<Row> {
  return typeof value === 'object' && value !== null && (Symbol.iterator in value || Symbol.asyncIterator in value);
}

/** Every option of PipelineOptions, for strict validation. */
const KNOWN_PIPELINE_OPTIONS = optionKeys<PipelineOptions>({
  signal: true,
  governor: true,
  progress: true,
  checkpoint: true,
  dashboard: true,
});

function splitArguments(args: unknown[]): { stages: unknown[]; options: PipelineOptions } {
  const last = args[args.length - 1];
  const hasOptions =
    typeof last === 'object' && last !== null && !isStream(last) && !isIterable(last) && !isStage(last);
  const stages = hasOptions ? args.slice(0, -1) : args;
  const options = hasOptions ? expectOptions(last as PipelineOptions, 'options', KNOWN_PIPELINE_OPTIONS) : {};
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
    const fn =
      functions.length === 1 && only && !isGeneratorFunction(only)
        ? only
        : (fun(...functions.map(dropUndefined)) as unknown as RowFunction);
    streams.push(
      rowStage('map', fn as RowFunction, undefined, functions.length === 1 ? only?.name || 'function' : 'functions'),
    );
    functions = [];
  };
  stages.forEach((stage, i) => {
    if (i === 0 && !isStream(stage)) {
      if (isIterable(stage)) streams.push(fromIterable(stage));
      else if (typeof stage === 'function' && isGeneratorFunction(stage))
        streams.push(fromIterable((stage as () => Iterable<Row>)()));
      else
        throw new ValidationError(
          `pipeline(): the first stage must be a source (a Readable, fromCsv(...), an iterable of rows), got ${typeof stage}`,
        );
      return;
    }
    if (typeof stage === 'function') {
      functions.push(stage as PipelineFunction);
      return;
    }
    flushFunctions();
    if (!isStream(stage))
      throw new ValidationError(
        `pipeline(): stage ${i} must be a stream, a spillway stage or a function, got ${stage === null ? 'null' : typeof stage}`,
      );
    if (i > 0 && !(stage instanceof Writable))
      throw new ValidationError(`pipeline(): stage ${i} is a Readable only; only the first stage may be a source`);
    streams.push(stage);
    // a foreign transform's output is normalised to batches and counted
    if (!isStage(stage) && stage instanceof Readable) streams.push(normaliser(stage));
  });
  flushFunctions();
  const last = streams[streams.length - 1];
  if (
    streams.length === 1 ||
    !(last instanceof Writable) ||
    last instanceof BatchTransform ||
    (last instanceof Duplex && !isStage(last))
  ) {
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
