/**
 * Sort key specs: what `sort()`, `topK()` and `convert --sort` accept (`'price'`,
 * `['price', 'ts']`, `[{ column, order, nulls }]`, `price,ts:desc`), checked and resolved into
 * {@link ResolvedSortKey}s for the ordering (sort-keys.ts).
 */
import { ValidationError, describeValue } from '../core/errors.ts';

/** Direction of one sort key. */
export type SortOrder = 'asc' | 'desc';
/** Where NULLs go for one sort key. */
export type NullsOrder = 'first' | 'last';
/** How strings compare: UTF-8 bytes (default, as DuckDB) or the locale's collation. */
export type Collation = 'binary' | 'locale';

/** One sort key, spelled out. */
export interface SortKey {
  /** Column name. */
  column: string;
  /** `asc` (default) or `desc`. */
  order?: SortOrder;
  /** `last` (default, in both directions, as DuckDB) or `first`. */
  nulls?: NullsOrder;
}

/** What `sort()` and `topK()` accept as keys: a column, a list of columns, or key objects. */
export type SortKeys = string | SortKey | readonly (string | SortKey)[];

/** A checked sort key. */
export interface ResolvedSortKey {
  readonly column: string;
  /** 1 ascending, -1 descending. */
  readonly dir: 1 | -1;
  /** -1 when NULLs go first, 1 when last. */
  readonly nulls: 1 | -1;
}

const KEY_FIELDS = new Set(['column', 'order', 'nulls']);

/**
 * Checks and resolves a key spec; throws {@link ValidationError} naming `path`.
 *
 * @example parseSortKeys(['price', { column: 'ts', order: 'desc' }])
 */
export function parseSortKeys(keys: SortKeys, path = 'keys'): ResolvedSortKey[] {
  const list: readonly unknown[] = Array.isArray(keys) ? keys : [keys];
  if (list.length === 0)
    throw new ValidationError(`Expected \`${path}\` to name at least one column, got an empty list`);
  const seen = new Set<string>();
  return list.map((item, k) => {
    const at = Array.isArray(keys) ? `${path}[${k}]` : path;
    let column: unknown;
    let order: unknown = 'asc';
    let nulls: unknown = 'last';
    if (typeof item === 'string') column = item;
    else if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      for (const key of Object.keys(item))
        if (!KEY_FIELDS.has(key))
          throw new ValidationError(`Unknown option \`${at}.${key}\` (expected column, order, nulls)`);
      const spec = item as SortKey;
      column = spec.column;
      order = spec.order ?? 'asc';
      nulls = spec.nulls ?? 'last';
    } else
      throw new ValidationError(
        `Expected \`${at}\` to be a column name or { column, order?, nulls? }, got ${describeValue(item)}`,
      );
    if (typeof column !== 'string' || column === '')
      throw new ValidationError(
        `Expected \`${at}${typeof item === 'string' ? '' : '.column'}\` to be a non-empty column name, got ${describeValue(column)}`,
      );
    if (order !== 'asc' && order !== 'desc')
      throw new ValidationError(`Expected \`${at}.order\` to be 'asc' or 'desc', got ${describeValue(order)}`);
    if (nulls !== 'first' && nulls !== 'last')
      throw new ValidationError(`Expected \`${at}.nulls\` to be 'first' or 'last', got ${describeValue(nulls)}`);
    if (seen.has(column)) throw new ValidationError(`\`${path}\` names column ${describeValue(column)} twice`);
    seen.add(column);
    return { column, dir: order === 'asc' ? 1 : -1, nulls: nulls === 'first' ? -1 : 1 } as ResolvedSortKey;
  });
}

/**
 * Parses the CLI's `price,ts:desc,note:asc:nulls-first` into key objects.
 * Throws {@link ValidationError} on a malformed item.
 */
export function parseSortFlag(text: string, flag = '--sort'): SortKey[] {
  return text.split(',').map((part) => {
    const [column = '', ...mods] = part.trim().split(':');
    if (column === '')
      throw new ValidationError(
        `${flag} must be a comma-separated list of columns (price,ts:desc), got ${describeValue(text)}`,
      );
    const key: SortKey = { column };
    for (const mod of mods) {
      if (mod === 'asc' || mod === 'desc') key.order = mod;
      else if (mod === 'nulls-first' || mod === 'nulls-last') key.nulls = mod === 'nulls-first' ? 'first' : 'last';
      else
        throw new ValidationError(
          `${flag}: unknown modifier ${describeValue(mod)} in ${describeValue(part)} (asc, desc, nulls-first, nulls-last)`,
        );
    }
    return key;
  });
}
