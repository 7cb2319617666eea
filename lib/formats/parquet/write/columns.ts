/**
 * The columns of a Parquet file being written and the row group filling: the schema (declared,
 * or inferred from the first rows or Arrow batch), one {@link ColumnBuffer} per column, and the
 * appending of rows and Arrow batches with their checks and exact widenings (schema drift).
 */
import { mismatchHint, unwritableReason } from './mismatch-hint.ts';
import type { Data, DataType, RecordBatch } from 'apache-arrow';
import { FormatError, SchemaMismatchError, UnsupportedError, describeValue } from '../../../core/errors.ts';
import { logger } from '../../../core/stage.ts';
import { ColumnBuffer } from '../encode/column-buffer.ts';
import { appendArrow, arrowBytes, kindOfField } from '../encode/arrow.ts';
import { appendArrowRows, arrowBytesAt, rowsAt } from '../encode/arrow-rows.ts';
import { selectData, type RowSelection } from '../../arrow/select.ts';
import { widenKind } from '../encode/drift.ts';
import { dateKind, kindOfValue, pushValue } from '../encode/rows.ts';
import { decimalOfArrow, isLocalTimestamp, widthOf, type ColumnKind } from '../encode/schema.ts';
import type { Field } from './options.ts';
import { NestedColumn } from '../encode/nested-column.ts';
import { widenField } from './widen-field.ts';
import { inferNested } from '../encode/nested-js.ts';
import { isNestedArrow, nodeOfArrow, repeatedStructField } from '../encode/nested-arrow.ts';
import { describeNode, type NestedNode } from '../encode/nested-schema.ts';

const log = logger('parquet-writer');

/** Where each file column is in an Arrow batch (-1: absent), and its Arrow kind. */
export interface ArrowMap {
  index: number[];
  kinds: (ColumnKind | undefined)[];
}

/** The writer's columns and the rows buffered for the next row group. */
export class ColumnSet {
  fields: Field[] | undefined;
  /** True when the schema was inferred: drift may widen the first row group's columns. */
  inferred = false;
  known: Set<string> | undefined;
  columns: ColumnBuffer[] = [];
  pendingRows = 0;
  /** Rows appended in earlier row groups (flushed or in flight): the index of the next row. */
  rowsSeen = 0;
  /** Row groups flushed (encoded) so far: the schema is frozen after the first. */
  groupsFlushed = 0;
  /** Arrow schema last seen -> index of each file column in it (-1: absent). */
  #arrowMap: (ArrowMap & { schema: unknown }) | undefined;

  constructor(
    private readonly path: string,
    private readonly limits: { readonly rowGroupSize: number; readonly rowGroupBytes: number },
  ) {}

  /** Sets the file's columns (declared, inferred or resumed) and empty buffers for them. */
  setFields(fields: Field[], inferred: boolean): void {
    this.fields = fields;
    this.inferred = inferred;
    this.known = new Set(fields.map((f) => f.name));
    this.columns = fields.map((f) => {
      if (f.nested) return new NestedColumn(f.name, f.nested, f.nullable);
      const col = new ColumnBuffer(f.type, f.nullable);
      col.decimal = f.decimal;
      return col;
    });
  }

  /** The columns as the footer describes them. */
  schemaColumns(): { name: string; kind: ColumnKind; nullable: boolean }[] {
    return this.fields!.map((f) => ({
      name: f.name,
      kind: f.type,
      nullable: f.nullable,
      ...(f.nested ? { nested: f.nested } : {}),
      ...(f.decimal ? { decimal: f.decimal } : {}),
      ...(f.local ? { local: f.local } : {}),
    }));
  }

  /** Columns still of kind `null` when their first row group is flushed become strings. */
  resolveNullKinds(): void {
    this.fields!.forEach((f, c) => {
      const col = this.columns[c];
      if (col instanceof NestedColumn) col.resolveNullLeaves();
      if (f.type !== 'null') return;
      f.type = 'string';
      this.columns[c]?.widen('string');
    });
  }

  /** Infers the columns from rows; `columns` (the source's order) comes first when given. */
  inferFromRows(rows: readonly Record<string, unknown>[], columns?: readonly string[]): void {
    const types = new Map<string, ColumnKind>((columns ?? []).map((name) => [name, 'null']));
    for (const row of rows) {
      for (const [k, v] of Object.entries(row)) {
        const t = types.get(k);
        if (t === undefined || t === 'null') types.set(k, inferType(v));
      }
    }
    if (types.size === 0)
      throw new FormatError('Cannot infer a Parquet schema without columns; declare `schema`', { file: this.path });
    this.setFields(
      [...types].map(([name, type]) => {
        // arrays, plain objects and Maps whose values agree on one type: LIST, STRUCT, MAP (else JSON text)
        const nested = type === 'json' ? inferNested(rows.map((row) => row[name])) : undefined;
        return nested ? { name, type, nullable: true, nested } : { name, type, nullable: true };
      }),
      true,
    );
  }

  /** Infers the columns from an Arrow batch's fields. */
  inferFromArrow(batch: RecordBatch, batchIndex: number | undefined): void {
    const fields: Field[] = batch.schema.fields.map((f) => {
      const repeated = isNestedArrow(f.type) ? repeatedStructField(f.type, f.name) : undefined;
      if (repeated !== undefined) {
        throw new UnsupportedError(
          `Column \`${f.name}\` has two struct fields named ${repeated} (Arrow type ${String(f.type)}): Parquet readers find a struct's fields by name; rename one first`,
          { file: this.path, batch: batchIndex },
        );
      }
      const nested = isNestedArrow(f.type) ? nodeOfArrow(f.type) : undefined;
      if (nested) return { name: f.name, type: 'json', nullable: true, nested };
      const kind = kindOfField(f);
      if (kind === undefined) {
        throw new UnsupportedError(
          `Column \`${f.name}\` has Arrow type ${String(f.type)}, which the Parquet writer cannot write${unwritableReason(f.type)}; map it to a supported type first`,
          { file: this.path, batch: batchIndex },
        );
      }
      const decimal = decimalOfArrow(f.type);
      return {
        name: f.name,
        type: kind,
        nullable: true,
        ...(decimal ? { decimal } : {}),
        ...(isLocalTimestamp(f.type) ? { local: true as const } : {}),
      };
    });
    if (fields.length === 0)
      throw new FormatError('Cannot infer a Parquet schema without columns; declare `schema`', {
        file: this.path,
        batch: batchIndex,
      });
    this.setFields(fields, true);
  }

  /** Where each file column is in `batch` and its Arrow kind (cached per schema). */
  mapArrow(batch: RecordBatch, batchIndex: number | undefined): { index: number[]; kinds: (ColumnKind | undefined)[] } {
    if (this.#arrowMap?.schema === batch.schema) return this.#arrowMap;
    const fields = this.fields!;
    const names = batch.schema.fields.map((f) => f.name);
    for (const name of names) {
      if (!this.known!.has(name)) {
        throw new SchemaMismatchError(
          `Batch has column \`${name}\`, which the Parquet schema lacks; declare the column types (\`cast\` or \`types\` in fromCsv, \`schema\` in toParquet)`,
          { file: this.path, batch: batchIndex },
        );
      }
    }
    const index = fields.map((f) => names.indexOf(f.name));
    const kinds = index.map((i, c) => {
      if (i < 0) return undefined;
      const field = batch.schema.fields[i]!;
      // a column all null so far takes the nested type of the first batch that has one
      if (isNestedArrow(field.type) && !fields[c]!.nested) this.#toNested(c, nodeOfArrow(field.type));
      // a nested column checks its values as it shreds them
      if (fields[c]!.nested) return 'json';
      const kind = kindOfField(field);
      if (kind === undefined) {
        throw new UnsupportedError(
          `Column \`${fields[c]!.name}\` has Arrow type ${String(field.type)}, which the Parquet writer cannot write; map it to a supported type first`,
          { file: this.path, batch: batchIndex },
        );
      }
      // wall-clock and UTC times of an inferred column do not mix (a declared `timestamp` takes either)
      const f = fields[c]!;
      if (
        this.inferred &&
        kind.startsWith('timestamp') &&
        f.type.startsWith('timestamp') &&
        (f.local === true) !== isLocalTimestamp(field.type)
      ) {
        throw new SchemaMismatchError(
          `Column \`${fields[c]!.name}\` holds ${fields[c]!.local ? 'wall-clock timestamps (no time zone)' : 'UTC timestamps'} but this batch has Arrow type ${String(field.type)}`,
          { file: this.path, batch: batchIndex },
        );
      }
      return kind;
    });
    this.#arrowMap = { schema: batch.schema, index, kinds };
    return this.#arrowMap;
  }

  /**
   * How many of the next `available` rows go into the current row group (its bounds are per row,
   * as on the rows path); with `rows`, of the rows at those indices (a filter's kept rows).
   */
  rowsThatFit(
    children: Data<DataType>[],
    index: number[],
    offset: number,
    available: number,
    rows?: RowSelection,
  ): number {
    let take = Math.min(available, this.limits.rowGroupSize - this.pendingRows);
    const room = this.limits.rowGroupBytes - this.bufferedBytes();
    const bytes = (k: number): number => {
      let sum = 0;
      this.columns.forEach((col, c) => {
        const i = index[c]!;
        sum +=
          col instanceof NestedColumn
            ? k * (col.n > 0 ? col.bytes / col.n : 16)
            : i < 0
              ? k * (widthOf(col.storage) + (col.nullable ? 1 : 0))
              : rows
                ? arrowBytesAt(children[i]!, widthOf(col.storage), col.nullable, rows, offset, k)
                : arrowBytes(children[i]!, widthOf(col.storage), col.nullable, offset, k);
      });
      return sum;
    };
    if (bytes(take) < room) return take;
    // the smallest k whose rows reach the byte bound (the row at which the rows path would flush)
    let lo = 1;
    let hi = take;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bytes(mid) >= room) hi = mid;
      else lo = mid + 1;
    }
    take = lo;
    return take;
  }

  /**
   * Appends `count` rows of an Arrow batch from `offset` (with `rows`, the rows at `rows[offset]`
   * on: a filter's kept rows, read where they are), widening or refusing a column that does not fit.
   */
  appendArrow(
    children: Data<DataType>[],
    map: { index: number[]; kinds: (ColumnKind | undefined)[] },
    offset: number,
    count: number,
    batchIndex: number | undefined,
    rows?: RowSelection,
  ): void {
    const fields = this.fields!;
    const before = this.columns.map((col) => col.n);
    try {
      this.columns.forEach((col, c) => {
        const i = map.index[c]!;
        const field = fields[c]!;
        if (i < 0) {
          if (!col.nullable)
            throw new FormatError(`Column \`${field.name}\` is not nullable but the batch lacks it`, {
              file: this.path,
              batch: batchIndex,
            });
          for (let k = 0; k < count; k++) col.pushNull();
          return;
        }
        if (col instanceof NestedColumn)
          return rows
            ? this.#appendNestedArrow(
                col,
                field,
                selectData(children[i]!, rowsAt(rows, offset, count)),
                0,
                count,
                batchIndex,
              )
            : this.#appendNestedArrow(col, field, children[i]!, offset, count, batchIndex);
        const source = map.kinds[c]!;
        const data = children[i]!;
        const append = () =>
          rows
            ? appendArrowRows(col, data, source, rows, offset, count)
            : appendArrow(col, data, source, offset, count);
        let failure = append();
        if (failure === undefined) return;
        const wider = this.canWiden() ? widenKind(col.kind, source) : undefined;
        if (wider !== undefined && wider !== col.kind && col.widen(wider)) {
          log(
            'column %s widened from %s to %s in the first row group (batch %d)',
            field.name,
            field.type,
            wider,
            batchIndex,
          );
          widenField(field, col, wider, data.type);
          failure = append();
          if (failure === undefined) return;
        }
        // one kind on both sides (two decimals of other scales): the Arrow type says how they differ
        const got = source === field.type ? String(data.type) : source;
        const what = `Column \`${field.name}\` is ${field.type} in the Parquet file but ${got} in batch ${batchIndex ?? '?'} (${failure})`;
        if (!this.inferred)
          throw new FormatError(`${what}; change the declared \`schema\` or convert the column first`, {
            file: this.path,
            batch: batchIndex,
          });
        throw new SchemaMismatchError(
          `${what}; declare the column types (\`cast\` or \`types\` in fromCsv, \`schema\` in toParquet)`,
          { file: this.path, batch: batchIndex },
        );
      });
    } catch (error) {
      // keep the columns aligned: drop the part of the batch already appended
      this.columns.forEach((col, c) => col.truncate(before[c]!));
      throw error;
    }
    this.pendingRows += count;
  }

  #appendNestedArrow(
    col: NestedColumn,
    field: Field,
    data: Data<DataType>,
    offset: number,
    count: number,
    batchIndex: number | undefined,
  ): void {
    col.canWiden = this.canWiden();
    const failure = col.appendArrowRows(data, offset, count);
    if (failure === undefined) return;
    this.#nestedMismatch(field, `${String(data.type)} in batch ${batchIndex ?? '?'}: ${atPath(field.name, failure)}`, {
      batch: batchIndex,
    });
  }

  /** A nested value that does not fit its column: SchemaMismatchError (inferred schema) or FormatError. */
  #nestedMismatch(field: Field, what: string, where: { batch?: number; row?: number }): never {
    const message = `Column \`${field.name}\` is ${describeNode(field.nested!)} in the Parquet file but got ${what}`;
    if (!this.inferred) throw new FormatError(`${message}; convert the column first`, { file: this.path, ...where });
    throw new SchemaMismatchError(
      `${message}; the nested type is inferred from the first batch: make the first batch representative or convert the column`,
      { file: this.path, ...where },
    );
  }

  /** Buffered columns may be re-typed only before the first row group is encoded, and only for an inferred schema. */
  canWiden(): boolean {
    return this.inferred && this.groupsFlushed === 0;
  }

  /**
   * Makes column `c`, all null so far, the nested column `node` with those nulls, while the first
   * row group is open (an inferred schema). Without it a column whose first batch held only nulls
   * became JSON text when lists came later from rows (DuckDB read it as JSON, not a LIST), and
   * refused them from Arrow. False when it cannot: the caller goes on as before.
   */
  #toNested(c: number, node: NestedNode | undefined): boolean {
    const f = this.fields![c]!;
    const col = this.columns[c]!;
    if (node === undefined || !this.canWiden() || f.type !== 'null' || col instanceof NestedColumn) return false;
    const nested = new NestedColumn(f.name, node, f.nullable);
    nested.canWiden = true;
    for (let i = 0; i < col.n; i++) nested.pushNull();
    this.fields![c] = { ...f, type: 'json', nested: node };
    this.columns[c] = nested;
    this.#arrowMap = undefined;
    log('column %s, null so far, became %s in the first row group', f.name, describeNode(node));
    return true;
  }

  /** Converts one row into the column buffers. */
  appendRow(row: Record<string, unknown>): void {
    const fields = this.fields!;
    const rowIndex = this.rowsSeen + this.pendingRows;
    // no column may be dropped: one that shows up later than the inferred schema, or that a declared
    // schema lacks (a misspelt name would write nulls). A row whose keys are as many as the columns,
    // none missing, has no other (counting them costs a fifth of looking each up)
    let keys = 0;
    for (const _ in row) keys++;
    const columns = this.columns;
    let c = 0;
    try {
      for (; c < fields.length; c++) {
        const f = fields[c]!;
        const col = columns[c]!;
        const value = row[f.name];
        if (value === undefined && keys === fields.length && !(f.name in row)) keys = -2;
        if (col instanceof NestedColumn) {
          col.canWiden = this.canWiden();
          const why = col.appendValue(value);
          if (why !== undefined)
            this.#nestedMismatch(f, `${describeValue(value)}: ${atPath(f.name, why)}`, { row: rowIndex });
          continue;
        }
        if (value === null || value === undefined) {
          if (!f.nullable)
            throw new FormatError(`Column \`${f.name}\` is not nullable but got ${describeValue(value)}`, {
              file: this.path,
              row: rowIndex,
            });
          col.pushNull();
        } else if (!pushValue(col, value)) {
          // a list or struct in a column all null so far: a nested column, as if the first batch had it
          if (f.type === 'null' && inferType(value) === 'json' && this.#toNested(c, inferNested([value]))) {
            const why = (columns[c] as NestedColumn).appendValue(value);
            if (why !== undefined)
              this.#nestedMismatch(fields[c]!, `${describeValue(value)}: ${atPath(f.name, why)}`, { row: rowIndex });
            continue;
          }
          const wider = this.canWiden()
            ? widenKind(col.kind, f.type === 'null' ? inferType(value) : (kindOfValue(value) ?? f.type))
            : undefined;
          if (wider === undefined || wider === col.kind || !col.widen(wider) || !pushValue(col, value)) {
            const fix = mismatchHint(value, f.name, String(f.type), this.inferred);
            throw new FormatError(
              `Column \`${f.name}\` has type ${f.type === 'null' ? 'null' : f.type} but got ${describeValue(value)}${fix}`,
              { file: this.path, row: rowIndex },
            );
          }
          f.type = wider;
        }
      }
      if (keys !== fields.length) this.#knownColumns(row, rowIndex);
    } catch (error) {
      // keep the columns aligned: drop the part of the refused row already appended
      const n = this.pendingRows;
      for (let k = 0; k < c; k++) columns[k]!.truncate(n);
      throw error;
    }
    this.pendingRows++;
  }

  /** Throws when `row` has a column the inferred schema lacks. */
  #knownColumns(row: Record<string, unknown>, rowIndex: number): void {
    for (const key in row) {
      if (!this.known!.has(key)) {
        throw new FormatError(
          this.inferred
            ? `Row has column \`${key}\`, which the Parquet schema inferred from the first rows lacks; declare \`options.schema\``
            : `Row has column \`${key}\`, which the declared \`options.schema\` lacks; add it to the schema, or drop it (\`select\`) before the sink`,
          { file: this.path, row: rowIndex },
        );
      }
    }
  }

  /** Bytes buffered in the row group filling. */
  bufferedBytes(): number {
    let sum = 0;
    for (const col of this.columns) sum += col.bytes;
    return sum;
  }

  /** True when the row group filling has reached its row or byte bound. */
  full(): boolean {
    return this.pendingRows >= this.limits.rowGroupSize || this.bufferedBytes() >= this.limits.rowGroupBytes;
  }
}

/** A shredder's reason with the column name in front of its path (`pos.tags[0]: ...`). */
function atPath(name: string, why: string): string {
  return why.startsWith('.') || why.startsWith('[') ? `at ${name}${why}` : why;
}

/** The kind a column gets from its first non-null value. */
export function inferType(value: unknown): ColumnKind {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'bigint') return 'int64';
  if (typeof value === 'string') return 'string';
  if (value instanceof Date) return dateKind(value);
  if (value instanceof Uint8Array) return 'binary';
  return 'json';
}
