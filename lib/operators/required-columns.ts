/**
 * The columns an operator reads (keys, aggregated columns), checked against its input: a name the
 * input does not have is a SchemaMismatchError naming it, as in SQL, where it read as null in
 * every row (a typo in `groupBy('symbl', ...)` made one group of nulls, `distinct(['nope'])` one
 * row, a join on a missing key no rows, silently). An Arrow batch has its columns in its schema:
 * checked at once. Rows may leave out a column (JSON Lines, sparse objects): a column is missing
 * only when no input row had it, checked when the input ends.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Batch } from '../core/batch.ts';
import { SchemaMismatchError, describeValue } from '../core/errors.ts';

/** One column an operator reads, and what for (`key`, `column of sum`). */
export interface RequiredColumn {
  readonly name: string;
  readonly role: string;
}

/** See the module comment. */
export class RequiredColumns {
  readonly #operator: string;
  readonly #input: string;
  readonly #columns: readonly RequiredColumn[];
  /** Columns no input row has shown yet. */
  readonly #unseen: Set<string>;
  #rows = 0;
  /** Column names of the rows seen (for the message), a few at most. */
  readonly #seen = new Set<string>();

  /** @param input what the input is called in messages (a join's `right input`) */
  constructor(operator: string, columns: readonly RequiredColumn[], input = 'input') {
    this.#operator = operator;
    this.#input = input;
    this.#columns = columns;
    this.#unseen = new Set(columns.map((c) => c.name));
  }

  /** Checks `batch`: an Arrow one at once; rows note the columns they have. */
  note(batch: Batch): void {
    if (batch.hasArrow && !batch.hasRows) this.noteArrow(batch.arrow);
    else this.noteRows(batch.rows);
  }

  /** Checks an Arrow batch's columns (one of no rows may carry none: skipped). */
  noteArrow(batch: RecordBatch): void {
    if (this.#unseen.size === 0 || batch.numRows === 0) return;
    const names = batch.schema.fields.map((f) => f.name);
    for (const column of this.#columns) if (!names.includes(column.name)) throw this.#error(column, names);
    this.#unseen.clear();
  }

  /** Notes the columns `rows` have, until every required one was seen. */
  noteRows(rows: readonly unknown[]): void {
    if (this.#unseen.size === 0) return;
    this.#rows += rows.length;
    for (let i = 0; i < rows.length && this.#unseen.size > 0; i++) {
      const row = rows[i];
      if (typeof row !== 'object' || row === null) continue;
      if (this.#seen.size < 64) for (const key of Object.keys(row)) this.#seen.add(key);
      for (const name of this.#unseen) if (name in row) this.#unseen.delete(name);
    }
  }

  /** The input ended: a column no row had is an error (none when no row came). */
  finish(): void {
    if (this.#rows === 0 || this.#unseen.size === 0) return;
    const column = this.#columns.find((c) => this.#unseen.has(c.name))!;
    throw this.#error(column, [...this.#seen]);
  }

  #error(column: RequiredColumn, names: readonly string[]): SchemaMismatchError {
    return new SchemaMismatchError(
      `${this.#operator} ${column.role} ${describeValue(column.name)} is not a column of its ${this.#input} (it has ${names.join(', ') || 'no columns'})`,
      { stage: this.#operator },
    );
  }
}
