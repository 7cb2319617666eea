/**
 * The machinery behind `map`, `filter`, `flatMap` and plain functions placed in a pipeline: a
 * batch transform that applies a per-row function (see lib/row-function.ts).
 */
import { BatchTransform } from './transform.ts';
import { applyRowFunction, type RowFunction, type RowInput, type RowMode, type RowViewState } from './row-function.ts';
import { expectFunction, expectInteger, expectOneOf, expectOptions, optionKeys } from './validate.ts';

/** Options of the per-row transforms. */
export interface RowOptions {
  /** For async functions: how many calls may be in flight at once (default 1). Order is kept. */
  concurrency?: number;
  /** Name used in stats and errors. */
  name?: string;
}

/** Options of `map` and `filter`: {@link RowOptions} and what the function receives. */
export interface ViewRowOptions extends RowOptions {
  /**
   * What the function receives for a batch that holds Arrow columns and no rows yet (e.g. from
   * `fromCsv(..., { output: 'arrow' })` or `fromArrow`):
   * - `'view'`: a read-only row view read straight from the columns, valid during the call only
   *   (copy it with `{ ...row }` to keep it); no object is made per row, and the rows kept
   *   (filter's, or map's when it returns the view itself) leave as Arrow.
   * - `'object'`: a plain object per row (the batch's rows, converted once), free to mutate.
   *
   * Batches that already hold rows always give plain objects. Default: `'view'` for filter,
   * `'object'` for map.
   */
  input?: RowInput;
}

/** Every option of ViewRowOptions, for strict validation. */
const KNOWN_VIEW_ROW_OPTIONS = optionKeys<ViewRowOptions>({ input: true, concurrency: true, name: true });
/** Builds a per-row transform; used by map, filter and flatMap. */
export function rowStage(
  mode: RowMode,
  fn: RowFunction,
  options: ViewRowOptions | undefined,
  defaultName: string,
): BatchTransform {
  expectFunction(fn, 'fn');
  const opts = expectOptions(options, 'options', KNOWN_VIEW_ROW_OPTIONS);
  const concurrency = expectInteger(opts.concurrency, 'options.concurrency', 1);
  const input: RowInput =
    mode === 'flatMap'
      ? expectOneOf(opts.input, 'options.input', ['object'], 'object')
      : expectOneOf(opts.input, 'options.input', ['view', 'object'], mode === 'filter' ? 'view' : 'object');
  const name = opts.name ?? defaultName;
  const state: RowViewState = {};
  return new BatchTransform({
    name,
    // over views a stage reads Arrow as it is; a filter emits what it was given (an Arrow selection)
    capabilities: input === 'view' ? { accepts: ['rows', 'arrow', 'view'], keepsForm: mode === 'filter' } : undefined,
    transform(batch, push, context) {
      const out = applyRowFunction(batch, fn, mode, concurrency, name, context, input, state);
      if (out instanceof Promise) return out.then(push);
      push(out);
    },
  });
}
