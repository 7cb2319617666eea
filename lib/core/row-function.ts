/**
 * Applies a user's per-row function to every row of a batch, with stream-chain's sentinels:
 * `undefined` or `none` drops the row, `many([...])` emits several, `stop` (returned or thrown as
 * `Stop`) ends the pipeline's input early. Sync functions run in a plain loop; async ones run with
 * a bounded number in flight and keep the input order.
 *
 * The function sees plain row objects, or (`input: 'view'`, over a batch that holds Arrow and no
 * rows) a read-only row view (lib/row-view.ts): then no object is made per row, and rows the
 * function keeps (filter's truthy rows, map's returned view) leave as an Arrow selection of the
 * input batch (lib/arrow/select.ts).
 */
import { none, stop, isMany, getManyValues, isStop, many, type Many } from 'stream-chain/defs.js';
import { isThenable } from './thenable.ts';
import { Batch, type Row } from './batch.ts';
import { StageError } from './errors.ts';
import type { StageContext } from './stage.ts';
import { RowViewer, isViewable, readsPrimitivesOnly } from './row-view.ts';
import { extendRows, type RowExtension } from './row-extend.ts';
import { arrowKernels } from './arrow-kernels.ts';
import { ROWS_METADATA_KEY } from '../formats/arrow/metadata-keys.ts';
import type { Schema } from 'apache-arrow';

/** How the function's result becomes output rows. */
export type RowMode = 'map' | 'filter' | 'flatMap';

/** What the function receives: a read-only view over Arrow batches, or a plain object. */
export type RowInput = 'view' | 'object';

/** A per-row function as map/filter/flatMap receive it: the row and its index in the batch. */
export type RowFunction = (row: never, index: number) => unknown;

/** The key stream-chain's `many()` marks its result with (`Symbol.for`, so shared with it). */
const MANY = Symbol.for('object-stream.many');

/** A result standing for "the input row itself" (the function returned the view it was given). */
const KEEP: unique symbol = Symbol('spillway.keep');

/** Where the outputs for the input rows go. */
interface Output {
  /** Input row `index` goes out as it is. */
  keep(index: number): void;
  /** A value the function made goes out. */
  value(value: unknown): void;
}

/** Where the per-row function's argument comes from: rows, or one view per call in flight. */
interface Input {
  readonly numRows: number;
  /** The argument for row `i`, for calls on `lane` (one call in flight per lane). */
  arg(i: number, lane: number): unknown;
  /** The result as {@link collect} takes it (a returned view becomes {@link KEEP}). */
  own(result: unknown, lane: number): unknown;
}

/** Adds the outputs for input row `index` to `out`; returns true when the function asked to stop. */
function collect(mode: RowMode, index: number, result: unknown, out: Output): boolean {
  if (result === stop) return true;
  if (mode === 'filter') {
    if (result) out.keep(index);
    return false;
  }
  if (result === undefined || result === none) return false;
  if (isManyResult(result)) {
    for (const value of getManyValues(result)) emit(index, value, out);
    return false;
  }
  if (
    mode === 'flatMap' &&
    typeof result === 'object' &&
    result !== null &&
    Symbol.iterator in result &&
    typeof result !== 'string'
  ) {
    for (const value of result as Iterable<unknown>) emit(index, value, out);
    return false;
  }
  if (result === KEEP) out.keep(index);
  else out.value(result);
  return false;
}

function emit(index: number, value: unknown, out: Output): void {
  if (value === undefined || value === none) return;
  if (value === KEEP) out.keep(index);
  else out.value(value);
}

/**
 * stream-chain's `isMany`, asked with `in` first: its symbol lookup on a row built by object
 * spread is as slow as a missing `then` (see thenable.ts), and this runs on every result.
 */
function isManyResult(value: unknown): value is Many {
  return typeof value === 'object' && value !== null && MANY in value && isMany(value);
}

async function drainAsyncIterable(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const value of iterable) values.push(value);
  return values;
}

/** A generator object (sync or async): what a `function*` returns. */
function isGenerator(value: object): boolean {
  return (
    typeof (value as { next?: unknown }).next === 'function' &&
    (Symbol.iterator in value || Symbol.asyncIterator in value)
  );
}

/**
 * The result of row `index` as {@link collect} takes it: a flatMap function's async iterable is
 * drained (a promise), and its sync generator run here, inside the caller's try, so what it throws
 * is a StageError naming the row. A map function that returns a generator (a `function*` given to
 * map) is refused on the batch's first row: its generator objects went out as rows.
 */
function settle(mode: RowMode, result: unknown, index: number): unknown {
  if (typeof result !== 'object' || result === null) return result;
  if (mode === 'flatMap') {
    if (Symbol.asyncIterator in result) return drainAsyncIterable(result as AsyncIterable<unknown>);
    if (isGenerator(result)) return Array.from(result as Iterable<unknown>);
  } else if (mode === 'map' && index === 0 && isGenerator(result)) {
    throw new TypeError(
      'the function returned a generator: map() takes one row back per row; use flatMap() for a function that yields rows',
    );
  }
  return result;
}

function stageError(stage: string, batch: Batch, index: number, error: unknown): StageError {
  if (error instanceof StageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const position = batch.position;
  return new StageError(
    `${stage} threw: ${message}`,
    { stage, file: position.source, batch: position.index, rowInBatch: index },
    { cause: error },
  );
}

/**
 * The rows of a batch; an Arrow batch is converted here (once: the batch caches them), and a
 * conversion failure names the stage, the source and the batch.
 */
export function rowsOf(batch: Batch, stage: string): unknown[] {
  try {
    return batch.rows as unknown[];
  } catch (error) {
    const position = batch.position;
    const message = error instanceof Error ? error.message : String(error);
    throw new StageError(
      `${stage} cannot convert the Arrow batch to rows: ${message}`,
      { stage, file: position.source, batch: position.index },
      { cause: error },
    );
  }
}

/**
 * The objects the function is given: the batch's rows, or, when the function's fields are known
 * (lib/core/fields-read.ts) and the batch holds Arrow, objects of only those columns, made fresh
 * for it (so the batch keeps no half rows).
 */
function objectsFor(batch: Batch, stage: string, fields: readonly string[] | undefined): unknown[] {
  const schema = fields !== undefined && !batch.hasRows ? batch.schema : undefined;
  // array rows are read by position, not by the names fields-read found
  if (schema === undefined || schema.metadata.get(ROWS_METADATA_KEY) === 'array') return rowsOf(batch, stage);
  const names = schema.fields.map((field) => field.name);
  const wanted = new Set(fields);
  // a repeated name's last column is the one a row shows (as projectArrow takes it)
  const kept = names.filter((name, c) => wanted.has(name) && names.lastIndexOf(name) === c);
  return kept.length === names.length ? rowsOf(batch, stage) : rowsOf(batch.projectArrow(kept), stage);
}

/** Plain rows in, plain rows out. */
class RowsIo implements Input, Output {
  readonly rows: unknown[];
  readonly out: unknown[] = [];
  /** A value the function made went out (not only input rows, as a filter passes them). */
  #made = false;
  constructor(rows: unknown[]) {
    this.rows = rows;
  }
  get numRows(): number {
    return this.rows.length;
  }
  arg(i: number): unknown {
    return this.rows[i];
  }
  own(result: unknown): unknown {
    return result;
  }
  keep(index: number): void {
    this.out.push(this.rows[index]);
  }
  value(value: unknown): void {
    this.#made = true;
    this.out.push(value);
  }
  finish(batch: Batch): Batch {
    // kept input rows are the same objects: what the source knew of their columns still holds
    return this.#made ? batch.withRows(this.out as Row[]) : batch.keepRows(this.out as Row[]);
  }
}

/**
 * Views in; out, the kept input rows as indices (an Arrow selection) for as long as the function
 * only keeps rows, then plain rows (kept rows materialised) once it makes a value of its own.
 */
class ViewIo implements Input, Output {
  readonly #viewers: RowViewer[];
  readonly numRows: number;
  #indices: Int32Array;
  #count = 0;
  #rows: unknown[] | undefined;

  constructor(viewer: RowViewer, numRows: number) {
    this.#viewers = [viewer];
    this.numRows = numRows;
    this.#indices = new Int32Array(numRows);
  }
  arg(i: number, lane: number): unknown {
    let viewer = this.#viewers[lane];
    if (viewer === undefined) this.#viewers[lane] = viewer = this.#viewers[0]!.fork();
    return viewer.at(i);
  }
  own(result: unknown, lane: number): unknown {
    const view = this.#viewers[lane]!.view;
    if (result === view) return KEEP;
    // never let the flyweight out: a many() holding it keeps the row instead
    if (isManyResult(result)) {
      const values = getManyValues(result);
      if (values.includes(view)) return many(values.map((v) => (v === view ? KEEP : v)));
    }
    return result;
  }
  keep(index: number): void {
    if (this.#rows !== undefined) {
      this.#rows.push(this.#viewers[0]!.materialize(index));
      return;
    }
    if (this.#count === this.#indices.length) {
      const grown = new Int32Array(Math.max(16, this.#indices.length * 2));
      grown.set(this.#indices);
      this.#indices = grown;
    }
    this.#indices[this.#count++] = index;
  }
  value(value: unknown): void {
    if (this.#rows === undefined) {
      const viewer = this.#viewers[0]!;
      this.#rows = Array.from(this.#indices.subarray(0, this.#count), (i) => viewer.materialize(i));
    }
    this.#rows.push(value);
  }
  finish(batch: Batch): Batch {
    if (this.#rows !== undefined) return batch.withRows(this.#rows as Row[]);
    const selection = this.#indices.subarray(0, this.#count);
    const kernels = arrowKernels();
    if (kernels.keepsAll(selection, batch.numRows)) return batch;
    // copied out by whoever reads it: a later stage that wants objects converts only these rows
    return Batch.fromSelection(this.#viewers[0]!.batch!, selection, batch.position);
  }
}

/** Per-stage state kept between batches: the viewer, reused while the batches keep their columns. */
export interface RowViewState {
  viewer?: RowViewer;
  /**
   * The only fields the function reads, when its source shows them (lib/core/fields-read.ts) and
   * its output is what it makes (map, flatMap): objects made from Arrow then hold only these.
   */
  readonly fields?: readonly string[];
  /**
   * The function, given objects, only reads its fields during the call (RowUse.readOnly): over
   * a batch whose fields it reads hold primitives, a view gives it the same values, with no
   * object made per row.
   */
  readonly viewable?: boolean;
  /** The function returns `{ ...row, k: v }` and only reads the row: run by column where a batch allows (row-extend.ts). */
  readonly extension?: RowExtension;
  /** The last schema {@link viewFits} checked, and its answer. */
  checked?: { schema: Schema; fits: boolean };
}

/** True when a function given objects can read `batch` through a view instead (see RowViewState.viewable). */
function viewFits(batch: Batch, state: RowViewState): boolean {
  if (state.viewable !== true || batch.hasRows) return false;
  const schema = batch.schema;
  if (schema === undefined) return false;
  if (state.checked?.schema === schema) return state.checked.fits;
  const fits = readsPrimitivesOnly(schema, state.fields ?? []);
  state.checked = { schema, fits };
  return fits;
}

/** The view input/output for `batch`, or undefined when it is to be read as rows. */
function viewIo(batch: Batch, state: RowViewState): ViewIo | undefined {
  if (!batch.hasArrow || batch.hasRows) return undefined;
  const arrow = batch.arrow;
  if (!isViewable(arrow) || !arrowKernels().isBatchSelectable(arrow)) return undefined;
  state.viewer = RowViewer.over(arrow, state.viewer);
  return new ViewIo(state.viewer, arrow.numRows);
}

/**
 * Runs `fn` over the rows of `batch` and returns the output batch (same position), rows in
 * input order. With `input: 'view'`, a batch holding Arrow and no rows is read through a view and
 * kept rows leave as Arrow. When the function asks to stop, returns the rows so far and asks the
 * pipeline's sources to end.
 */
export function applyRowFunction(
  batch: Batch,
  fn: RowFunction,
  mode: RowMode,
  concurrency: number,
  stage: string,
  context: StageContext,
  input: RowInput = 'object',
  state: RowViewState = {},
): Batch | Promise<Batch> {
  const call = fn as (row: unknown, index: number) => unknown;
  if (state.extension !== undefined) {
    const extended = extendRows(batch, call, state.extension, context);
    if (extended !== undefined) {
      if ('failed' in extended) throw stageError(stage, batch, extended.index, extended.failed);
      return extended.batch;
    }
  }
  const io =
    (input === 'view' || viewFits(batch, state) ? viewIo(batch, state) : undefined) ??
    new RowsIo(objectsFor(batch, stage, state.fields));
  const n = io.numRows;
  for (let i = 0; i < n; i++) {
    let result: unknown;
    try {
      result = settle(mode, call(io.arg(i, 0), i), i);
    } catch (error) {
      if (isStop(error)) {
        context.requestStop();
        return io.finish(batch);
      }
      throw stageError(stage, batch, i, error);
    }
    if (isThenable(result)) return finishAsync(batch, io, call, mode, concurrency, stage, context, i, result);
    if (collect(mode, i, io.own(result, 0), io)) {
      context.requestStop();
      return io.finish(batch);
    }
  }
  return io.finish(batch);
}

/** Continues from row `start`, whose call (on lane 0) returned `first`, with up to `concurrency` calls in flight. */
async function finishAsync(
  batch: Batch,
  io: RowsIo | ViewIo,
  call: (row: unknown, index: number) => unknown,
  mode: RowMode,
  concurrency: number,
  stage: string,
  context: StageContext,
  start: number,
  first: PromiseLike<unknown>,
): Promise<Batch> {
  const n = io.numRows;
  const results: unknown[] = new Array(n - start);
  let next = start + 1;
  let stopped = false;
  let failure: unknown;
  const run = async (index: number, lane: number, pending: unknown): Promise<void> => {
    try {
      results[index - start] = io.own(await pending, lane);
    } catch (error) {
      if (isStop(error)) stopped = true;
      else failure ??= stageError(stage, batch, index, error);
    }
  };
  // each lane has one call in flight at a time, so one view per lane is enough
  const lane = async (id: number, index: number, pending: unknown): Promise<void> => {
    await run(index, id, pending);
    // a destroyed stage calls the user's function no more (a run that had already rejected went
    // on calling it for the rest of the batch: 2,046 calls with their side effects)
    while (failure === undefined && !stopped && next < n && !context.signal.aborted) {
      const i = next++;
      let result: unknown;
      try {
        result = settle(mode, call(io.arg(i, id), i), i);
      } catch (error) {
        if (isStop(error)) {
          stopped = true;
          break;
        }
        failure ??= stageError(stage, batch, i, error);
        break;
      }
      await run(i, id, result);
    }
  };
  const lanes: Promise<void>[] = [lane(0, start, first)];
  while (lanes.length < concurrency && next < n) {
    const i = next++;
    const id = lanes.length;
    let result: unknown;
    try {
      result = settle(mode, call(io.arg(i, id), i), i);
    } catch (error) {
      if (isStop(error)) stopped = true;
      else failure ??= stageError(stage, batch, i, error);
      break;
    }
    lanes.push(lane(id, i, result));
  }
  await Promise.all(lanes);
  if (failure !== undefined) throw failure;
  context.signal.throwIfAborted();
  const end = stopped ? next : n;
  for (let i = start; i < end; i++) {
    if (collect(mode, i, results[i - start], io)) {
      stopped = true;
      break;
    }
  }
  if (stopped) context.requestStop();
  return io.finish(batch);
}
