/**
 * A compiled maker of joined rows for one left row shape. Copying a left row and adding the right
 * columns (Object.assign, then one store per column) cost about 3x what one object literal of the
 * output shape costs, because V8 builds a literal from a boilerplate of its final shape where the
 * copy grows the object property by property. The literal is compiled once per join from the
 * column names (quoted with JSON.stringify, so a name is never code), and used only for a left row
 * whose own keys are exactly the expected ones in order; any other row takes the generic path.
 */
import type { Row } from '../core/batch.ts';

/** Widest output compiled (as lib/core/row-literal.ts: a function per wider layout is not worth it). */
const MAX_COLUMNS = 512;

/** Builds `{ ...left, [targets[c]]: columns[c][i] }` for a left row of the expected shape. */
type Maker = (left: Row, columns: readonly (readonly unknown[])[], i: number) => Row;

/** Makes joined rows for left rows shaped as the first one; see the module comment. */
export class JoinedRowMaker {
  readonly #keys: readonly string[];
  readonly #make: Maker;

  private constructor(leftKeys: readonly string[], make: Maker) {
    this.#keys = leftKeys;
    this.#make = make;
  }

  /**
   * A maker for left rows with `leftKeys` and right columns named `targets`; undefined when a
   * literal cannot stand for the generic copy (a `__proto__` name, a name on both lists, or
   * more than 512 names).
   * @param leftKeys the left row shape (its own keys, in order)
   * @param targets output names of the right columns the maker reads, in order
   */
  static compile(leftKeys: readonly string[], targets: readonly string[]): JoinedRowMaker | undefined {
    const names = [...leftKeys, ...targets];
    if (names.length > MAX_COLUMNS || names.includes('__proto__') || new Set(names).size !== names.length)
      return undefined;
    const fields = [
      ...leftKeys.map((k) => `${JSON.stringify(k)}: l[${JSON.stringify(k)}]`),
      ...targets.map((t, c) => `${JSON.stringify(t)}: c[${c}][i]`),
    ];
    // built from JSON-quoted names only: no input becomes code
    const make = new Function('l', 'c', 'i', `return { ${fields.join(', ')} };`) as Maker;
    return new JoinedRowMaker(leftKeys, make);
  }

  /** True when `left`'s own keys are the expected ones, in order. */
  fits(left: Row): boolean {
    const keys = Object.keys(left);
    const expected = this.#keys;
    if (keys.length !== expected.length) return false;
    for (let k = 0; k < keys.length; k++) if (keys[k] !== expected[k]) return false;
    return true;
  }

  /** The joined row of `left` (which {@link JoinedRowMaker.fits}) and right row `i` of `columns`. */
  make(left: Row, columns: readonly (readonly unknown[])[], i: number): Row {
    return this.#make(left, columns, i);
  }
}
