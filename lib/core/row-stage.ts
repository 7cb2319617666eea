/**
 * The machinery behind `map`, `filter`, `flatMap` and plain functions placed in a pipeline: a
 * batch transform that applies a per-row function (see lib/row-function.ts).
 */
import { BatchTransform } from './transform.ts';
import { applyRowFunction, type RowFunction, type RowInput, type RowMode, type RowViewState } from './row-function.ts';
import { fieldsRead } from './fields-read.ts';
import type { StageCapabilities } from './stage.ts';
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
   *
   * Left to its default, a map whose source shows which fields it reads (`r => ({ id: r.id })`;
   * lib/core/fields-read.ts) gets objects of just those fields, or a view when it only reads
   * primitive fields during the call (it cannot tell the two apart); `input: 'object'` given
   * explicitly always gives objects.
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
  const use = fieldsRead(fn);
  const result = use?.result;
  const spreadsRow = result?.spreadsRow === true;
  // a function spreading its row reads every field
  const fields = spreadsRow ? undefined : use?.fields;
  // a map left to its default input gets a view (or runs by column) where it cannot tell the difference
  const free = mode === 'map' && opts.input === undefined && use?.readOnly === true;
  const extension =
    free && result !== undefined && (spreadsRow || result.keys.length > 0)
      ? { keys: result.keys, fields: use!.fields, spreadsRow, copies: result.copies }
      : undefined;
  const state: RowViewState = {
    // a filter passes the very rows it was given on, so they stay whole
    fields: mode === 'filter' ? undefined : fields,
    viewable: free && extension === undefined,
    extension,
  };
  const capabilities: Partial<StageCapabilities> | undefined =
    spreadsRow && extension ? { accepts: ['rows', 'arrow'], keepsForm: false } : rowCapabilities(mode, input, fields);
  return new BatchTransform({
    name,
    // a checkpoint resumed through a changed function is refused (values it closes over are not seen)
    capabilities: { ...capabilities, identity: `${mode} ${input}: ${String(fn)}` },
    transform(batch, push, context, stats) {
      // for display: what the function was found to read (its objects hold only these) or set
      if (fields !== undefined) stats.details.fieldsRead ??= fields.join(', ');
      if (extension !== undefined)
        stats.details[spreadsRow ? 'setsColumns' : 'makesColumns'] ??= extension.keys.join(', ');
      const out = applyRowFunction(batch, fn, mode, concurrency, name, context, input, state);
      if (out instanceof Promise) return out.then(push);
      push(out);
    },
  });
}

/**
 * What a per-row stage reads. Over views it reads Arrow as it is, and a filter emits what it was
 * given (an Arrow selection, every column). A map or flatMap whose function's fields are known
 * (fields-read.ts) passes on only what it makes from them: it reads Arrow too (making objects of
 * just those columns), and the source may fill only them.
 */
function rowCapabilities(
  mode: RowMode,
  input: RowInput,
  fields: readonly string[] | undefined,
): Partial<StageCapabilities> | undefined {
  const known = fields === undefined ? {} : mode === 'filter' ? { inspects: fields } : { reads: fields };
  if (input === 'view') return { accepts: ['rows', 'arrow', 'view'], keepsForm: mode === 'filter', ...known };
  if (mode === 'filter' || fields === undefined) return undefined;
  return { accepts: ['rows', 'arrow'], keepsForm: false, ...known };
}
