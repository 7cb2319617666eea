/**
 * A CSV batch filled straight from the scanner's byte ranges into a {@link CellStore}, then sealed
 * into an Arrow RecordBatch (arrow-columns.ts), or into rows when a column mixes kinds Arrow
 * cannot hold without changing a value (say strings and numbers).
 */
import type { RecordBatch } from 'apache-arrow';
import type { Row } from '../../../core/batch.ts';
import { assignRow, literalRows } from '../../../core/row-literal.ts';
import type { ScannedRecord } from './scan-types.ts';
import { type CellScratch, CellStore } from './cell-store.ts';
import { sealArrow } from './arrow-columns.ts';

/** Columns of one batch being filled; {@link ColumnBatch.seal} makes the batch. */
export class ColumnBatch {
  readonly #store: CellStore;
  readonly #names: readonly string[];
  readonly #arrayRows: boolean;
  readonly #infer: boolean;
  readonly #scratch: CellScratch;

  /**
   * @param names column names (for array rows: `0`, `1`, ...)
   * @param arrayRows rows are arrays (no header)
   * @param infer `cast: true` inference (else every cell is a string)
   * @param rows expected rows, bytes expected per row (capacity hints)
   * @param scratch what the reader's previous batch left; refilled when this one is sealed
   */
  constructor(
    names: readonly string[],
    arrayRows: boolean,
    infer: boolean,
    rows: number,
    bytesPerRow: number,
    scratch: CellScratch,
  ) {
    this.#names = names;
    this.#arrayRows = arrayRows;
    this.#infer = infer;
    this.#scratch = scratch;
    this.#store = new CellStore(names.length, rows, bytesPerRow, scratch);
    // the arrays are this batch's until it is sealed
    scratch.kinds = scratch.nums = scratch.ends = undefined;
  }

  /** Number of rows filled. */
  get numRows(): number {
    return this.#store.rows;
  }

  /** Appends the scanner's current record (it has exactly as many fields as there are columns). */
  add(scanner: ScannedRecord, windowAscii: boolean, decode: (f: number) => string): void {
    const store = this.#store;
    store.beginRow();
    store.fillRow(scanner, this.#infer, windowAscii, decode);
    store.endRow();
  }

  /** The batch as Arrow when every column has one type, else as rows. */
  seal(): { arrow: RecordBatch } | { rows: Row[] } {
    const arrow = sealArrow(this.#store, this.#names, this.#arrayRows);
    const sealed = arrow ? { arrow } : { rows: this.rows() };
    this.#store.release(this.#scratch);
    return sealed;
  }

  /** The batch as rows (before the store is released). */
  private rows(): Row[] {
    const store = this.#store;
    const n = store.rows;
    const rows = new Array<Row>(n);
    const make = rowMaker(this.#names, this.#arrayRows);
    for (let i = 0; i < n; i++) rows[i] = make(store, i);
    return rows;
  }
}

// literal row makers and the key-by-key fallback are shared with Arrow and Parquet rows
export { assignRow, literalRows };

/** A function building row `i` of a store: an object literal with the header's keys (one hidden class), or an array. */
function rowMaker(names: readonly string[], arrayRows: boolean): (store: CellStore, i: number) => Row {
  if (arrayRows) return (store, i) => Array.from({ length: store.width }, (_, c) => store.value(i, c));
  if (!literalRows(names)) return (store, i) => assignRow(names, (c) => store.value(i, c));
  const body = `return { ${names.map((name, c) => `${JSON.stringify(name)}: s.value(i, ${c})`).join(', ')} };`;
  return new Function('s', 'i', body) as (store: CellStore, i: number) => Row;
}
