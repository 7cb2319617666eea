/**
 * The in-memory table of the hash operators: a trie of Maps, one level per key column, keyed by
 * each value's canonical form. Looking a row up reads its key values and does one Map lookup per
 * column, with no key string built per row: CSV and Arrow strings arrive interned or cached with
 * their hash, so a lookup allocates nothing, where concatenating an encoded key per row allocated
 * a string and hashed it anew (the cost that dominated groupBy and distinct, and their garbage).
 *
 * Canonical forms give the equality of the canonical key encoding (key-encoding.ts), which spill
 * partitions still use: Map's SameValueZero already equates NaN with NaN and -0 with 0; a bigint
 * in the safe range becomes its number (an integer equals the same bigint); null and undefined
 * are one key; every other value (unsafe integers, dates, bytes, objects) becomes its encoding
 * behind a lone-surrogate mark, and a string that starts with that mark is escaped, so a string
 * never meets another type's form.
 */
import { encodeValue, type KeyGetter } from './key-encoding.ts';

/** Starts the canonical form of values that are not their own Map key (a lone low surrogate). */
const MARK = '\udfff';
const MARK_CODE = 0xdfff;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Estimated bytes of one Map entry, and of a new (small) inner Map. */
export const TRIE_ENTRY_BYTES = 40;
const TRIE_NODE_BYTES = 160;

/** The Map key of `value` under SQL grouping equality (see the module comment). */
export function canonicalKey(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return value.charCodeAt(0) === MARK_CODE ? `${MARK}s${value}` : value;
    case 'number':
      return Number.isInteger(value) && !Number.isSafeInteger(value) ? MARK + encodeValue(value, false) : value;
    case 'bigint':
      return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : MARK + encodeValue(value, false);
    case 'boolean':
      return value;
    case 'undefined':
      return null;
    default:
      return value === null ? null : MARK + encodeValue(value, false);
  }
}

type Level = Map<unknown, unknown>;

/**
 * Groups keyed by the values of `depth` key columns. {@link KeyTrie.find} looks a row up and
 * remembers where it ended, so that {@link KeyTrie.insert} or {@link KeyTrie.replace} right
 * after it need no second walk.
 */
export class KeyTrie<G> {
  readonly #depth: number;
  #root: Level = new Map();
  #leaf: Level = this.#root;
  #leafKey: unknown;
  /** Inner levels the last failed {@link KeyTrie.find} stopped above (0: the leaf level exists). */
  #missing = 0;
  #path: unknown[] = [];
  /** Groups held. */
  size = 0;

  /** @param depth number of key columns (at least 1) */
  constructor(depth: number) {
    this.#depth = depth;
  }

  /** The group of the values `keys` read from `row` (one per level), or undefined; remembers the spot. */
  find(row: object, keys: readonly KeyGetter[]): G | undefined {
    const last = this.#depth - 1;
    let level = this.#root;
    for (let i = 0; i < last; i++) {
      const key = canonicalKey(keys[i]!(row));
      const next = level.get(key) as Level | undefined;
      if (next === undefined) {
        // remember the rest of the path for insert()
        this.#leaf = level;
        this.#missing = last - i;
        const path = this.#path;
        path.length = 0;
        path.push(key);
        for (let j = i + 1; j <= last; j++) path.push(canonicalKey(keys[j]!(row)));
        return undefined;
      }
      level = next;
    }
    const key = canonicalKey(keys[last]!(row));
    this.#leaf = level;
    this.#leafKey = key;
    this.#missing = 0;
    return level.get(key) as G | undefined;
  }

  /** Adds `group` where the last {@link KeyTrie.find} missed; returns the estimated bytes added. */
  insert(group: G): number {
    let level = this.#leaf;
    let bytes = TRIE_ENTRY_BYTES;
    if (this.#missing > 0) {
      const path = this.#path;
      for (let i = 0; i < this.#missing; i++) {
        const next: Level = new Map();
        level.set(path[i], next);
        level = next;
        bytes += TRIE_NODE_BYTES + TRIE_ENTRY_BYTES;
      }
      this.#leaf = level;
      this.#leafKey = path[this.#missing];
      this.#missing = 0;
    }
    level.set(this.#leafKey, group);
    this.size++;
    return bytes;
  }

  /** Replaces the group the last {@link KeyTrie.find} found. */
  replace(group: G): void {
    this.#leaf.set(this.#leafKey, group);
  }

  /** Every group; with `drain`, each top-level branch leaves the trie once visited (so it can be collected). */
  *groups(drain = false): Generator<G> {
    const root = this.#root;
    if (this.#depth === 1) {
      for (const [key, group] of root) {
        if (drain) root.delete(key);
        yield group as G;
      }
    } else {
      for (const [key, level] of root) {
        if (drain) root.delete(key);
        yield* walk<G>(level as Level, this.#depth - 1);
      }
    }
    if (drain) this.clear();
  }

  /** Drops every group. */
  clear(): void {
    this.#root = new Map();
    this.#leaf = this.#root;
    this.#missing = 0;
    this.size = 0;
  }
}

function* walk<G>(level: Level, depth: number): Generator<G> {
  if (depth === 1) {
    yield* level.values() as IterableIterator<G>;
    return;
  }
  for (const next of level.values()) yield* walk<G>(next as Level, depth - 1);
}

/**
 * The canonical key encoding of a group's key values (what keyEncoder gives for a row holding
 * them), which spill partitions hash and merge by.
 */
export function encodeKeyValues(values: readonly unknown[]): string {
  if (values.length === 1) {
    const v = values[0];
    return typeof v === 'string' ? `s${v}` : encodeValue(v, false);
  }
  let key = '';
  for (const v of values) key += encodeValue(v, true);
  return key;
}
