/**
 * A map that returns `{ ...row, k: v }` (the README's idiom: add or replace a column), run over
 * Arrow batches without a row object: the row's columns go on as the Arrow columns they are, and
 * only the keys the function sets are built into new columns. A map returning `{ k: v }` of fixed
 * keys runs the same way, its output just those columns. lib/core/fields-read.ts proves the shape
 * from the function's source; this file runs it.
 *
 * The function is given a row view whose columns are non-enumerable, so its spread copies
 * nothing and its result holds just the keys it sets; every call is made exactly as on an object,
 * in order, once. The output is what `{ ...row, k: v }` would hold, with its key order (a set key
 * stays where the column stood, new keys follow), as long as:
 * - the function only reads the row during the call (RowUse.readOnly), and the fields it reads
 *   hold primitives (a Date or a nested value it changed in place would go on unchanged, where
 *   an object's spread would carry the change);
 * - the batch's column names are plain keys (no repeats, no `__proto__`, no array indices, which
 *   an object orders first), and its rows are objects, not arrays;
 * - every value set is a string, number, boolean, bigint (64-bit) or null, one type per key,
 *   which Arrow columns give back as they were (and a JS number column is Float64, as toParquet
 *   writes rows of numbers).
 * Where one of these fails for a batch, the batch is made of row objects as before: for the
 * values, from the results the calls already gave (the function is not called twice).
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { isStop } from 'stream-chain/defs.js';
import { Batch } from './batch.ts';
import { arrowKernels } from './arrow-kernels.ts';
import { RowViewer, readsPrimitivesOnly } from './row-view.ts';
import type { StageContext } from './stage.ts';
import type { PrimitiveType } from '../formats/arrow/primitives.ts';

/** A map stage's extension: what the function sets and reads, and state kept between batches. */
export interface RowExtension {
  /** The keys of the object the function returns (RowUse.result). */
  readonly keys: readonly string[];
  /** It spreads the row first: the output is the row's columns with the keys set. */
  readonly spreadsRow: boolean;
  /** The fields it reads (RowUse.fields). */
  readonly fields: readonly string[];
  /** Per key, the field it copies (ResultLiteral.copies), when the row is not spread. */
  readonly copies?: readonly (string | undefined)[];
  /** The viewer, reused while batches keep their columns. */
  viewer?: RowViewer;
  /** The last schema checked by {@link fits}, its answer, and per key the column passed on as it is. */
  checked?: { schema: Schema; fits: boolean; passed: readonly (number | undefined)[] };
}

/** Array indices: an object orders these keys before all others. */
const INDEX = /^(0|[1-9]\d{0,9})$/;

/** True when batches of `schema` can be extended column by column (see the module comment). */
function fits(schema: Schema, extension: RowExtension): boolean {
  if (extension.checked?.schema === schema) return extension.checked.fits;
  const names = schema.fields.map((field) => field.name);
  const kernels = arrowKernels();
  const answer =
    readsPrimitivesOnly(schema, extension.fields) &&
    new Set(names).size === names.length &&
    names.every((name) => name !== '__proto__' && !INDEX.test(name));
  // a key copying a column that its values would rebuild as it is: the column is passed on
  const passed = extension.keys.map((_, k) => {
    const c = names.indexOf(extension.copies?.[k] ?? '');
    return c >= 0 && kernels.rebuildsAsItself(schema.fields[c]!) ? c : undefined;
  });
  extension.checked = { schema, fits: answer, passed };
  return answer;
}

/** `String.prototype.isWellFormed` (Node 20+; ES2024, past this project's `lib`). */
const isWellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean }).isWellFormed;

/**
 * Checks the values set for one key: each a string (well formed: a lone surrogate would not
 * survive UTF-8), number, boolean, bigint or null, all of one type but null (a column mixing
 * numbers and bigints would read back as numbers).
 */
class ColumnCheck {
  /** The values' one type (a typeof), undefined while all were null. */
  type: string | undefined;
  ok = true;

  add(value: unknown): void {
    if (value === null) return;
    const type = typeof value;
    if (type !== (this.type ??= type)) this.ok = false;
    else if (type === 'string') this.ok &&= isWellFormed.call(value as string);
    else if (type === 'bigint') this.ok &&= (value as bigint) >= INT64_MIN && (value as bigint) <= INT64_MAX;
    else this.ok &&= type === 'number' || type === 'boolean';
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** What {@link extendRows} did with a batch. */
export type Extended = { readonly batch: Batch } | { readonly failed: unknown; readonly index: number };

/**
 * Runs `fn` over the rows of `batch` and returns the output batch (when the function threw
 * `Stop`, the rows before it, and the pipeline is asked to stop), or the error a call threw and
 * its row; or undefined when the batch does not fit (then it is to be read as rows).
 */
export function extendRows(
  batch: Batch,
  fn: (row: unknown, index: number) => unknown,
  extension: RowExtension,
  context: StageContext,
): Extended | undefined {
  const schema = batch.hasRows ? undefined : batch.schema;
  if (schema === undefined || !fits(schema, extension)) return undefined;
  // a filter's kept rows are read where they are (and stay a selection when the row's columns go on)
  const selection = keptInOrder(batch.selection);
  const arrow = selection?.source ?? batch.arrow;
  const viewer = (extension.viewer = RowViewer.over(arrow, extension.viewer, true));
  const at = selection?.indices;
  const keys = extension.keys;
  const n = at?.length ?? arrow.numRows;
  const results = new Array<Record<string, unknown>>(n);
  const passed = extension.checked!.passed;
  // a passed key's values need no check: they are the column's
  const checks = keys.map((_, k) => (passed[k] === undefined ? new ColumnCheck() : undefined));
  let columnar = true;
  let end = n;
  for (let i = 0; i < n; i++) {
    let result: Record<string, unknown>;
    try {
      result = fn(viewer.at(at === undefined ? i : at[i]!), i) as Record<string, unknown>;
    } catch (error) {
      if (!isStop(error)) return { failed: error, index: i };
      context.requestStop();
      end = i;
      break;
    }
    results[i] = result;
    if (columnar)
      for (let k = 0; k < keys.length; k++) {
        const check = checks[k];
        if (check === undefined) continue;
        check.add(result[keys[k]!]);
        if (!check.ok) columnar = false;
      }
  }
  const made = end === n ? results : results.slice(0, end);
  if (!columnar) {
    // as the object path would: the results, after the row's fields where the function spreads it
    if (!extension.spreadsRow) return { batch: batch.withRows(made) };
    const rows = made.map((result, i) => Object.assign(viewer.materialize(at === undefined ? i : at[i]!), result));
    return { batch: batch.withRows(rows) };
  }
  const kernels = arrowKernels();
  if (!extension.spreadsRow) {
    const out = madeColumns(made, arrow, selection?.indices, end, extension, checks);
    return { batch: Batch.fromArrow(out, batch.position) };
  }
  const columns = keys.map((name, k) => ({ name, type: (checks[k]!.type ?? 'null') as PrimitiveType }));
  if (at !== undefined) return { batch: spreadSelection(arrow, at, made, columns, batch) };
  const base = end === n ? arrow : arrow.slice(0, end);
  if (keys.length === 0) return { batch: Batch.fromArrow(base, batch.position) };
  return { batch: Batch.fromArrow(kernels.withColumns(base, kernels.primitiveBatch(made, columns)), batch.position) };
}

/** A filter's selection whose rows are each kept once, in order (a source row then holds one result); else undefined. */
function keptInOrder(selection: Batch['selection']): Batch['selection'] {
  const indices = selection?.indices;
  if (indices === undefined) return undefined;
  for (let k = 1; k < indices.length; k++) if (indices[k]! <= indices[k - 1]!) return undefined;
  return selection;
}

/**
 * `{ ...row, k: v }` over a filter's kept rows `at` of `source`: still a selection of the source,
 * which has the set keys' columns added at its full length (set at the kept rows, null at the
 * others, which the selection never reads). A sink that reads selections (toParquet) then copies
 * each kept row once, where copying them out here first copied them twice.
 */
function spreadSelection(
  source: RecordBatch,
  at: ArrayLike<number>,
  made: readonly Record<string, unknown>[],
  columns: readonly { name: string; type: PrimitiveType }[],
  batch: Batch,
): Batch {
  const kept = made.length === at.length ? at : (Array.prototype.slice.call(at, 0, made.length) as number[]);
  if (columns.length === 0) return Batch.fromSelection(source, kept, batch.position);
  const unset = Object.fromEntries(columns.map(({ name }) => [name, null]));
  const placed = new Array<Record<string, unknown>>(source.numRows).fill(unset);
  for (let i = 0; i < made.length; i++) placed[kept[i]!] = made[i]!;
  const kernels = arrowKernels();
  return Batch.fromSelection(
    kernels.withColumns(source, kernels.primitiveBatch(placed, columns)),
    kept,
    batch.position,
  );
}

/**
 * The output of a map returning `{ k: v }`: the columns built from the results, and the columns
 * passed on as they are (the first `end` rows of `arrow`, at `indices` for a filter's kept rows),
 * in the order of the keys.
 */
function madeColumns(
  made: readonly Record<string, unknown>[],
  arrow: RecordBatch,
  indices: ArrayLike<number> | undefined,
  end: number,
  extension: RowExtension,
  checks: readonly (ColumnCheck | undefined)[],
): RecordBatch {
  const kernels = arrowKernels();
  const keys = extension.keys;
  const built = keys.flatMap((name, k) => {
    const check = checks[k];
    return check === undefined ? [] : [{ name, type: (check.type ?? 'null') as PrimitiveType }];
  });
  const out = kernels.primitiveBatch(made, built);
  const passed = extension.checked!.passed;
  if (built.length === keys.length) return out;
  const names = arrow.schema.fields.map((field) => field.name);
  const from = keys.flatMap((_, k) => (passed[k] === undefined ? [] : [names[passed[k]!]!]));
  const as = keys.filter((_, k) => passed[k] !== undefined);
  let copied = kernels.selectColumns(arrow, from, as);
  if (indices !== undefined)
    copied = kernels.selectRows(
      copied,
      end === indices.length ? indices : (Array.prototype.slice.call(indices, 0, end) as number[]),
    );
  else if (end < copied.numRows) copied = copied.slice(0, end);
  return kernels.selectColumns(kernels.withColumns(copied, out), keys);
}
