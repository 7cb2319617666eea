/**
 * Aggregate states of a group table, one column per aggregate indexed by group id. count, sum,
 * mean, min and max keep numbers in typed arrays (no object per group, nothing for the collector
 * to trace); a group leaves the typed slot for the row aggregate's state object only when its
 * values leave the numbers (a sum past 2^53, a bigint, a decimal string; a min of strings).
 * Every other aggregate (first, last, countDistinct, collect, user-defined) keeps its state per
 * group in an array through its own init/add/merge/finish.
 *
 * A column exports a group's state in the row aggregate's format (aggregates.ts) and merges such
 * a state back: spill partitions hold those, so partial states merge exactly as before.
 */
import type { Row } from '../core/batch.ts';
import { aggregateSpec, type Aggregate, type MemoryMeter } from './aggregates.ts';
import { compareValues } from './key-encoding.ts';
import { compareDecimalText } from '../formats/arrow/decimal.ts';
import type { InputTypes } from './input-types.ts';
import { addDouble, addNumber, addValue, mergeSums, sumResult, type SumState } from './sum-state.ts';

/**
 * The rows of a batch as aggregates read them: each row (a view for Arrow batches, which
 * user-defined aggregates take), and one column's values, read from an Arrow column directly where
 * the batch has a plain numeric one (see arrow-key-codes.ts `arrowInput`), else through the rows.
 */
export interface BatchInput {
  row(i: number): Row;
  column(name: string): (i: number) => unknown;
  /** True when column `name` is a floating-point column (Arrow input; rows cannot say). */
  isDouble?(name: string): boolean;
}

/** A batch of plain rows (or views) as {@link BatchInput}. */
export function rowsInput(rowAt: (i: number) => Row): BatchInput {
  return { row: rowAt, column: (name) => (i) => (rowAt(i) as Record<string, unknown>)[name] };
}

/** The states of one aggregate for every group of a table. */
export interface AggColumn {
  /** Estimated bytes per group slot. */
  readonly slotBytes: number;
  /** Makes room for group ids below `capacity`. */
  reserve(capacity: number): void;
  /** Folds rows `0..n-1` of `input` in, row `i` into group `gids[i]`. */
  addBatch(gids: Int32Array, n: number, input: BatchInput, meter: MemoryMeter): void;
  /** Group `g`'s state in the row aggregate's format. */
  exportState(g: number): unknown;
  /** Merges `state` (from rows after the ones folded so far) into group `g`. */
  mergeState(g: number, state: unknown, meter: MemoryMeter): void;
  /** The states of groups `ids`, packed for a spill chunk (typed arrays where the column has them). */
  exportStates(ids: readonly number[]): unknown;
  /** Merges packed states (from {@link AggColumn.exportStates}) into groups `gids[0..n-1]`. */
  mergeStates(gids: Int32Array, n: number, packed: unknown, meter: MemoryMeter): void;
  /** The output value of group `g`. */
  finish(g: number): unknown;
}

function grown<T extends Float64Array | Uint8Array>(old: T, capacity: number): T {
  if (old.length >= capacity) return old;
  const next = new (old.constructor as new (n: number) => T)(Math.max(capacity, old.length * 2));
  next.set(old);
  return next;
}

/** `values[g]` for each of `ids` (a loop: `Float64Array.from` with a map function is several times slower). */
function gatherNumbers(values: Float64Array, ids: readonly number[]): Float64Array {
  const out = new Float64Array(ids.length);
  for (let j = 0; j < ids.length; j++) out[j] = values[ids[j]!]!;
  return out;
}

/** States one per group, as exported one by one. */
function exportEach(column: AggColumn, ids: readonly number[]): unknown[] {
  return ids.map((g) => column.exportState(g));
}

function mergeEach(column: AggColumn, gids: Int32Array, n: number, packed: unknown, meter: MemoryMeter): void {
  const states = packed as unknown[];
  for (let j = 0; j < n; j++) column.mergeState(gids[j]!, states[j], meter);
}

/** `count()` and `count(column)`: counts in a Float64Array. */
class CountColumn implements AggColumn {
  readonly slotBytes = 8;
  #n = new Float64Array(0);
  readonly #column: string | undefined;
  constructor(column: string | undefined) {
    this.#column = column;
  }
  reserve(capacity: number): void {
    this.#n = grown(this.#n, capacity);
  }
  addBatch(gids: Int32Array, n: number, input: BatchInput): void {
    const counts = this.#n;
    if (this.#column === undefined) for (let i = 0; i < n; i++) counts[gids[i]!]!++;
    else {
      const read = input.column(this.#column);
      for (let i = 0; i < n; i++) if (read(i) != null) counts[gids[i]!]!++;
    }
  }
  exportState(g: number): number {
    return this.#n[g]!;
  }
  mergeState(g: number, state: unknown): void {
    this.#n[g]! += state as number;
  }
  exportStates(ids: readonly number[]): Float64Array {
    return gatherNumbers(this.#n, ids);
  }
  mergeStates(gids: Int32Array, n: number, packed: unknown): void {
    const counts = packed as Float64Array;
    for (let j = 0; j < n; j++) this.#n[gids[j]!]! += counts[j]!;
  }
  finish(g: number): number {
    return this.#n[g]!;
  }
}

/** Sum kinds of a typed slot: 0 nothing yet, 1 safe integer, 3 double (as SumState.k), 5 in `objects`. */
const OBJECT = 5;

/** `sum(column)` and `mean(column)`: number sums in a Float64Array, exact SumState objects past it. */
class SumColumn implements AggColumn {
  readonly slotBytes: number;
  #kind = new Uint8Array(0);
  #v = new Float64Array(0);
  /** 1 once a partial state was merged into the group (tables that merge spilled chunks). */
  #merged = new Uint8Array(0);
  /** Non-null values per group (mean only). */
  #n = new Float64Array(0);
  readonly #objects = new Map<number, SumState>();
  readonly #column: string;
  readonly #mean: boolean;
  constructor(column: string, mean: boolean) {
    this.#column = column;
    this.#mean = mean;
    this.slotBytes = mean ? 18 : 10;
  }
  reserve(capacity: number): void {
    this.#kind = grown(this.#kind, capacity);
    this.#v = grown(this.#v, capacity);
    this.#merged = grown(this.#merged, capacity);
    if (this.#mean) this.#n = grown(this.#n, capacity);
  }
  /** Moves group `g` to an exact SumState object. */
  #object(g: number): SumState {
    let s = this.#objects.get(g);
    if (s === undefined) {
      const k = this.#kind[g]!;
      s = { k: k as 0 | 1 | 3, v: k === 0 ? 0 : this.#v[g]!, scale: 0 };
      this.#objects.set(g, s);
      this.#kind[g] = OBJECT;
    }
    return s;
  }
  #add(g: number, value: unknown): void {
    const kind = this.#kind;
    const k = kind[g]!;
    if (typeof value === 'number' && k !== OBJECT) {
      if (k === 3) this.#v[g]! += value;
      else if (!Number.isSafeInteger(value)) {
        kind[g] = 3;
        this.#v[g] = k === 0 ? value : this.#v[g]! + value;
      } else if (k === 0) {
        kind[g] = 1;
        this.#v[g] = value;
      } else {
        const next = this.#v[g]! + value;
        if (Number.isSafeInteger(next)) this.#v[g] = next;
        else addNumber(this.#object(g), value);
      }
      return;
    }
    addValue(this.#object(g), value, this.#column);
  }
  addBatch(gids: Int32Array, n: number, input: BatchInput): void {
    const read = input.column(this.#column);
    const counts = this.#n;
    // a DOUBLE column sums as doubles, as DuckDB's sum(DOUBLE) does: its integral values past 2^53
    // made a bigint sum, which a sort or a Parquet DOUBLE column after it refused
    const double = input.isDouble?.(this.#column) === true;
    for (let i = 0; i < n; i++) {
      const value = read(i);
      if (value === null || value === undefined) continue;
      const g = gids[i]!;
      if (double) this.#addDouble(g, value as number);
      else this.#add(g, value);
      if (this.#mean) counts[g]!++;
    }
  }
  #addDouble(g: number, value: number): void {
    const k = this.#kind[g]!;
    if (k === OBJECT) return addDouble(this.#objects.get(g)!, value);
    this.#v[g] = k === 0 ? value : this.#v[g]! + value;
    this.#kind[g] = 3;
  }
  #sumState(g: number): SumState {
    const k = this.#kind[g]!;
    if (k === OBJECT) return this.#objects.get(g)!;
    return { k: k as 0 | 1 | 3, v: k === 0 ? 0 : this.#v[g]!, scale: 0 };
  }
  exportState(g: number): unknown {
    const s = this.#sumState(g);
    return this.#mean ? { s, n: this.#n[g]! } : s;
  }
  mergeState(g: number, state: unknown): void {
    const b = (this.#mean ? (state as { s: SumState }).s : state) as SumState;
    if (this.#mean) this.#n[g]! += (state as { n: number }).n;
    this.#merge(g, b.k, b.v, b);
  }
  /** Merges a partial sum of kind `k` and value `v` (`b` the state object for bigint and decimal kinds). */
  #merge(g: number, k: number, v: number | bigint, b: SumState | undefined): void {
    if (this.#merged[g] === 0) {
      // a group's first partial state is taken as it is, as the row table took it (added to an
      // empty sum, a double state with an integral value would turn back into an integer sum)
      this.#merged[g] = 1;
      if (k === 1 || k === 3) {
        this.#kind[g] = k;
        this.#v[g] = v as number;
      } else if (k !== 0) {
        this.#objects.set(g, { k: b!.k, v: b!.v, scale: b!.scale });
        this.#kind[g] = OBJECT;
      }
      return;
    }
    if (k === 0) return;
    if ((k === 1 || k === 3) && this.#kind[g] !== OBJECT) this.#add(g, v as number);
    else mergeSums(this.#object(g), b ?? { k: k as 1 | 3, v, scale: 0 }, this.#column);
  }
  exportStates(ids: readonly number[]): unknown {
    const k = new Uint8Array(ids.length);
    const v = new Float64Array(ids.length);
    const objects: [number, SumState][] = [];
    ids.forEach((g, j) => {
      const kind = this.#kind[g]!;
      if (kind === OBJECT) {
        const s = this.#objects.get(g)!;
        if (s.k === 1 || s.k === 3) {
          k[j] = s.k;
          v[j] = s.v as number;
        } else {
          k[j] = OBJECT;
          objects.push([j, s]);
        }
      } else {
        k[j] = kind;
        v[j] = this.#v[g]!;
      }
    });
    return { k, v, objects, n: this.#mean ? gatherNumbers(this.#n, ids) : undefined };
  }
  mergeStates(gids: Int32Array, n: number, packed: unknown): void {
    const p = packed as { k: Uint8Array; v: Float64Array; objects: [number, SumState][]; n?: Float64Array };
    const objects = new Map(p.objects);
    for (let j = 0; j < n; j++) {
      const g = gids[j]!;
      if (p.n) this.#n[g]! += p.n[j]!;
      const k = p.k[j]!;
      if (k === OBJECT) {
        const b = objects.get(j)!;
        this.#merge(g, b.k, b.v, b);
      } else this.#merge(g, k, p.v[j]!, undefined);
    }
  }
  finish(g: number): unknown {
    const k = this.#kind[g]!;
    if (!this.#mean) return k === OBJECT ? sumResult(this.#objects.get(g)!) : k === 0 ? null : this.#v[g]!;
    const n = this.#n[g]!;
    if (n === 0) return null;
    return (k === OBJECT ? Number(sumResult(this.#objects.get(g)!)) : this.#v[g]!) / n;
  }
}

/** `min(column)` / `max(column)`: numbers in a Float64Array (NaN above all, ties keep the first), other values by compareValues. */
class ExtremeColumn implements AggColumn {
  readonly slotBytes = 9;
  /** 0 none, 1 number in `#v`, 2 value in `#objects`. */
  #kind = new Uint8Array(0);
  #v = new Float64Array(0);
  readonly #objects = new Map<number, unknown>();
  readonly #column: string;
  readonly #sign: 1 | -1;
  readonly #types: InputTypes | undefined;
  /** Compares two values of the column that are not both numbers (decimal text by value; see input-types.ts). */
  #compare: ((a: unknown, b: unknown) => number) | undefined;
  constructor(column: string, sign: 1 | -1, types?: InputTypes) {
    this.#column = column;
    this.#sign = sign;
    this.#types = types;
  }
  #comparer(): (a: unknown, b: unknown) => number {
    if (this.#compare) return this.#compare;
    const decimal = this.#types?.isDecimal(this.#column) === true;
    const compare = decimal
      ? (a: unknown, b: unknown) =>
          typeof a === 'string' && typeof b === 'string' ? compareDecimalText(a, b) : compareValues(a, b)
      : compareValues;
    return (this.#compare = compare);
  }
  reserve(capacity: number): void {
    this.#kind = grown(this.#kind, capacity);
    this.#v = grown(this.#v, capacity);
  }
  #add(g: number, b: unknown): void {
    const k = this.#kind[g]!;
    if (typeof b === 'number' && k !== 2) {
      if (k === 0) {
        this.#kind[g] = 1;
        this.#v[g] = b;
        return;
      }
      const a = this.#v[g]!;
      if (
        Number.isNaN(a)
          ? this.#sign < 0 && !Number.isNaN(b)
          : Number.isNaN(b)
            ? this.#sign > 0
            : this.#sign > 0
              ? b > a
              : b < a
      )
        this.#v[g] = b;
      return;
    }
    const a = k === 0 ? undefined : k === 1 ? this.#v[g]! : this.#objects.get(g);
    this.#kind[g] = 2;
    this.#objects.set(g, a === undefined || this.#sign * this.#comparer()(b, a) > 0 ? b : a);
  }
  addBatch(gids: Int32Array, n: number, input: BatchInput): void {
    const read = input.column(this.#column);
    for (let i = 0; i < n; i++) {
      const value = read(i);
      if (value !== null && value !== undefined) this.#add(gids[i]!, value);
    }
  }
  exportState(g: number): unknown {
    const k = this.#kind[g]!;
    return k === 0 ? undefined : k === 1 ? this.#v[g]! : this.#objects.get(g);
  }
  mergeState(g: number, state: unknown): void {
    if (state !== null && state !== undefined) this.#add(g, state);
  }
  exportStates(ids: readonly number[]): unknown {
    return exportEach(this, ids);
  }
  mergeStates(gids: Int32Array, n: number, packed: unknown, meter: MemoryMeter): void {
    mergeEach(this, gids, n, packed, meter);
  }
  finish(g: number): unknown {
    return this.exportState(g) ?? null;
  }
}

/** Any aggregate: its own state per group, through init/add/merge/finish. */
class GenericColumn implements AggColumn {
  readonly slotBytes: number;
  #states: unknown[] = [];
  #has = new Uint8Array(0);
  readonly #agg: Aggregate;
  constructor(agg: Aggregate) {
    this.#agg = agg;
    this.slotBytes = 9 + (agg.stateBytes ?? 48);
  }
  reserve(capacity: number): void {
    this.#has = grown(this.#has, capacity);
  }
  addBatch(gids: Int32Array, n: number, input: BatchInput, meter: MemoryMeter): void {
    const agg = this.#agg;
    const states = this.#states;
    const has = this.#has;
    for (let i = 0; i < n; i++) {
      const g = gids[i]!;
      let s: unknown;
      if (has[g] === 0) {
        has[g] = 1;
        s = agg.init();
      } else s = states[g];
      states[g] = agg.add(s, input.row(i), meter);
    }
  }
  exportState(g: number): unknown {
    return this.#has[g] === 0 ? this.#agg.init() : this.#states[g];
  }
  mergeState(g: number, state: unknown, meter: MemoryMeter): void {
    if (this.#has[g] === 0) {
      this.#has[g] = 1;
      this.#states[g] = state;
    } else this.#states[g] = this.#agg.merge(this.#states[g], state, meter);
  }
  exportStates(ids: readonly number[]): unknown {
    return exportEach(this, ids);
  }
  mergeStates(gids: Int32Array, n: number, packed: unknown, meter: MemoryMeter): void {
    mergeEach(this, gids, n, packed, meter);
  }
  finish(g: number): unknown {
    return this.#agg.finish(this.exportState(g));
  }
}

/**
 * The column that keeps `agg`'s states: typed for the built-in count, sum, mean, min and max
 * (`types`: the input's, by which min and max compare decimals as numbers).
 */
export function aggColumn(agg: Aggregate, types?: InputTypes): AggColumn {
  const spec = aggregateSpec(agg);
  switch (spec?.kind) {
    case 'count':
      return new CountColumn(spec.column);
    case 'sum':
      return new SumColumn(spec.column!, false);
    case 'mean':
      return new SumColumn(spec.column!, true);
    case 'min':
      return new ExtremeColumn(spec.column!, -1, types);
    case 'max':
      return new ExtremeColumn(spec.column!, 1, types);
    default:
      return new GenericColumn(agg);
  }
}
