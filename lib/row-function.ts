/**
 * Applies a user's per-row function to every row of a batch, with stream-chain's sentinels:
 * `undefined` or `none` drops the row, `many([...])` emits several, `stop` (returned or thrown as
 * `Stop`) ends the pipeline's input early. Sync functions run in a plain loop; async ones run with
 * a bounded number in flight and keep the input order.
 */
import { none, stop, isMany, getManyValues, isStop } from 'stream-chain/defs.js';
import type { Batch, Row } from './batch.ts';
import { StageError } from './errors.ts';
import type { StageContext } from './stage.ts';

/** How the function's result becomes output rows. */
export type RowMode = 'map' | 'filter' | 'flatMap';

/** A per-row function as map/filter/flatMap receive it: the row and its index in the batch. */
export type RowFunction = (row: never, index: number) => unknown;

/** Adds the outputs for one input row to `out`; returns true when the function asked to stop. */
function collect(mode: RowMode, row: unknown, result: unknown, out: unknown[]): boolean {
  if (result === stop) return true;
  if (mode === 'filter') {
    if (result) out.push(row);
    return false;
  }
  if (result === undefined || result === none) return false;
  if (isMany(result)) {
    for (const value of getManyValues(result)) if (value !== undefined && value !== none) out.push(value);
    return false;
  }
  if (mode === 'flatMap' && typeof result === 'object' && result !== null && Symbol.iterator in result && typeof result !== 'string') {
    for (const value of result as Iterable<unknown>) if (value !== undefined && value !== none) out.push(value);
    return false;
  }
  out.push(result);
  return false;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

async function drainAsyncIterable(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const value of iterable) values.push(value);
  return values;
}

/** Resolves async iterables (async generators) a flatMap function may return. */
function settle(mode: RowMode, result: unknown): unknown {
  if (mode === 'flatMap' && typeof result === 'object' && result !== null && Symbol.asyncIterator in result) {
    return drainAsyncIterable(result as AsyncIterable<unknown>);
  }
  return result;
}

function stageError(stage: string, batch: Batch, index: number, error: unknown): StageError {
  if (error instanceof StageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const position = batch.position;
  return new StageError(`${stage} threw: ${message}`, { stage, file: position.source, batch: position.index, rowInBatch: index }, { cause: error });
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
    throw new StageError(`${stage} cannot convert the Arrow batch to rows: ${message}`, { stage, file: position.source, batch: position.index }, { cause: error });
  }
}

/**
 * Runs `fn` over the rows of `batch` and returns the output rows in input order. When the
 * function asks to stop, returns the rows so far and asks the pipeline's sources to end.
 */
export function applyRowFunction(
  batch: Batch,
  fn: RowFunction,
  mode: RowMode,
  concurrency: number,
  stage: string,
  context: StageContext,
): Row[] | Promise<Row[]> {
  const rows = rowsOf(batch, stage);
  const out: unknown[] = [];
  const call = fn as (row: unknown, index: number) => unknown;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    let result: unknown;
    try {
      result = settle(mode, call(row, i));
    } catch (error) {
      if (isStop(error)) {
        context.requestStop();
        return out as Row[];
      }
      throw stageError(stage, batch, i, error);
    }
    if (isThenable(result)) return finishAsync(batch, call, mode, concurrency, stage, context, out, i, result);
    if (collect(mode, row, result, out)) {
      context.requestStop();
      return out as Row[];
    }
  }
  return out as Row[];
}

/** Continues from row `start`, whose call returned `first`, with up to `concurrency` calls in flight. */
async function finishAsync(
  batch: Batch,
  call: (row: unknown, index: number) => unknown,
  mode: RowMode,
  concurrency: number,
  stage: string,
  context: StageContext,
  out: unknown[],
  start: number,
  first: PromiseLike<unknown>,
): Promise<Row[]> {
  const rows = batch.rows as unknown[]; // converted (and cached) by applyRowFunction
  const results: unknown[] = new Array(rows.length - start);
  let next = start + 1;
  let stopped = false;
  let failure: unknown;
  const run = async (index: number, pending: unknown): Promise<void> => {
    try {
      results[index - start] = await pending;
    } catch (error) {
      if (isStop(error)) stopped = true;
      else failure ??= stageError(stage, batch, index, error);
    }
  };
  const lane = async (index: number, pending: unknown): Promise<void> => {
    await run(index, pending);
    while (failure === undefined && !stopped && next < rows.length) {
      const i = next++;
      let result: unknown;
      try {
        result = settle(mode, call(rows[i], i));
      } catch (error) {
        if (isStop(error)) {
          stopped = true;
          break;
        }
        failure ??= stageError(stage, batch, i, error);
        break;
      }
      await run(i, result);
    }
  };
  const lanes: Promise<void>[] = [lane(start, first)];
  while (lanes.length < concurrency && next < rows.length) {
    const i = next++;
    let result: unknown;
    try {
      result = settle(mode, call(rows[i], i));
    } catch (error) {
      if (isStop(error)) stopped = true;
      else failure ??= stageError(stage, batch, i, error);
      break;
    }
    lanes.push(lane(i, result));
  }
  await Promise.all(lanes);
  if (failure !== undefined) throw failure;
  const end = stopped ? next : rows.length;
  for (let i = start; i < end; i++) {
    if (collect(mode, rows[i], results[i - start], out)) {
      stopped = true;
      break;
    }
  }
  if (stopped) context.requestStop();
  return out as Row[];
}
