/**
 * `join`: a hash join of the pipeline's rows (left) with another input (right): a source stage,
 * a chain of a source and transforms, a Spilled (toSpill's output), an array or an (async)
 * iterable of rows. Grace hash join with spilling past the budget (lib/operators/hash-join.ts).
 */
import { sniffedAsArrow } from '../lib/operators/sniffed-input.ts';
import { Readable, Writable, type Duplex } from 'node:stream';
import type { RecordBatch } from 'apache-arrow';
import { Batch, type Row } from '../lib/core/batch.ts';
import { RequiredColumns } from '../lib/operators/required-columns.ts';
import { untilAborted } from '../lib/core/until-aborted.ts';
import { AbortError, ValidationError, describeValue } from '../lib/core/errors.ts';
import type { Spilled } from '../lib/formats/spill/spilled.ts';
import { hasBrand } from '../lib/core/brand.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import { STAGE, capabilities, isStage, type StageContext, type StageStats } from '../lib/core/stage.ts';
import { SourceChain, isStageChain } from '../lib/core/source-chain.ts';
import { takeStages } from '../lib/core/used-stages.ts';
import type { PipelineFunction } from '../lib/core/build-streams.ts';
import { asBatch } from '../lib/core/transform.ts';
import type { HashJoin, JoinHow } from '../lib/operators/hash-join.ts';
import { OperatorScratch } from '../lib/operators/operator-scratch.ts';
import { closeStream } from '../lib/io/close-stream.ts';
import { expectKeyColumns } from '../lib/operators/key-columns.ts';
import type { JoinKeyTypes } from '../lib/operators/join-key-types.ts';
import type { JoinOutputTypes } from '../lib/operators/join-output-types.ts';
import { JoinOutput } from '../lib/operators/join-output.ts';
import { OperatorTransform, type EmitRows } from '../lib/operators/operator-transform.ts';
import {
  operatorBudget,
  reportOperator,
  resolveOperatorOptions,
  type HashOperatorOptions,
  type OperatorCounters,
} from '../lib/operators/operator-options.ts';

export type { JoinHow };

/**
 * What `join` accepts as its right input. A chain `[source, ...transforms]` runs as a pipeline
 * of its own would (functions, format negotiation, projection pushdown), and its last stage's
 * batches are the right rows.
 */
export type JoinRight =
  | Readable
  | readonly [Readable, ...(Duplex | PipelineFunction)[]]
  | Spilled
  | readonly Row[]
  | Iterable<Row | Row[] | Batch | RecordBatch>
  | AsyncIterable<Row | Row[] | Batch | RecordBatch>;

/** Join key columns: one name for both sides, a list, or `{ left, right }` (each a name or a list). */
export type JoinOn =
  | string
  | readonly string[]
  | { left: string | readonly string[]; right: string | readonly string[] };

/** Options of {@link join}. */
export interface JoinOptions extends HashOperatorOptions {
  /** The key columns. */
  on: JoinOn;
  /** `inner` (default), `left`, `right`, `full`, `semi` (left rows with a match) or `anti` (left rows without one). */
  how?: JoinHow;
}

const HOWS: readonly JoinHow[] = ['inner', 'left', 'right', 'full', 'semi', 'anti'];

function resolveOn(on: unknown): { left: string[]; right: string[] } {
  if (typeof on === 'object' && on !== null && !Array.isArray(on)) {
    const spec = on as { left?: unknown; right?: unknown };
    for (const key of Object.keys(spec))
      if (key !== 'left' && key !== 'right')
        throw new ValidationError(`Unknown key \`options.on.${key}\` (expected left, right)`);
    const left = expectKeyColumns(spec.left, 'options.on.left');
    const right = expectKeyColumns(spec.right, 'options.on.right');
    if (left.length !== right.length)
      throw new ValidationError(
        `Expected \`options.on.left\` and \`options.on.right\` to name as many columns (${left.length} vs ${right.length})`,
      );
    return { left, right };
  }
  const keys = expectKeyColumns(on, 'options.on');
  return { left: keys, right: keys };
}

/** True for toSpill's output (by brand: the spill reader loads only when a run needs it). */
function isSpilled(value: unknown): value is Spilled {
  return hasBrand(value, 'Spilled');
}

function isRecordBatch(value: unknown): value is RecordBatch {
  return (
    typeof value === 'object' &&
    value !== null &&
    'schema' in value &&
    'numRows' in value &&
    typeof (value as { getChildAt?: unknown }).getChildAt === 'function'
  );
}

/**
 * The build side reads Arrow as well as rows: a right chain's last stage then passes Arrow on (a
 * filter reads row views), and the table reads the values by column (join-table.ts).
 */
const BUILD_READER = capabilities({ accepts: ['rows', 'arrow'] });

/** A chunk of the right input: its rows, its Arrow batch, or both. */
type RightChunk = { rows: Row[]; arrow?: RecordBatch } | { rows?: undefined; arrow: RecordBatch };

/** The chunk of a batch: Arrow alone while no rows were made (the table reads it by column). */
function chunkOf(given: Batch): RightChunk {
  // rows a source typed (a sniffed CSV) are built as Arrow, so the right columns keep the types
  const batch = sniffedAsArrow(given);
  if (batch.hasArrow && !batch.hasRows) return { arrow: batch.arrow };
  return { rows: batch.rows, arrow: batch.hasArrow ? batch.arrow : undefined };
}

/** Chunks of the right input (see {@link RightChunk}). */
async function* rightChunks(right: JoinRight | SourceChain, context: StageContext): AsyncGenerator<RightChunk> {
  // ungoverned: a paused right source would hold the build (and the memory it has) forever;
  // the build itself spills by budget and level
  const ungoverned: StageContext = {
    ...context,
    governor: undefined,
    signal: context.signal,
    requestStop: () => {},
    stopRequested: false,
    // the run's input is the left side's: a right chain's operators know nothing of their own
    inputRead: undefined,
  };
  if (right instanceof SourceChain) {
    for await (const batch of right.batches(ungoverned, BUILD_READER)) yield chunkOf(batch);
    return;
  }
  if (isSpilled(right)) {
    for await (const recordBatch of right.batches()) yield { arrow: recordBatch };
    return;
  }
  if (Array.isArray(right) && !right.some((r) => r instanceof Batch || Array.isArray(r) || isRecordBatch(r))) {
    for (let i = 0; i < right.length; i += 8192) yield { rows: (right as Row[]).slice(i, i + 8192) };
    return;
  }
  if (isStage(right)) {
    takeStages([right], "The join's right input");
    right[STAGE].attach(ungoverned);
  }
  let pending: Row[] = [];
  const iterable = right as AsyncIterable<unknown> | Iterable<unknown>;
  for await (const chunk of iterable) {
    if (chunk instanceof Batch || Array.isArray(chunk) || isRecordBatch(chunk)) {
      if (pending.length > 0) {
        yield { rows: pending };
        pending = [];
      }
      yield chunkOf(asBatch(chunk, 'join.right'));
    } else {
      pending.push(chunk as Row);
      if (pending.length >= 8192) {
        yield { rows: pending };
        pending = [];
      }
    }
  }
  if (pending.length > 0) yield { rows: pending };
}

/** True for a spillway source stage (a Readable stage that is not also a Writable: not a transform). */
function isSourceStage(value: unknown): value is Readable {
  return isStage(value) && value instanceof Readable && !(value instanceof Writable);
}

/** Validates `join`'s arguments (synchronously, at construction). */
function resolveJoinOptions(
  right: JoinRight,
  options: JoinOptions,
): { opts: ReturnType<typeof resolveOperatorOptions>; on: { left: string[]; right: string[] }; how: JoinHow } {
  if (
    typeof right !== 'object' ||
    right === null ||
    !(isSpilled(right) || Array.isArray(right) || Symbol.asyncIterator in right || Symbol.iterator in right)
  ) {
    throw new ValidationError(
      `Expected \`right\` to be a source stage, a chain [source, ...transforms], a Spilled, an array or an (async) iterable of rows, got ${describeValue(right)}`,
    );
  }
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`Expected \`options\` to be an object with \`on\`, got ${describeValue(options)}`);
  const opts = resolveOperatorOptions(options, 'options', ['on', 'how']);
  const on = resolveOn(options.on);
  const how = options.how ?? 'inner';
  if (!HOWS.includes(how))
    throw new ValidationError(`Expected \`options.how\` to be one of ${HOWS.join(', ')}, got ${describeValue(how)}`);
  return { opts, on, how };
}

/** Reads the whole right input into `engine`'s build side, checking the key types as it goes. */
async function buildRight(
  engine: HashJoin,
  right: JoinRight | SourceChain,
  context: StageContext,
  types: JoinKeyTypes,
  outputTypes: JoinOutputTypes,
  disposed: () => boolean,
  rightKeys: readonly string[],
): Promise<void> {
  const required = new RequiredColumns(
    'join',
    rightKeys.map((name) => ({ name, role: 'key' })),
    'right input',
  );
  // a destroy waits for this step: it ends with the signal, even on a right input that stalls
  for await (const { rows, arrow } of untilAborted(
    rightChunks(right, context),
    context.signal,
    "The join's right input",
  )) {
    if (disposed()) throw new AbortError('The join was stopped while reading its right input');
    if (rows) required.noteRows(rows);
    else required.noteArrow(arrow);
    outputTypes.noteRight(rows, arrow);
    if (rows) {
      types.observe('right', rows, arrow);
      await engine.build(rows);
    } else {
      types.observe('right', () => Batch.fromArrow(arrow, { source: 'join.right', index: 0, rowStart: 0 }).rows, arrow);
      await engine.build(arrow);
    }
  }
  required.finish();
}

/** Probes one left batch, emitting the joined rows in batches of about `batchSize`. */
async function probeBatch(engine: HashJoin, rows: readonly Row[], emit: EmitRows, batchSize: number): Promise<void> {
  let pending: Row[] = [];
  await engine.probe(rows, async (out) => {
    pending = pending.length === 0 ? out : pending.concat(out);
    if (pending.length >= batchSize) {
      const ready = pending;
      pending = [];
      await emit(ready);
    }
  });
  if (pending.length > 0) await emit(pending);
}

// the hash table and the Arrow key-type checks load with the first batch, not with `import 'spillway'`
const joinModules = lazyImport(() =>
  Promise.all([
    import('../lib/operators/join-key-types.ts'),
    import('../lib/operators/hash-join.ts'),
    import('../lib/operators/join-output-types.ts'),
  ]),
);

/**
 * Joins the pipeline's rows (the left side) with `right` on key columns. The right side is read
 * whole into a hash table first (put the smaller input on the right); left batches then stream
 * through it (Arrow batches by column, without row objects, for inner, left, semi and anti joins
 * held in memory). Past the budget both sides are partitioned by key hash to spill files and joined
 * partition by partition. Nulls never match. Output rows: the left columns, then the right ones;
 * a key column named the same on both sides appears once; another right column whose name the
 * left side has too is renamed `<name>_right` (`_right2`, ... if taken). Output order is
 * unspecified (in memory, left rows keep their order). Key columns whose types cannot match
 * (string vs number, Int32 vs Float64 in Arrow input) fail with `ERR_SPILLWAY_JOIN_KEY_MISMATCH`.
 *
 * @example
 * ```ts
 * pipeline(fromCsv('trades.csv', { cast: true }),
 *   join(fromCsv('symbols.csv', { cast: true }), { on: { left: 'symbol', right: 'sym' }, how: 'left' }),
 *   toParquet('enriched.parquet'))
 * ```
 *
 * @example A chain on the right, as SQL joins a subquery: the reader fills only `id` and `price`
 * ```ts
 * join([fromCsv('history.csv', { cast: true }), select({ id: 'id', p2: 'price' }), filter((r: { id: number }) => r.id % 2 === 0)], { on: 'id' })
 * ```
 */
export function join(right: JoinRight, options: JoinOptions): OperatorTransform {
  const { opts, on, how } = resolveJoinOptions(right, options);
  // a source stage alone is a chain of one: negotiated as a pipeline's head (Arrow for the build)
  const chain = isStageChain(right)
    ? new SourceChain(right, 'join(right)')
    : isSourceStage(right)
      ? new SourceChain([right], 'join(right)')
      : undefined;
  const shared = on.left.filter((name, i) => on.right[i] === name);
  const output = new JoinOutput(shared);
  let types: JoinKeyTypes | undefined;
  let outputTypes: JoinOutputTypes | undefined;
  const scratch = new OperatorScratch('join', opts.dir);
  const counters: OperatorCounters = { depth: 0, flushes: 0, groups: 0, tableBytesAtSpill: 0 };
  let engine: HashJoin | undefined;
  let built: Promise<HashJoin> | undefined;
  let budget = 0;
  let disposed = false;

  const ensureBuilt = (context: StageContext): Promise<HashJoin> => {
    built ??= (async () => {
      const [{ JoinKeyTypes }, { HashJoin }, { JoinOutputTypes }] = await joinModules.load();
      types = new JoinKeyTypes(on.left, on.right);
      outputTypes = new JoinOutputTypes(output, how);
      budget = operatorBudget(opts.budget, context.governor);
      engine = new HashJoin({
        how,
        leftKeys: on.left,
        rightKeys: on.right,
        budget,
        scratch,
        output,
        governor: context.governor,
        signal: context.signal,
        counters,
        rightTypes: outputTypes.right,
      });
      await buildRight(engine, chain ?? right, context, types, outputTypes, () => disposed, on.right);
      return engine;
    })();
    return built;
  };
  const report = (stats: StageStats): void => {
    reportOperator(stats, scratch, counters, budget);
    stats.details.rightRowsIn = engine?.rightRows ?? 0;
    if (engine?.partitioned) stats.details.partitionsInMemory = engine.partitionsInMemory;
    if (chain) stats.details.right = chain.describe();
  };

  return new OperatorTransform({
    name: 'join',
    requires: on.left.map((name) => ({ name, role: 'key' })),
    // Arrow in: inner, left, semi and anti joins probe it by column (lib/operators/join-arrow.ts)
    accepts: ['rows', 'arrow'],
    async consume(batch, emit, context, stats) {
      const engine = await ensureBuilt(context);
      types!.observe('left', () => batch.rows, batch.hasArrow ? batch.arrow : undefined);
      outputTypes!.noteLeft(batch.hasArrow ? batch.arrow : undefined);
      // an Arrow batch is probed by column (no row objects) unless this join takes the rows path
      if (!batch.hasArrow || batch.hasRows || !(await engine.probeArrow(batch.arrow, opts.batchSize, emit)))
        await probeBatch(engine, batch.rows, outputTypes!.typedEmit(emit), opts.batchSize);
      report(stats);
    },
    async finish(emit, context, stats) {
      const engine = await ensureBuilt(context);
      const emitRows = outputTypes!.typedEmit(emit);
      await engine.finish(
        async (out) => {
          for (let i = 0; i < out.length; i += opts.batchSize) await emitRows(out.slice(i, i + opts.batchSize));
        },
        // a partitioned join's Arrow left batches are probed by column, as in memory
        { batchSize: opts.batchSize, sink: emit },
      );
      report(stats);
    },
    // no row out: the left columns, then the right ones (`empty` was made by finish's build)
    empty: (input) => (input && outputTypes ? outputTypes.empty(input) : undefined),
    async dispose() {
      disposed = true;
      await engine?.dispose();
      await scratch.dispose();
      // waits for its 'close' (its file closed), so the pipeline settles with no descriptor open
      if (right instanceof Readable && !right.readableEnded) await closeStream(right);
      await chain?.close();
    },
  });
}
