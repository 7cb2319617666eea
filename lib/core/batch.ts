import type { RecordBatch, Schema } from 'apache-arrow';
import type { SniffedTypes } from './sniffed-types.ts';

export type { SniffedTypes } from './sniffed-types.ts';
import { arrowKernels } from './arrow-kernels.ts';
import { brandClass } from './brand.ts';
import type { Row } from './row.ts';

/**
 * The unit that travels between stages: a batch of rows. One stream chunk is one batch, so the
 * stream machinery's cost is paid per batch, never per row. A batch knows its size (rows and an
 * estimate of its bytes) and where it came from (for resume and for error messages).
 */

export type { Row } from './row.ts';

/** Where a batch came from in its source. */
export interface BatchPosition {
  /** The source: a file path, or a name such as `fromIterable`. */
  readonly source: string;
  /** 0-based index of this batch among the batches its source produced. */
  readonly index: number;
  /** 0-based index, in the whole source, of this batch's first row. */
  readonly rowStart: number;
  /** 1-based line of the first row, for text sources. */
  readonly line?: number;
  /** 1-based last line consumed by this batch, for text sources. */
  readonly endLine?: number;
  /** Bytes of the (decompressed) source consumed up to the end of this batch. */
  readonly endByte?: number;
}

const SAMPLE_ROWS = 16;

/**
 * Estimates the bytes V8 holds for `rows`, by walking up to 16 evenly spaced rows and scaling.
 * Cheap (constant work per batch) and good to about ±30% for rows of scalars.
 */
export function estimateRowsBytes(rows: readonly Row[]): number {
  const n = rows.length;
  if (n === 0) return 0;
  const step = n <= SAMPLE_ROWS ? 1 : n / SAMPLE_ROWS;
  let sampled = 0;
  let bytes = 0;
  for (let i = 0; i < n && sampled < SAMPLE_ROWS; i = Math.floor(++sampled * step)) {
    bytes += estimateValueBytes(rows[i], 0);
  }
  // the array holding the rows: one pointer a row
  return Math.round((bytes / sampled) * n) + 16 + 8 * n;
}

/** Heap bytes of one value, roughly as V8 lays it out on 64-bit without pointer compression. */
export function estimateValueBytes(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 0 : 16; // Smi inline, else HeapNumber
    case 'string':
      return 16 + ((value.length + 7) & ~7); // header + one-byte characters, 8-aligned
    case 'bigint':
      return 24;
    case 'boolean':
    case 'undefined':
      return 0;
    case 'object': {
      if (value === null) return 0;
      if (value instanceof Date) return 48;
      if (ArrayBuffer.isView(value)) return 64 + value.byteLength;
      if (depth > 3) return 64;
      if (Array.isArray(value)) {
        let bytes = 32 + 8 * value.length;
        for (const item of value) bytes += estimateValueBytes(item, depth + 1);
        return bytes;
      }
      let bytes = 24;
      for (const key in value) bytes += 8 + estimateValueBytes((value as Record<string, unknown>)[key], depth + 1);
      return bytes;
    }
    default:
      return 16;
  }
}

/**
 * A batch of rows with its position in the source and a lazily computed size estimate. It holds
 * rows, an Arrow RecordBatch, or both: each form is converted from the other at most once, on
 * first use, and cached. Batches are immutable by convention: a transform makes a new batch with
 * {@link Batch.withRows}.
 */
export class Batch<R extends Row = Row> {
  /** Where this batch came from. */
  readonly position: BatchPosition;
  #rows: R[] | undefined;
  #arrow: RecordBatch | undefined;
  #bytes: number | undefined;
  #columns: readonly string[] | undefined;
  #sniffed: SniffedTypes | undefined;
  /** Rows `indices` of `source`, not yet copied out (see {@link Batch.fromSelection}). */
  #selection: { source: RecordBatch; indices: ArrayLike<number> } | undefined;

  /**
   * @param rows the rows (the batch takes ownership of the array)
   * @param position where they came from
   * @param bytes a known size in bytes; estimated from a sample of the rows when omitted
   * @param columns the column names in the source's order, when the source knows them (object
   *   rows alone cannot carry it: JavaScript lists integer-like keys such as `"1"` first)
   * @param sniffed column types the source knows (a sniffed CSV: DATE, a TIMESTAMP without a
   *   zone, BIGINT, DOUBLE), which the batch's Arrow form takes instead of inferring them
   */
  constructor(rows: R[], position: BatchPosition, bytes?: number, columns?: readonly string[], sniffed?: SniffedTypes) {
    this.#rows = rows;
    this.position = position;
    this.#bytes = bytes;
    this.#columns = columns;
    this.#sniffed = sniffed;
  }

  /**
   * The column names in order: the Arrow schema's for an Arrow batch, else the list the source
   * gave (fromCsv gives its header); undefined when only the rows' keys are known.
   */
  get columns(): readonly string[] | undefined {
    const arrow = this.#arrow ?? this.#selection?.source;
    if (this.#columns === undefined && arrow !== undefined) this.#columns = arrow.schema.fields.map((f) => f.name);
    return this.#columns;
  }

  /** The column types the source knew (see the constructor), when it said. */
  get sniffed(): SniffedTypes | undefined {
    return this.#sniffed;
  }

  /** The schema of the batch's Arrow data (a selection's source's), without copying a selection out; undefined for rows alone. */
  get schema(): Schema | undefined {
    return (this.#arrow ?? this.#selection?.source)?.schema;
  }

  /** The rows a filter kept and their source, while not copied out (see {@link Batch.fromSelection}); else undefined. */
  get selection(): { readonly source: RecordBatch; readonly indices: ArrayLike<number> } | undefined {
    return this.#arrow === undefined ? this.#selection : undefined;
  }

  /** A batch holding an Arrow RecordBatch; its rows are converted on first use of `rows`. */
  static fromArrow(recordBatch: RecordBatch, position: BatchPosition): Batch {
    const batch = new Batch<Row>([], position);
    batch.#rows = undefined;
    batch.#arrow = recordBatch;
    return batch;
  }

  /**
   * A batch of rows `indices` of `source` (a filter's kept rows), copied out only as they are used:
   * `rows` converts just those rows, `arrow` copies them into a new RecordBatch once. Until then the
   * batch holds `source` (its `bytes`).
   */
  static fromSelection(source: RecordBatch, indices: ArrayLike<number>, position: BatchPosition): Batch {
    const batch = new Batch<Row>([], position);
    batch.#rows = undefined;
    batch.#selection = { source, indices };
    return batch;
  }

  /** The rows of this batch (converted from Arrow once, with `int64: 'auto'`, when it holds Arrow). */
  get rows(): R[] {
    if (this.#rows === undefined) {
      const selection = this.#arrow === undefined ? this.#selection : undefined;
      this.#rows = (
        selection
          ? arrowKernels().recordBatchToRows(selection.source, { selection: selection.indices })
          : arrowKernels().recordBatchToRows(this.#arrow!)
      ) as R[];
    }
    return this.#rows;
  }

  /** The batch as an Arrow RecordBatch (converted from the rows once, schema inferred). */
  get arrow(): RecordBatch {
    if (this.#arrow === undefined) {
      const selection = this.#selection;
      this.#arrow = selection
        ? arrowKernels().selectRows(selection.source, selection.indices)
        : arrowKernels().rowsToRecordBatch(this.#rows!, { columns: this.#columns, sniffed: this.#sniffed });
      this.#selection = undefined;
      this.#bytes = undefined;
    }
    return this.#arrow;
  }

  /** Same as {@link Batch.arrow}. */
  toArrow(): RecordBatch {
    return this.arrow;
  }

  /** True when this batch was made from (or has already been converted to) Arrow. */
  get hasArrow(): boolean {
    return this.#arrow !== undefined || this.#selection !== undefined;
  }

  /** True when this batch holds JS rows (given, or already converted). */
  get hasRows(): boolean {
    return this.#rows !== undefined;
  }

  /** Number of rows. */
  get numRows(): number {
    if (this.#rows !== undefined) return this.#rows.length;
    return this.#arrow?.numRows ?? this.#selection!.indices.length;
  }

  /**
   * Bytes held in memory: for an Arrow batch, its buffers' byteLength (exact); for rows, an
   * estimate from a sample (about ±30%).
   */
  get bytes(): number {
    // a selection not yet copied holds its whole source
    this.#bytes ??=
      this.#rows !== undefined
        ? estimateRowsBytes(this.#rows)
        : arrowKernels().recordBatchBytes(this.#arrow ?? this.#selection!.source);
    return this.#bytes;
  }

  /**
   * The batch's Arrow data reduced to columns `names`, in that order, at the same position, with
   * no column data copied; a filter's selection stays a selection of the reduced batch. For a
   * batch that holds Arrow (`hasArrow`); a name it lacks is a column of nulls, a name it repeats
   * its last column, as rows keyed by name show them. `as` renames them (column `k` is `as[k]`).
   */
  projectArrow(names: readonly string[], as?: readonly string[]): Batch {
    const source = this.#arrow ?? this.#selection?.source;
    if (source === undefined) throw new TypeError('projectArrow: the batch holds no Arrow data');
    const projected = arrowKernels().selectColumns(source, names, as);
    const selection = this.#arrow === undefined ? this.#selection : undefined;
    return selection
      ? Batch.fromSelection(projected, selection.indices, this.position)
      : Batch.fromArrow(projected, this.position);
  }

  /** A new batch at the same position holding `rows`. */
  withRows<T extends Row>(rows: T[]): Batch<T> {
    return new Batch(rows, this.position);
  }

  /**
   * A new batch at the same position holding `rows`, some of this batch's own rows (a filter's
   * output): it keeps what the source said of their columns ({@link Batch.sniffed}, the names),
   * so a sniffed CSV's dates stay DATE past a filter.
   */
  keepRows<T extends Row>(rows: T[]): Batch<T> {
    return new Batch(rows, this.position, undefined, this.columns, this.#sniffed);
  }
}
brandClass(Batch, 'Batch');

/** True for a {@link Batch}. */
export function isBatch(value: unknown): value is Batch {
  return value instanceof Batch;
}
