/**
 * The in-memory build side of a hash join, held by column: each right column is one flat array of
 * values, rows are indices, and the key trie (key-trie.ts) maps each key to the index of its first
 * row, later rows of the key chained through a typed array. Held this way a right row costs its
 * values and a few slots, where a row object, an entry object and a one-row array per key cost
 * about three times that, and made a large x large join spill what fits (the right rows are
 * dropped once copied). Output reads the right values by index with their output names fixed once.
 */
import type { RecordBatch } from 'apache-arrow';
import { estimateValueBytes, type Row } from '../core/batch.ts';
import { recordBatchColumns } from '../formats/arrow/to-rows.ts';
import { columnGetter, hasNullKey, isNullish, type KeyGetter } from './key-encoding.ts';
import { canonicalKey, KeyTrie } from './key-trie.ts';
import { NumberIndex } from './number-index.ts';
import { copyRow, type JoinOutput } from './join-output.ts';
import { JoinedRowMaker } from './joined-row.ts';

/** A column a row did not have (kept apart from `undefined`, which the row may hold). */
const ABSENT: unique symbol = Symbol('absent');

/** Rows sampled per chunk for the byte estimate. */
const SAMPLE = 32;
/** Typed-array slots per row: chain, chain tail, matched flag. */
const SLOT_BYTES = 4 + 4 + 1;

/** Estimated bytes the values of `rows` take in column arrays (a slot each, plus what they point to). */
function columnBytesPerRow(rows: readonly Row[]): number {
  const step = Math.max(1, Math.floor(rows.length / SAMPLE));
  let bytes = 0;
  let sampled = 0;
  for (let i = 0; i < rows.length; i += step, sampled++) {
    const row = rows[i] as Record<string, unknown>;
    for (const name in row) bytes += 8 + estimateValueBytes(row[name], 0);
  }
  return sampled === 0 ? 0 : bytes / sampled;
}

/** {@link columnBytesPerRow} of rows held by column: `values[c][i]` is row `i`'s value of column `c`. */
function valueBytesPerRow(values: readonly (readonly unknown[])[], n: number): number {
  const step = Math.max(1, Math.floor(n / SAMPLE));
  let bytes = 0;
  let sampled = 0;
  for (let i = 0; i < n; i += step, sampled++)
    for (const column of values) bytes += 8 + estimateValueBytes(column[i], 0);
  return sampled === 0 ? 0 : bytes / sampled;
}

/** Reads the key of a stand-in row `{ v }` (a one-column key read elsewhere than a row). */
const VALUE_GETTER: readonly KeyGetter[] = [(row) => (row as { v: unknown }).v];

/** Writes `from[kept[k]]` at `to[start + k]` for the first `count` of `kept` (with a name twice, a later column overwrites). */
function copyKept(to: unknown[], from: readonly unknown[], kept: Int32Array, count: number, start: number): void {
  for (let k = 0; k < count; k++) to[start + k] = from[kept[k]!];
}

/** A join's right rows by column, found by key; see the module comment. */
export class JoinTable {
  readonly #trie: KeyTrie<number>;
  /** One-column keys that are numbers (see {@link JoinTable.#find}). */
  readonly #numbers: NumberIndex | undefined;
  /** The last {@link JoinTable.#find} looked in {@link JoinTable.#numbers}. */
  #inNumbers = false;
  readonly #get: readonly KeyGetter[];
  readonly #keys: readonly string[];
  readonly #keepNull: boolean;
  readonly #names: string[] = [];
  readonly #index = new Map<string, number>();
  #columns: unknown[][] = [];
  /** Next row of the same key (-1: none). */
  #next = new Int32Array(1024);
  /** For a key's first row: its last row. */
  #tail = new Int32Array(1024);
  #matched = new Uint8Array(1024);
  /** Output name of each column (null: a shared key), fixed at the first output. */
  #targets: (string | null)[] | undefined;
  /** The compiled maker of joined rows and the columns it reads (see joined-row.ts), once made. */
  #maker: { make: JoinedRowMaker | undefined; columns: unknown[][] } | undefined;
  /** Some row lacks a column (the maker would add it). */
  #ragged = false;
  /** Rows held. */
  length = 0;
  /** Estimated bytes held. */
  bytes = 0;

  /**
   * @param keys the right key columns
   * @param keepNull keep rows with a null key (right and full joins output them unmatched)
   */
  constructor(keys: readonly string[], keepNull: boolean) {
    this.#keys = keys;
    this.#get = keys.map(columnGetter);
    this.#trie = new KeyTrie<number>(keys.length);
    this.#numbers = keys.length === 1 ? new NumberIndex() : undefined;
    this.#keepNull = keepNull;
  }

  /** Distinct keys held. */
  get keys(): number {
    return this.#trie.size + (this.#numbers?.size ?? 0);
  }

  /**
   * The first row of the key `getters` read from `row`, or -1; remembers where the key goes for
   * {@link JoinTable.#insert}. A one-column key whose canonical form is a number is looked up in
   * the {@link NumberIndex}, any other key in the trie.
   */
  #find(row: object, getters: readonly KeyGetter[]): number {
    const numbers = this.#numbers;
    if (numbers !== undefined) {
      const key = canonicalKey(getters[0]!(row));
      if (typeof key === 'number') {
        this.#inNumbers = true;
        return numbers.find(key);
      }
      this.#inNumbers = false;
    }
    return this.#trie.find(row, getters) ?? -1;
  }

  /** Adds row `i` as the first of the key the last {@link JoinTable.#find} missed; returns the bytes added. */
  #insert(i: number): number {
    return this.#inNumbers ? this.#numbers!.insert(i) : this.#trie.insert(i);
  }

  /** Adds right rows; returns the estimated bytes added. */
  add(rows: readonly Row[]): number {
    const before = this.bytes;
    const each = columnBytesPerRow(rows) + SLOT_BYTES;
    for (const row of rows) {
      if (hasNullKey(row, this.#keys)) {
        if (!this.#keepNull) continue;
        this.#store(row); // no key: never found, always unmatched
      } else this.#chain(this.#find(row, this.#get), this.#store(row));
      this.bytes += each;
    }
    return this.bytes - before;
  }

  /**
   * Adds the rows of an Arrow batch read by column, with the values {@link Batch.rows} would
   * give them but no row object made (a right chain whose last stage passes Arrow on: its rows
   * are built only if the join partitions them); returns the estimated bytes added. The batch's
   * rows must be objects (not `'array'` rows: see ROWS_METADATA_KEY).
   */
  addArrow(batch: RecordBatch): number {
    const n = batch.numRows;
    if (n === 0) return 0;
    const before = this.bytes;
    const values = recordBatchColumns(batch);
    const names = batch.schema.fields.map((f) => f.name);
    const each = valueBytesPerRow(values, n) + SLOT_BYTES;
    const into = names.map((name) => this.#index.get(name) ?? this.#addColumn(name, this.length));
    // a table column this batch lacks, or a name twice (a row object keeps the last): as #store does
    const lacking = into.length !== this.#columns.length || new Set(into).size !== into.length;
    const keyValues = this.#keys.map((name) => {
      const c = names.lastIndexOf(name);
      return c === -1 ? undefined : values[c]!;
    });
    // the rows kept (by batch row), each found and chained as it is numbered; the values are then
    // copied column by column (one loop per column: its array keeps one element kind)
    const kept = new Int32Array(n);
    let count = 0;
    const one = keyValues.length === 1 ? keyValues[0] : undefined;
    const holder = { v: undefined as unknown };
    const at = { i: 0 };
    const getters: KeyGetter[] = keyValues.map((column) => () => column?.[at.i]);
    for (let i = 0; i < n; i++) {
      let nullKey = false;
      if (one !== undefined) nullKey = isNullish(one[i]);
      else for (const column of keyValues) if (column === undefined || isNullish(column[i])) nullKey = true;
      if (nullKey && !this.#keepNull) continue;
      let head = -1;
      if (nullKey) {
        // no key: never found, always unmatched
      } else if (one !== undefined) {
        holder.v = one[i];
        head = this.#find(holder, VALUE_GETTER);
      } else {
        at.i = i;
        head = this.#find(at, getters);
      }
      const t = this.length + count;
      kept[count++] = i;
      if (t === this.#next.length) this.#grow();
      this.#next[t] = -1;
      if (!nullKey) this.#chain(head, t);
    }
    const start = this.length;
    const columns = this.#columns;
    for (let c = 0; c < into.length; c++) copyKept(columns[into[c]!]!, values[c]!, kept, count, start);
    this.length += count;
    if (lacking) for (let t = start; t < this.length; t++) this.#fillAbsent(t);
    this.bytes += each * count;
    return this.bytes - before;
  }

  /** Chains row `i` after the rows of its key (`head`: the key's first row, or -1: `i` is the first). */
  #chain(head: number, i: number): void {
    if (head === -1) {
      this.bytes += this.#insert(i);
      this.#tail[i] = i;
    } else {
      this.#next[this.#tail[head]!] = i;
      this.#tail[head] = i;
    }
  }

  #store(row: Row): number {
    const i = this.length++;
    if (i === this.#next.length) this.#grow();
    this.#next[i] = -1;
    const columns = this.#columns;
    let seen = 0;
    for (const name in row) {
      let c = this.#index.get(name);
      if (c === undefined) c = this.#addColumn(name, i);
      columns[c]!.push((row as Record<string, unknown>)[name]);
      seen++;
    }
    if (seen !== columns.length) this.#fillAbsent(i);
    return i;
  }

  /** Marks the columns row `i` did not fill as absent. */
  #fillAbsent(i: number): void {
    for (const column of this.#columns) {
      if (column.length !== i) continue;
      column.push(ABSENT);
      this.#ragged = true;
    }
  }

  #addColumn(name: string, rows: number): number {
    const c = this.#names.length;
    this.#names.push(name);
    this.#index.set(name, c);
    this.#columns.push(new Array<unknown>(rows).fill(ABSENT));
    if (rows > 0) this.#ragged = true;
    this.#targets = undefined;
    this.#maker = undefined;
    return c;
  }

  #grow(): void {
    const size = this.#next.length * 2;
    for (const key of ['next', 'tail'] as const) {
      const grown = new Int32Array(size);
      grown.set(key === 'next' ? this.#next : this.#tail);
      if (key === 'next') this.#next = grown;
      else this.#tail = grown;
    }
    const matched = new Uint8Array(size);
    matched.set(this.#matched);
    this.#matched = matched;
  }

  /** The first row of the key `getters` read from left row `row`, or -1. */
  find(row: object, getters: readonly KeyGetter[]): number {
    return this.#find(row, getters);
  }

  /**
   * {@link JoinTable.find} of a one-column key read as number `v` (a left key column held in a
   * typed array): the number index at once, with no getter and no canonical form to build; an
   * integer past the safe range is canonically text, and is looked up as {@link JoinTable.find} does.
   */
  findNumber(v: number): number {
    const numbers = this.#numbers;
    if (numbers !== undefined && !(Number.isInteger(v) && !Number.isSafeInteger(v))) return numbers.find(v);
    return this.#find({ v }, VALUE_GETTER);
  }

  /** The row after `i` with the same key, or -1. */
  next(i: number): number {
    return this.#next[i]!;
  }

  /** Appends left row `left` joined with each right row of the chain from `head` to `out`, marking them matched. */
  joinChain(out: Row[], left: Row, head: number, output: JoinOutput): void {
    const targets = (this.#targets ??= this.#names.map((name) => output.rightName(name)));
    const maker = (this.#maker ??= this.#compile(left, targets));
    if (maker.make?.fits(left)) {
      for (let i = head; i !== -1; i = this.#next[i]!) {
        this.#matched[i] = 1;
        out.push(maker.make.make(left, maker.columns, i));
      }
      return;
    }
    const columns = this.#columns;
    for (let i = head; i !== -1; i = this.#next[i]!) {
      this.#matched[i] = 1;
      const joined = copyRow(left);
      for (let c = 0; c < targets.length; c++) {
        const target = targets[c];
        const value = columns[c]![i];
        if (target !== null && value !== ABSENT) joined[target!] = value;
      }
      out.push(joined);
    }
  }

  /** The maker for left rows shaped as `left` (none when some right row lacks a column). */
  #compile(left: Row, targets: readonly (string | null)[]): { make: JoinedRowMaker | undefined; columns: unknown[][] } {
    const kept = targets.flatMap((t, c) => (t === null ? [] : [c]));
    const columns = kept.map((c) => this.#columns[c]!);
    if (this.#ragged) return { make: undefined, columns };
    return {
      make: JoinedRowMaker.compile(
        Object.keys(left),
        kept.map((c) => targets[c]!),
      ),
      columns,
    };
  }

  /** The right columns' names, in the order their values are held (see {@link JoinTable.values}). */
  get names(): readonly string[] {
    return this.#names;
  }

  /** Column `c`'s values by row (a row that lacked the column holds a mark: see {@link JoinTable.ragged}). */
  values(c: number): readonly unknown[] {
    return this.#columns[c]!;
  }

  /** True when some row lacks a column another row has. */
  get ragged(): boolean {
    return this.#ragged;
  }

  /**
   * Appends left row index `left` paired with each right row of the chain from `head` to
   * `lefts`/`rights`, marking them matched (the columnar probe, join-arrow.ts).
   */
  matchChain(left: number, head: number, lefts: number[], rights: number[]): void {
    for (let i = head; i !== -1; i = this.#next[i]!) {
      this.#matched[i] = 1;
      lefts.push(left);
      rights.push(i);
    }
  }

  /** Right row `i` as an object, as it came in. */
  row(i: number): Row {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < this.#names.length; c++) {
      const value = this.#columns[c]![i];
      if (value !== ABSENT) row[this.#names[c]!] = value;
    }
    return row;
  }

  /** Indices of the rows no left row matched, in build order. */
  *unmatched(): Generator<number> {
    for (let i = 0; i < this.length; i++) if (this.#matched[i] === 0) yield i;
  }

  /** Drops every row. */
  clear(): void {
    this.#trie.clear();
    this.#numbers?.clear();
    this.#columns = this.#columns.map(() => []);
    this.#maker = undefined;
    this.#ragged = false;
    this.#next = new Int32Array(1024);
    this.#tail = new Int32Array(1024);
    this.#matched = new Uint8Array(1024);
    this.length = 0;
    this.bytes = 0;
  }
}
