/**
 * Row objects built by an object literal with the columns' names as constant keys: every row of a
 * layout gets one hidden class at once, where keyed stores (`row[name] = v`) walk the hidden-class
 * transitions per property and are several times slower. The literal keeps a plain row's
 * semantics: a repeated name keeps its first position and its last value. A `__proto__` column
 * (a literal would set the prototype) and very wide layouts (one compiled function per layout is
 * not worth it) are built key by key instead.
 */
import type { Row } from './row.ts';

/**
 * Widest layout built by a literal. Wider, V8 keeps the object in dictionary mode anyway, and
 * compiling a literal of 100,000 keys cost over 100 MB.
 */
const LITERAL_MAX_COLUMNS = 1000;
/** Layouts whose makers are kept; past it the cache starts over (a run rarely has more than a few). */
const CACHE_MAX = 64;

/** Builds row `i` from per-column value arrays. */
export type ColumnsRowMaker = (columns: readonly ArrayLike<unknown>[], i: number) => Row;

const cache = new Map<string, ColumnsRowMaker>();

/** True when rows with these names can be built by a literal. */
export function literalRows(names: readonly string[]): boolean {
  return names.length <= LITERAL_MAX_COLUMNS && !names.includes('__proto__');
}

/** A row built key by key (a repeated name keeps its first position and its last value). */
export function assignRow(names: readonly string[], value: (c: number) => unknown): Row {
  const row: Record<string, unknown> = {};
  for (let c = 0; c < names.length; c++) {
    const name = names[c]!;
    if (name === '__proto__')
      Object.defineProperty(row, name, { value: value(c), enumerable: true, writable: true, configurable: true });
    else row[name] = value(c);
  }
  return row;
}

/** The maker of rows keyed by `names` from column arrays (`columns[c][i]` is column c's value in row i). */
export function columnsRowMaker(names: readonly string[]): ColumnsRowMaker {
  if (!literalRows(names)) return (columns, i) => assignRow(names, (c) => columns[c]![i]);
  const key = names.join('\u0000');
  let maker = cache.get(key);
  if (maker === undefined) {
    const body = `return { ${names.map((name, c) => `${JSON.stringify(name)}: k[${c}][i]`).join(', ')} };`;
    maker = new Function('k', 'i', body) as ColumnsRowMaker;
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, maker);
  }
  return maker;
}
