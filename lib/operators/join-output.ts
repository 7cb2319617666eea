/**
 * How a join's output rows are shaped: the left row's columns first, then the right row's. A key
 * column with the same name on both sides appears once (the left value, or the right value on a
 * row only the right side has, as SQL's USING). Any other right column whose name is a column of
 * the left input (as its first batch has them) is renamed `<name>_right`, or `<name>_right2`,
 * `<name>_right3`, ... when that name is taken too: deterministic for given inputs. A later left
 * row with a column its first batch lacked, that a right column's output name would overwrite,
 * is a SchemaMismatchError: sparse JSON rows (`{"id":1}` first, `{"id":2,"name":...}` later)
 * had their `name` replaced by the right side's, silently.
 */
import type { Row } from '../core/batch.ts';
import { SchemaMismatchError } from '../core/errors.ts';
import type { RecordBatch } from 'apache-arrow';

/** The six join kinds. */
export type JoinHow = 'inner' | 'left' | 'right' | 'full' | 'semi' | 'anti';

/** Where a partitioned join's columnar probe hands its output (join-arrow.ts): batches of at most `batchSize` rows. */
export interface JoinArrowSink {
  batchSize: number;
  sink: (out: RecordBatch) => Promise<void>;
}

/**
 * A copy of `row` to add columns to. Not `{ ...row }`: adding properties to a spread copy made
 * V8 build a new hidden class per row (~15x slower than this in the join bench); Object.assign
 * sets `__proto__` rather than defining it, so a row with such a column is spread.
 * @param row the left row
 */
export function copyRow(row: Row): Record<string, unknown> {
  if (Object.hasOwn(row, '__proto__')) return { ...(row as Record<string, unknown>) };
  return Object.assign({}, row) as Record<string, unknown>;
}

/** Builds joined rows for one join. */
export class JoinOutput {
  readonly #sharedKeys: ReadonlySet<string>;
  #leftColumns: string[] | undefined;
  #leftSet: Set<string> | undefined;
  #rightColumns: string[] | undefined;
  readonly #renamed = new Map<string, string | null>();

  /** @param sharedKeys key columns named the same on both sides */
  constructor(sharedKeys: readonly string[]) {
    this.#sharedKeys = new Set(sharedKeys);
  }

  /** Notes the left input's columns (every column of its first batch, in order of first appearance). */
  noteLeft(rows: readonly Row[]): void {
    if (this.#leftColumns) return;
    const names = new Set<string>();
    for (const row of rows) for (const name in row) names.add(name);
    this.noteLeftNames([...names]);
  }

  /** Notes the left input's columns by name (from its first batch's schema, on the columnar probe). */
  noteLeftNames(names: readonly string[]): void {
    if (this.#leftColumns) return;
    this.#leftColumns = [...names];
    this.#leftSet = new Set(this.#leftColumns);
  }

  /** Notes the right input's columns (from its first row). */
  noteRight(row: Row): void {
    this.#rightColumns ??= Object.keys(row);
  }

  /** Notes the right input's columns by name (from its first Arrow batch's schema: a name twice is one column, as in a row). */
  noteRightNames(names: readonly string[]): void {
    this.#rightColumns ??= [...new Set(names)];
  }

  /** The right input's columns (from its first row), once noted. */
  get rightColumns(): readonly string[] | undefined {
    return this.#rightColumns;
  }

  /** The output name of right column `name`; null for a shared key column. */
  rightName(name: string): string | null {
    let out = this.#renamed.get(name);
    if (out !== undefined) return out;
    if (this.#sharedKeys.has(name)) out = null;
    else if (this.#leftSet?.has(name)) {
      out = `${name}_right`;
      for (let n = 2; this.#leftSet.has(out) || (this.#rightColumns?.includes(out) ?? false); n++)
        out = `${name}_right${n}`;
    } else out = name;
    this.#renamed.set(name, out);
    return out;
  }

  /**
   * The right row's output columns as flat `[name, value, name, value, ...]` pairs (shared keys
   * left out, others renamed): a right row matched by many left rows is projected once.
   */
  project(right: Row): unknown[] {
    const pairs: unknown[] = [];
    for (const name in right) {
      const target = this.rightName(name);
      if (target !== null) pairs.push(target, (right as Record<string, unknown>)[name]);
    }
    return pairs;
  }

  /** A matched pair, the right row given by its {@link JoinOutput.project} pairs. */
  withPairs(left: Row, pairs: readonly unknown[]): Row {
    const out = copyRow(left);
    for (let i = 0; i < pairs.length; i += 2) {
      const target = pairs[i] as string;
      if (Object.hasOwn(out, target)) this.clash(target);
      out[target] = pairs[i + 1];
    }
    return out;
  }

  /** A matched pair. */
  both(left: Row, right: Row): Row {
    const out = copyRow(left);
    for (const name in right) {
      const target = this.rightName(name);
      if (target === null) continue;
      if (Object.hasOwn(out, target)) this.clash(target);
      out[target] = (right as Record<string, unknown>)[name];
    }
    return out;
  }

  /** A left row without a match: the right columns are null. */
  leftOnly(left: Row): Row {
    const out = copyRow(left);
    for (const name of this.#rightColumns ?? []) {
      const target = this.rightName(name);
      if (target === null) continue;
      if (Object.hasOwn(out, target)) this.clash(target);
      out[target] = null;
    }
    return out;
  }

  /** Throws: a left row holds output column `target` of a right column (see the module comment). */
  clash(target: string): never {
    throw new SchemaMismatchError(
      `join: a left row has a column \`${target}\` that the left input's first batch did not have, and a right column is written as \`${target}\` (its output name was chosen from that first batch): the left value would be lost. Give the left rows the same columns from the first batch (null where absent), or rename one side's column before the join`,
      {},
    );
  }

  /** A right row without a match: the left columns are null, shared keys take the right value. */
  rightOnly(right: Row): Row {
    const out: Record<string, unknown> = {};
    for (const name of this.#leftColumns ?? []) out[name] = null;
    for (const name in right) {
      const value = (right as Record<string, unknown>)[name];
      const target = this.rightName(name);
      out[target ?? name] = value;
    }
    return out;
  }
}
