/**
 * Row views over Arrow batches: ONE reusable object (a flyweight) per viewer whose columns are
 * read from the Arrow buffers at the current row index, so a per-row function can look at a row
 * without an object being built for it. The values are exactly those `Batch.rows` gives (same
 * reader as lib/arrow/convert.ts, same defaults). The columns are own enumerable accessors,
 * defined once per viewer, so `{ ...row }`, `Object.keys`, `JSON.stringify` and `for in` behave
 * as on a plain row; the view is read-only and not extensible.
 */
import { inspect } from 'node:util';
import type { RecordBatch, Schema } from 'apache-arrow';
import { int64ModeOf, JSON_METADATA_KEY, ROWS_METADATA_KEY } from '../formats/arrow/metadata-keys.ts';
import { arrowKernels, type ArrowValueReader as ValueReader } from './arrow-kernels.ts';
import type { Row } from './batch.ts';
import { parseJsonExact } from '../formats/json/lines.ts';

/** The column layout a view is built for: names (first position of a repeated name wins) and the row shape. */
interface Layout {
  /** Property name -> column index whose value it shows (the last column of a repeated name, as in `Batch.rows`). */
  readonly columns: ReadonlyMap<string, number>;
  readonly names: readonly string[];
  readonly arrayRows: boolean;
}

function layoutOf(batch: RecordBatch): Layout {
  const names = batch.schema.fields.map((field) => field.name);
  const arrayRows = batch.schema.metadata.get(ROWS_METADATA_KEY) === 'array';
  const columns = new Map<string, number>();
  if (arrayRows) names.forEach((_, c) => columns.set(String(c), c));
  else names.forEach((name, c) => columns.set(name, c));
  return { columns, names, arrayRows };
}

/**
 * True when rows of `batch` can be viewed: object rows without a `__proto__` column (plain
 * objects treat that key specially), or array rows.
 */
export function isViewable(batch: RecordBatch): boolean {
  if (batch.schema.metadata.get(ROWS_METADATA_KEY) === 'array') return true;
  return !batch.schema.fields.some((field) => field.name === '__proto__');
}

/**
 * True when a function reading only `fields` of rows of `schema` (by name) cannot tell a view
 * from a row object: the rows are objects, not arrays read by position, and every one of those
 * fields holds primitives (a Date or a nested value a view makes anew at each read).
 */
export function readsPrimitivesOnly(schema: Schema, fields: readonly string[]): boolean {
  if (schema.metadata.get(ROWS_METADATA_KEY) === 'array') return false;
  const read = new Set(fields);
  const kernels = arrowKernels();
  return schema.fields.every((field) => !read.has(field.name) || kernels.primitiveValued(field));
}

/** Readers of every column of `batch`, with JSON columns parsed back as `Batch.rows` does. */
function readersOf(batch: RecordBatch): ValueReader[] {
  return batch.schema.fields.map((field, c) => {
    const data = batch.data.children[c];
    if (data === undefined) return () => null;
    const read = arrowKernels().valueReader(data, { int64: int64ModeOf(field) }, field.name);
    if (field.metadata.get(JSON_METADATA_KEY) !== 'true') return read;
    return (i: number) => {
      const value = read(i);
      return typeof value === 'string' ? parseJsonExact(value) : value;
    };
  });
}

/**
 * A cursor over the rows of Arrow batches that shows the current row through {@link RowViewer.view}.
 * Move it with {@link RowViewer.at}; the view always shows the row at the cursor, so a view kept
 * past the call it was given to shows whatever row the cursor is on by then: copy it
 * (`{ ...row }`) or {@link RowViewer.materialize} a row to keep it.
 *
 * @typeParam R the row type the view is typed as
 */
export class RowViewer<R extends Row = Row> {
  /** The flyweight: one object, whose columns read row {@link RowViewer.index} of the bound batch. */
  readonly view: R;
  /** The row the view shows (0-based in the bound batch). */
  index = 0;
  #readers: ValueReader[] = [];
  #batch: RecordBatch | undefined;
  readonly #layout: Layout;

  readonly #hidden: boolean;

  /**
   * A viewer for batches laid out as `batch` (same column names and row shape), bound to it.
   * @param hidden columns as non-enumerable accessors: `{ ...view }` then copies none of them (a
   *   map returning `{ ...row, k: v }` whose row columns are passed on as Arrow, row-extend.ts)
   */
  constructor(batch: RecordBatch, hidden = false) {
    this.#layout = layoutOf(batch);
    this.#hidden = hidden;
    this.view = this.#makeView();
    this.bind(batch);
  }

  /** `previous` bound to `batch` when it fits it (a stage's batches keep their columns), else a new viewer. */
  static over<R extends Row>(batch: RecordBatch, previous: RowViewer<R> | undefined, hidden = false): RowViewer<R> {
    if (previous?.fits(batch)) {
      previous.bind(batch);
      return previous;
    }
    return new RowViewer<R>(batch, hidden);
  }

  /** The batch the viewer reads. */
  get batch(): RecordBatch | undefined {
    return this.#batch;
  }

  /** True when `batch` has the layout of this viewer's view (so {@link RowViewer.bind} can take it). */
  fits(batch: RecordBatch): boolean {
    const fields = batch.schema.fields;
    const names = this.#layout.names;
    if (
      fields.length !== names.length ||
      (batch.schema.metadata.get(ROWS_METADATA_KEY) === 'array') !== this.#layout.arrayRows
    )
      return false;
    for (let c = 0; c < names.length; c++) if (fields[c]!.name !== names[c]) return false;
    return true;
  }

  /** Points the viewer at `batch` (which must {@link RowViewer.fits}), row 0. */
  bind(batch: RecordBatch): void {
    if (batch !== this.#batch) {
      if (this.#batch !== undefined && !this.fits(batch))
        throw new TypeError('RowViewer.bind: the batch has other columns than the viewer was made for');
      this.#readers = readersOf(batch);
      this.#batch = batch;
    }
    this.index = 0;
  }

  /** Moves the cursor to row `i` and returns the view. */
  at(i: number): R {
    this.index = i;
    return this.view;
  }

  /** Row `i` as a plain object (or array), equal to `Batch.rows[i]`: a copy that stays valid. */
  materialize(i: number): R {
    const readers = this.#readers;
    if (this.#layout.arrayRows) return readers.map((read) => read(i)) as unknown as R;
    const row: Record<string, unknown> = {};
    for (const [name, c] of this.#layout.columns) row[name] = readers[c]!(i);
    return row as R;
  }

  /** Another viewer on the same batch with its own view and cursor (for calls in flight at once). */
  fork(): RowViewer<R> {
    return new RowViewer<R>(this.#batch!, this.#hidden);
  }

  #makeView(): R {
    const view: object = this.#layout.arrayRows ? new Array<unknown>(this.#layout.names.length) : {};
    for (const [name, c] of this.#layout.columns) {
      Object.defineProperty(view, name, {
        enumerable: !this.#hidden,
        configurable: false,
        get: () => this.#readers[c]!(this.index),
        set: () => {
          throw new TypeError(
            `Cannot set "${name}": a row view is read-only. Copy the row first ({ ...row }), or pass { input: 'object' } to get plain objects.`,
          );
        },
      });
    }
    // console.log(row) shows the row's values, not its accessors
    Object.defineProperty(view, inspect.custom, { enumerable: false, value: () => this.materialize(this.index) });
    Object.preventExtensions(view);
    return view as R;
  }
}
