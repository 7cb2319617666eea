/**
 * The in-memory build side of a hash join, held by column: each right column is one flat array of
 * values, rows are indices, and the key trie (key-trie.ts) maps each key to the index of its first
 * row, later rows of the key chained through a typed array. Held this way a right row costs its
 * values and a few slots, where a row object, an entry object and a one-row array per key cost
 * about three times that, and made a large x large join spill what fits (the right rows are
 * dropped once copied). Output reads the right values by index with their output names fixed once.
 * Rows come as objects ({@link JoinTable.add}) or as Arrow batches read by column
 * ({@link JoinTable.addArrow}); an Arrow number column without nulls is held in a Float64Array
 * (8 bytes a value: the bench's 2.5M-row right side was estimated at 65 bytes a row with its
 * doubles in a JS array, 49 so), which becomes a JS array when a value of another kind comes.
 */
import { Precision, Type, type DataType, type Float64, type Int32, type RecordBatch } from 'apache-arrow';
import { estimateValueBytes, type Row } from '../core/batch.ts';
import { recordBatchColumn } from '../formats/arrow/to-rows.ts';
import { columnGetter, hasNullKey, isNullish, type KeyGetter } from './key-encoding.ts';
import { canonicalKey, KeyTrie } from './key-trie.ts';
import { NumberIndex } from './number-index.ts';
import { copyRow, type JoinHow, type JoinOutput } from './join-output.ts';
import { JoinedRowMaker } from './joined-row.ts';

/** A column a row did not have (kept apart from `undefined`, which the row may hold). */
const ABSENT: unique symbol = Symbol('absent');

/** Rows sampled per chunk for the byte estimate. */
const SAMPLE = 32;
/** Rows the typed arrays of a new table have room for (they double from there). */
const FIRST_ROWS = 64;

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

/**
 * {@link columnBytesPerRow} of rows held by column (`values[c][i]` is row `i`'s value of column
 * `c`), but for the columns held in a Float64Array (`typed[c]`: counted by their arrays).
 */
function valueBytesPerRow(values: readonly ArrayLike<unknown>[], typed: readonly boolean[], n: number): number {
  const step = Math.max(1, Math.floor(n / SAMPLE));
  let bytes = 0;
  let sampled = 0;
  for (let i = 0; i < n; i += step, sampled++)
    for (let c = 0; c < values.length; c++) if (!typed[c]) bytes += 8 + estimateValueBytes(values[c]![i], 0);
  return sampled === 0 ? 0 : bytes / sampled;
}

/** Float64, or an integer type of at most 32 bits: values a typed array holds as the JS numbers rows hold. */
export function isPlainNumber(type: DataType): boolean {
  if (type.typeId === Type.Float) return (type as Float64).precision === Precision.DOUBLE;
  return type.typeId === Type.Int && (type as Int32).bitWidth <= 32;
}

/**
 * A right column's values by row: a JS array, or a Float64Array (its length a capacity; rows
 * past the table's length unused) while every value came from an Arrow number column without
 * nulls, 8 bytes a value where a JS array of numbers mixed with nulls boxes each double.
 */
type ColumnValues = unknown[] | Float64Array;

/** Rows a Float64Array column of `length` slots grows to for `rows` rows: by half, or to `rows` when that is more. */
function grownSlots(length: number, rows: number): number {
  return Math.max(rows, Math.ceil(length * 1.5));
}

/** Reads the key of a stand-in row `{ v }` (a one-column key read elsewhere than a row). */
const VALUE_GETTER: readonly KeyGetter[] = [(row) => (row as { v: unknown }).v];

/** Writes `from[kept[k]]` at `to[start + k]` for the first `count` of `kept` (with a name twice, a later column overwrites). */
function copyKept(to: unknown[], from: ArrayLike<unknown>, kept: Int32Array, count: number, start: number): void {
  for (let k = 0; k < count; k++) to[start + k] = from[kept[k]!];
}

/** {@link copyKept} into a Float64Array (its own function: each keeps its loop monomorphic). */
function copyKeptNumbers(
  to: Float64Array,
  from: ArrayLike<number>,
  kept: Int32Array,
  count: number,
  start: number,
): void {
  for (let k = 0; k < count; k++) to[start + k] = from[kept[k]!]!;
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
  #columns: ColumnValues[] = [];
  /** Rows the typed arrays below have room for (they grow together). */
  #capacity = FIRST_ROWS;
  /**
   * Next row of the same key (-1: none), and for a key's first row its last row: made at the
   * first key that comes twice (until then every key has one row, and a table of unique keys,
   * the usual build side, saves their 8 bytes a row).
   */
  #chains: { next: Int32Array; tail: Int32Array } | undefined;
  /** Rows a left row matched (1), kept by right and full joins only, which output the others. */
  #matched: Uint8Array | undefined;
  /** Output name of each column (null: a shared key), fixed at the first output. */
  #targets: (string | null)[] | undefined;
  /** The compiled maker of joined rows and the columns it reads (see joined-row.ts), once made. */
  #maker: { make: JoinedRowMaker | undefined; columns: readonly (readonly unknown[])[] } | undefined;
  /** Some row lacks a column (the maker would add it). */
  #ragged = false;
  /** Rows held. */
  length = 0;
  /** Estimated bytes of the values in JS arrays and of the trie's entries (see {@link JoinTable.bytes}). */
  #valueBytes = 0;

  /**
   * @param keys the right key columns
   * @param keepNull keep rows with a null key, and note which rows match (right and full joins
   *   output the unmatched rows)
   */
  constructor(keys: readonly string[], keepNull: boolean) {
    this.#keys = keys;
    this.#get = keys.map(columnGetter);
    this.#trie = new KeyTrie<number>(keys.length);
    this.#numbers = keys.length === 1 ? new NumberIndex() : undefined;
    this.#keepNull = keepNull;
    if (keepNull) this.#matched = new Uint8Array(FIRST_ROWS);
  }

  /**
   * Bytes held: the typed arrays as allocated (the chains, the number index and Float64Array
   * columns, which double or grow by half as rows come: at times twice what their rows use) and
   * the estimated values of JS-array columns and trie entries. Counting the number index at 24
   * bytes a key, as until 2026-12-06, put a 1.09M-row table at 53 MB where its arrays held 92.
   */
  get bytes(): number {
    let bytes = this.#valueBytes + this.#slotBytes * this.#capacity;
    bytes += this.#numbers?.bytes ?? 0;
    for (const column of this.#columns) if (column instanceof Float64Array) bytes += column.byteLength;
    return bytes;
  }

  /**
   * Bytes {@link JoinTable.bytes} would grow by were `more` rows added, each a new key, before
   * their values: what the chains, the number index and the Float64Array columns would allocate
   * (a join checks it before a batch, so that no growth takes its table past its budget).
   */
  growthBytes(more: number): number {
    const rows = this.length + more;
    let slots = this.#capacity;
    while (slots < rows) slots *= 2;
    let growth = (slots - this.#capacity) * this.#slotBytes + (this.#numbers?.growthBytes(more) ?? 0);
    for (const column of this.#columns)
      if (column instanceof Float64Array && column.length < rows)
        growth += (grownSlots(column.length, rows) - column.length) * 8;
    return growth;
  }

  /**
   * Bytes a row takes in the typed arrays: chains (once made; a key that comes twice makes them,
   * counted after its batch) and match flags.
   */
  get #slotBytes(): number {
    return (this.#chains === undefined ? 0 : 8) + (this.#matched === undefined ? 0 : 1);
  }

  /**
   * Bytes a row of this table would take in the table of one of its hash partitions: as now,
   * but for number keys held by direct address, which a partition holds in the hash table (its
   * keys are spread over the same range, a sixteenth as many: too sparse), at 36 bytes a key
   * (12 a slot, 2 to 4 slots a key).
   */
  get partitionRowBytes(): number {
    if (this.length === 0) return 0;
    const numbers = this.#numbers;
    const rehashed = numbers?.direct ? numbers.size * 36 - numbers.bytes : 0;
    return (this.bytes + rehashed) / this.length;
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

  /** Adds row `i` as the first of the key the last {@link JoinTable.#find} missed; returns the trie's bytes added (the number index is counted by its arrays). */
  #insert(i: number): number {
    if (!this.#inNumbers) return this.#trie.insert(i);
    this.#numbers!.insert(i);
    return 0;
  }

  /** Adds right rows; returns the estimated bytes added. */
  add(rows: readonly Row[]): number {
    const before = this.bytes;
    // rows may hold anything: their columns are JS arrays
    for (let c = 0; c < this.#columns.length; c++) this.#untype(c);
    const each = columnBytesPerRow(rows);
    for (const row of rows) {
      if (hasNullKey(row, this.#keys)) {
        if (!this.#keepNull) continue;
        this.#store(row); // no key: never found, always unmatched
      } else this.#chain(this.#find(row, this.#get), this.#store(row));
      this.#valueBytes += each;
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
    const start = this.length;
    const names = batch.schema.fields.map((f) => f.name);
    // a name twice: a row object keeps the last value, and so do the JS arrays here
    const repeated = new Set(names).size !== names.length;
    // a number column without nulls is read in place, and held in a Float64Array while the table's
    // column has only ever held such values; any other column as rows would hold it
    const children = batch.data.children;
    const inPlace = names.map((_, c) => !repeated && children[c]!.nullCount === 0 && isPlainNumber(children[c]!.type));
    const sources: ArrayLike<unknown>[] = names.map((_, c) =>
      inPlace[c] ? (children[c]!.values as ArrayLike<number>) : recordBatchColumn(batch, c),
    );
    const keyValues = this.#keys.map((name) => {
      const c = names.lastIndexOf(name);
      return c === -1 ? undefined : sources[c]!;
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
      const t = start + count;
      kept[count++] = i;
      if (t === this.#capacity) this.#grow();
      if (this.#chains !== undefined) this.#chains.next[t] = -1;
      if (!nullKey) this.#chain(head, t);
    }
    // columns are made by the rows kept, as add() makes them (a batch whose rows all had null keys adds none)
    if (count === 0) return 0;
    const into = names.map((name) => this.#index.get(name) ?? this.#addColumn(name, start));
    const typed = into.map((tc, c) => {
      const column = this.#columns[tc]!;
      return inPlace[c]! && (column instanceof Float64Array || (start === 0 && column.length === 0));
    });
    const each = valueBytesPerRow(sources, typed, n);
    for (let c = 0; c < into.length; c++) {
      const tc = into[c]!;
      if (typed[c])
        copyKeptNumbers(this.#roomFor(tc, start + count), sources[c] as ArrayLike<number>, kept, count, start);
      else copyKept(this.#untype(tc), sources[c]!, kept, count, start);
    }
    // a table column this batch lacks: absent in its rows
    const filled = new Set(into);
    for (let tc = 0; tc < this.#columns.length; tc++) {
      if (filled.has(tc)) continue;
      const column = this.#untype(tc);
      for (let k = 0; k < count; k++) column.push(ABSENT);
      this.#ragged = true;
    }
    this.length = start + count;
    this.#valueBytes += each * count;
    return this.bytes - before;
  }

  /** Column `c` as a Float64Array with room for `rows` rows (made when the column is empty). */
  #roomFor(c: number, rows: number): Float64Array {
    const column = this.#columns[c]!;
    if (column instanceof Float64Array && column.length >= rows) return column;
    const size = column instanceof Float64Array ? grownSlots(column.length, rows) : Math.max(rows, FIRST_ROWS);
    const grown = new Float64Array(size);
    if (column instanceof Float64Array) grown.set(column.subarray(0, this.length));
    this.#columns[c] = grown;
    this.#maker = undefined;
    return grown;
  }

  /** Column `c` as a JS array (a Float64Array's rows copied into one). */
  #untype(c: number): unknown[] {
    const column = this.#columns[c]!;
    if (!(column instanceof Float64Array)) return column;
    const values = Array.from(column.subarray(0, this.length));
    this.#columns[c] = values;
    this.#maker = undefined;
    return values;
  }

  /** Chains row `i` after the rows of its key (`head`: the key's first row, or -1: `i` is the first). */
  #chain(head: number, i: number): void {
    if (head === -1) {
      this.#valueBytes += this.#insert(i);
      if (this.#chains !== undefined) this.#chains.tail[i] = i;
    } else {
      const { next, tail } = (this.#chains ??= this.#makeChains(i));
      next[tail[head]!] = i;
      tail[head] = i;
    }
  }

  /** The chains of the rows before row `i` (the first to repeat a key): each its key's only row. */
  #makeChains(i: number): { next: Int32Array; tail: Int32Array } {
    const next = new Int32Array(this.#capacity).fill(-1);
    const tail = new Int32Array(this.#capacity);
    for (let r = 0; r < i; r++) tail[r] = r;
    return { next, tail };
  }

  #store(row: Row): number {
    const i = this.length++;
    if (i === this.#capacity) this.#grow();
    if (this.#chains !== undefined) this.#chains.next[i] = -1;
    const columns = this.#columns;
    let seen = 0;
    for (const name in row) {
      let c = this.#index.get(name);
      if (c === undefined) c = this.#addColumn(name, i);
      // add() made every column a JS array
      (columns[c] as unknown[]).push((row as Record<string, unknown>)[name]);
      seen++;
    }
    if (seen !== columns.length) this.#fillAbsent(i);
    return i;
  }

  /** Marks the columns row `i` did not fill as absent (in {@link JoinTable.add}: JS arrays). */
  #fillAbsent(i: number): void {
    for (const column of this.#columns as unknown[][]) {
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
    const size = this.#capacity * 2;
    this.#capacity = size;
    const chains = this.#chains;
    if (chains !== undefined) {
      const next = new Int32Array(size);
      next.set(chains.next);
      const tail = new Int32Array(size);
      tail.set(chains.tail);
      this.#chains = { next, tail };
    }
    if (this.#matched !== undefined) {
      const matched = new Uint8Array(size);
      matched.set(this.#matched);
      this.#matched = matched;
    }
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
    return this.#chains === undefined ? -1 : this.#chains.next[i]!;
  }

  /**
   * Left rows `rows` joined against this table as join kind `how` outputs them (semi and anti:
   * the left rows with or without a match; left and full: unmatched rows with nulls), their keys
   * read by `getters` from columns `keys` (a null key never matches).
   */
  probe(
    rows: readonly Row[],
    keys: readonly string[],
    getters: readonly KeyGetter[],
    how: JoinHow,
    output: JoinOutput,
  ): Row[] {
    const out: Row[] = [];
    const outer = how === 'left' || how === 'full';
    for (const row of rows) {
      const head = hasNullKey(row, keys) ? -1 : this.#find(row, getters);
      if (how === 'semi') {
        if (head !== -1) out.push(row);
      } else if (how === 'anti') {
        if (head === -1) out.push(row);
      } else if (head !== -1) this.joinChain(out, row, head, output);
      else if (outer) out.push(output.leftOnly(row));
    }
    return out;
  }

  /** Appends left row `left` joined with each right row of the chain from `head` to `out`, marking them matched. */
  joinChain(out: Row[], left: Row, head: number, output: JoinOutput): void {
    const targets = (this.#targets ??= this.#names.map((name) => output.rightName(name)));
    const maker = (this.#maker ??= this.#compile(left, targets));
    if (maker.make?.fits(left)) {
      for (let i = head; i !== -1; i = this.next(i)) {
        if (this.#matched !== undefined) this.#matched[i] = 1;
        out.push(maker.make.make(left, maker.columns, i));
      }
      return;
    }
    const columns = this.#columns;
    for (let i = head; i !== -1; i = this.next(i)) {
      if (this.#matched !== undefined) this.#matched[i] = 1;
      const joined = copyRow(left);
      for (let c = 0; c < targets.length; c++) {
        const target = targets[c]!;
        const value = columns[c]![i];
        if (target === null || value === ABSENT) continue;
        if (Object.hasOwn(joined, target)) output.clash(target);
        joined[target] = value;
      }
      out.push(joined);
    }
  }

  /** The maker for left rows shaped as `left` (none when some right row lacks a column). */
  #compile(
    left: Row,
    targets: readonly (string | null)[],
  ): { make: JoinedRowMaker | undefined; columns: readonly (readonly unknown[])[] } {
    const kept = targets.flatMap((t, c) => (t === null ? [] : [c]));
    // the maker reads `columns[c][i]` for rows i < length: a Float64Array reads as an array does
    const columns = kept.map((c) => this.#columns[c]!) as readonly (readonly unknown[])[];
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
    const column = this.#columns[c]!;
    return column instanceof Float64Array ? (column.subarray(0, this.length) as unknown as readonly unknown[]) : column;
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
    for (let i = head; i !== -1; i = this.next(i)) {
      if (this.#matched !== undefined) this.#matched[i] = 1;
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
    const matched = this.#matched;
    if (matched === undefined) throw new Error('JoinTable: matches are noted for right and full joins only');
    for (let i = 0; i < this.length; i++) if (matched[i] === 0) yield i;
  }

  /** Drops every row. */
  clear(): void {
    this.#trie.clear();
    this.#numbers?.clear();
    this.#columns = this.#columns.map(() => []);
    this.#maker = undefined;
    this.#ragged = false;
    this.#capacity = FIRST_ROWS;
    this.#chains = undefined;
    if (this.#matched !== undefined) this.#matched = new Uint8Array(FIRST_ROWS);
    this.length = 0;
    this.#valueBytes = 0;
  }
}
