/**
 * A nested column of the row group filling: to the column set it is one column (`n` counts rows,
 * `pushNull`, `truncate` and `reset` work on rows), while its values live in one leaf
 * {@link ColumnBuffer} per Parquet leaf column, each with its levels; the row group encoder
 * encodes the leaves (see {@link encodedColumns}). A value is shredded into all leaves or, when
 * it does not fit, into none (the leaves are cut back to the row's start).
 */
import type { Data, DataType } from 'apache-arrow';
import { ColumnBuffer } from './column-buffer.ts';
import { widenKind } from './drift.ts';
import { NestedLevels } from './levels.ts';
import { arrowAccess, type ArrowAt } from './nested-arrow.ts';
import { jsAccess } from './nested-js.ts';
import { nestedLeaves, type NestedLeaf, type NestedNode } from './nested-schema.ts';
import { Shredder } from './nested-shred.ts';
import type { ColumnKind } from './schema.ts';

/** One nested column: its type, leaves and their buffers. */
export class NestedColumn extends ColumnBuffer {
  readonly node: NestedNode;
  readonly leafInfo: NestedLeaf[];
  readonly leaves: ColumnBuffer[];
  /** Leaves may be re-typed (only-null leaves, exact widenings) while this is true. */
  canWiden = false;
  readonly #rows: Shredder<unknown>;
  readonly #arrow: Shredder<ArrowAt>;

  constructor(name: string, node: NestedNode, nullable: boolean) {
    super('json', nullable);
    this.node = node;
    this.leafInfo = nestedLeaves(name, node, nullable);
    this.leaves = this.leafInfo.map((leaf) => {
      const col = new ColumnBuffer(leaf.node.kind, true);
      col.decimal = leaf.node.decimal;
      col.levels = new NestedLevels(leaf.maxDef, leaf.maxRep);
      return col;
    });
    const widen = (col: ColumnBuffer, leaf: { kind: ColumnKind }, to: ColumnKind): boolean =>
      this.#widen(col, leaf, to);
    this.#rows = new Shredder(this.leaves, jsAccess(widen));
    this.#arrow = new Shredder(this.leaves, arrowAccess(widen));
  }

  #widen(col: ColumnBuffer, leaf: { kind: ColumnKind }, to: ColumnKind): boolean {
    if (!this.canWiden) return false;
    const wider = widenKind(col.kind, to);
    if (wider === undefined || wider === col.kind || !col.widen(wider)) return false;
    leaf.kind = wider;
    return true;
  }

  override get bytes(): number {
    let sum = 0;
    for (const leaf of this.leaves) sum += leaf.bytes;
    return sum;
  }

  /** Appends a row's value; why it does not fit (nothing appended then), or undefined. */
  appendValue(value: unknown): string | undefined {
    const before = this.leaves.map((leaf) => leaf.n);
    const why = this.#rows.record(this.node, value, this.nullable);
    if (why !== undefined) {
      this.leaves.forEach((leaf, k) => leaf.truncate(before[k]!));
      return why;
    }
    this.n++;
    return undefined;
  }

  /** Appends rows [start, start + count) of Arrow data; why a row does not fit (nothing appended then). */
  appendArrowRows(data: Data<DataType>, start: number, count: number): string | undefined {
    const before = this.leaves.map((leaf) => leaf.n);
    for (let i = start; i < start + count; i++) {
      const why = this.#arrow.record(this.node, { d: data, i }, this.nullable);
      if (why !== undefined) {
        this.leaves.forEach((leaf, k) => leaf.truncate(before[k]!));
        return why.startsWith('.') || why.startsWith('[')
          ? `${why} (row ${i} of the batch)`
          : `row ${i} of the batch: ${why}`;
      }
    }
    this.n += count;
    return undefined;
  }

  override pushNull(): void {
    const why = this.appendValue(null);
    if (why !== undefined) throw new Error(why);
  }

  override truncate(rows: number): void {
    if (rows >= this.n) return;
    for (const leaf of this.leaves) leaf.truncate(leaf.levels!.entryOfRecord(rows));
    this.n = rows;
  }

  override reset(): void {
    super.reset();
    for (const leaf of this.leaves) leaf.reset();
  }

  override widen(): boolean {
    return false;
  }

  /** Leaves that saw only nulls become strings (when the first row group is flushed). */
  resolveNullLeaves(): void {
    this.leafInfo.forEach((info, k) => {
      if (info.node.kind !== 'null') return;
      info.node.kind = 'string';
      this.leaves[k]!.widen('string');
    });
  }
}

/** The columns the row group encoder encodes: flat columns as they are, nested ones as their leaves. */
export function encodedColumns(columns: readonly ColumnBuffer[]): ColumnBuffer[] {
  return columns.flatMap((col) => (col instanceof NestedColumn ? col.leaves : [col]));
}
