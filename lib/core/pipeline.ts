/**
 * `pipeline(...stages, options?)`: runs a source, transforms and a sink as one Node stream
 * pipeline of batches, and resolves to the sink's output and the run's stats. This module builds
 * the streams from what the user passed; a {@link Run} owns the run itself.
 */
import { type Readable, Writable, Duplex } from 'node:stream';
import type { BatchSink } from './sink.ts';
import { BatchTransform } from './transform.ts';
import { ValidationError } from './errors.ts';
import { expectOptions, expectSignal, optionKeys } from './validate.ts';
import { STAGE, isStage } from './stage.ts';
import { buildStreams, isIterable, isStream, type PipelineFunction } from './build-streams.ts';
import { markUsed, wasUsed } from './used-stages.ts';
import { Run } from './run.ts';
import { negotiateForms } from './negotiate.ts';
import type { RunObserver } from './observer.ts';
import type { PipelineResult } from './stats.ts';
import type { PipelineOptions } from './pipeline-options.ts';
import { drain } from '../../sinks/drain.ts';
import type { Row } from './batch.ts';
import { MemoryGovernor, defaultGovernor } from '../memory/governor.ts';
import { resolveProgress } from '../observe/progress.ts';
import { ProgressObserver } from '../observe/progress-observer.ts';
import { TimelineObserver } from '../observe/timeline.ts';
import { hooksObserver } from '../observe/hooks.ts';
import { pipelineDefaults, withPipelineDefaults } from './defaults.ts';
import { dashboardDefault, resolveDashboard } from '../observe/dashboard/options.ts';

export type { PipelineResult, PipelineStats } from './stats.ts';
export type { PipelineOptions } from './pipeline-options.ts';

export type { PipelineFunction } from './build-streams.ts';

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
  const streams = pipelineStreams(split.stages);
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
  checkStages(stages);
  return { stages, options };
}

/**
 * Refuses a stage a pipeline used before (its stream has ended: a second run hung or read
 * nothing) and a sink before the last place, each as a coded error naming the stage.
 */
function checkStages(stages: readonly unknown[]): void {
  const seen = new Set<object>();
  for (const [i, stage] of stages.entries()) {
    if (!isStage(stage)) continue;
    const { kind, stats } = stage[STAGE];
    if (wasUsed(stage))
      throw new ValidationError(
        `Stage ${i + 1} (${stats.name}) was used in a pipeline before: a stage is a stream and runs once; create it again (call ${stats.name}(...) anew) for another pipeline`,
      );
    // the same stage twice in one list was piped into itself: a hang, or a CPU spin that starved signals
    if (seen.has(stage))
      throw new ValidationError(
        `Stage ${i + 1} (${stats.name}) stands earlier in this pipeline too: a stage is a stream and runs once; create a second one (call ${stats.name}(...) again)`,
      );
    seen.add(stage);
    if (kind === 'sink' && i < stages.length - 1)
      throw new ValidationError(
        `Stage ${i + 1} (${stats.name}) is a sink: it must be the last stage of the pipeline, and stage ${i + 2} comes after it`,
      );
  }
  for (const stage of stages) if (isStage(stage)) markUsed(stage);
}

/** The user's stages as streams (build-streams.ts), ending in a sink: a drain when they end in none. */
function pipelineStreams(stages: readonly unknown[]): (Readable | Writable)[] {
  const streams = buildStreams(stages);
  const last = streams[streams.length - 1];
  if (
    streams.length === 1 ||
    !(last instanceof Writable) ||
    last instanceof BatchTransform ||
    (last instanceof Duplex && !isStage(last))
  ) {
    streams.push(drain());
  }
  return streams;
}
