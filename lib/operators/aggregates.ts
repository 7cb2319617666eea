/**
 * The aggregate functions of groupBy: count, sum, mean, min, max, first, last, countDistinct,
 * collect, and the shape of a user-defined aggregate. Every aggregate is `{ init, add, merge,
 * finish }` over a partial state, so that states built from different parts of the input (spilled
 * partitions, parallel workers) merge into the state the whole input would give. States travel
 * to spill files in V8's structured-clone format, so they must be plain data (numbers, bigints,
 * strings, arrays, plain objects, Sets, Maps, Dates), not class instances.
 *
 * Precision: integer sums stay numbers while they are safe integers and become bigints beyond
 * (a bigint input makes the sum a bigint); decimal strings (how spillway reads Parquet and Arrow
 * decimals) sum exactly, as a decimal string; a fractional number makes the sum a double. Means
 * are doubles.
 */
import { SpillwayError, StageError, ValidationError, describeValue } from '../core/errors.ts';
import type { Row } from '../core/batch.ts';
import { estimateValueBytes } from '../core/batch.ts';
import { compareValues, encodeValue } from './key-encoding.ts';
import { addValue, mergeSums, sumResult, type SumState } from './sum-state.ts';

export type { SumState } from './sum-state.ts';

/** Where aggregates report memory their states grow by (countDistinct's set, collect's list). */
export interface MemoryMeter {
  /** Estimated bytes held by states beyond their fixed size. */
  bytes: number;
}

/**
 * An aggregate: `init()` makes an empty state, `add(state, row)` folds one input row in and
 * returns the state (the same object or a new value), `merge(earlier, later)` combines two states
 * (`earlier` built from rows that came first), `finish(state)` gives the output value. States
 * must survive `structuredClone` (they are spilled to disk).
 */
export interface Aggregate<S = any, R = unknown> {
  init(): S;
  add(state: S, row: Row, meter: MemoryMeter): S;
  merge(earlier: S, later: S, meter: MemoryMeter): S;
  finish(state: S): R;
  /** Estimated bytes of a fresh state (default 48). */
  readonly stateBytes?: number;
}

/** The aggregates of a groupBy: output column name -> aggregate. */
export type Aggregates = Record<string, Aggregate>;

/** What a built-in aggregate computes, so that a group table can keep its state in typed arrays (agg-columns.ts). */
export interface AggregateSpec {
  kind: 'count' | 'sum' | 'mean' | 'min' | 'max' | 'first' | 'last' | 'other';
  /** The input column, the only one it reads (none for `count()`). */
  column: string | undefined;
}

const builtins = new WeakMap<object, AggregateSpec>();

/** Marks a built-in aggregate: it copies what it keeps, so it may be fed reused row views. */
function builtin<A extends Aggregate>(aggregate: A, kind: AggregateSpec['kind'] = 'other', column?: string): A {
  builtins.set(aggregate, { kind, column });
  return aggregate;
}

/** True for the aggregates this module makes (they never keep the row object they are given). */
export function isBuiltinAggregate(value: Aggregate): boolean {
  return builtins.has(value);
}

/**
 * True when every aggregate is a built-in count, sum, mean, min or max, whose result does not
 * depend on the order rows come in (up to floating-point rounding, which spilling already
 * reorders): a groupBy of them may fold rows in any order.
 */
export function orderFree(aggregates: readonly Aggregate[]): boolean {
  return aggregates.every((a) => {
    const kind = builtins.get(a)?.kind;
    return kind !== undefined && kind !== 'other';
  });
}

/**
 * The input columns `aggregates` read, or undefined when one is user-defined (it may read any):
 * with the keys, all a groupBy reads, so its source need not fill the others (projection).
 */
export function aggregateColumns(aggregates: readonly Aggregate[]): string[] | undefined {
  const columns: string[] = [];
  for (const aggregate of aggregates) {
    const spec = builtins.get(aggregate);
    if (spec === undefined) return undefined;
    if (spec.column !== undefined) columns.push(spec.column);
  }
  return columns;
}

/** What a built-in aggregate computes; undefined for a user-defined one. */
export function aggregateSpec(value: Aggregate): AggregateSpec | undefined {
  return builtins.get(value);
}

function get(row: Row, column: string): unknown {
  return (row as Record<string, unknown>)[column];
}

function expectColumn(column: unknown, what: string): string {
  if (typeof column !== 'string' || column === '')
    throw new ValidationError(
      `Expected the column of \`${what}()\` to be a non-empty string, got ${describeValue(column)}`,
    );
  return column;
}

/** `count()`: rows in the group; `count(column)`: rows whose `column` is not null. */
export function count(column?: string): Aggregate<number, number> {
  const col = column === undefined ? undefined : expectColumn(column, 'count');
  return builtin(
    {
      init: () => 0,
      add: col === undefined ? (s) => s + 1 : (s, row) => (get(row, col) == null ? s : s + 1),
      merge: (a, b) => a + b,
      finish: (s) => s,
      stateBytes: 0,
    },
    'count',
    col,
  );
}

/**
 * `sum(column)`: null when every value is null. Safe integers sum as numbers and switch to bigint
 * past 2^53; bigints sum as bigint; decimal strings sum exactly to a decimal string; any fraction
 * makes it a double.
 */
export function sum(column: string): Aggregate<SumState, number | bigint | string | null> {
  const col = expectColumn(column, 'sum');
  return builtin(
    {
      init: () => ({ k: 0, v: 0, scale: 0 }),
      add(s, row) {
        addValue(s, get(row, col), col);
        return s;
      },
      merge: (a, b) => mergeSums(a, b, col),
      finish: sumResult,
    },
    'sum',
    col,
  );
}

/** `mean(column)`: the average of the non-null values as a double (the sum is exact until the division); null when there are none. */
export function mean(column: string): Aggregate<{ s: SumState; n: number }, number | null> {
  const col = expectColumn(column, 'mean');
  return builtin(
    {
      init: () => ({ s: { k: 0, v: 0, scale: 0 }, n: 0 }),
      add(state, row) {
        const value = get(row, col);
        if (value === null || value === undefined) return state;
        addValue(state.s, value, col);
        state.n++;
        return state;
      },
      merge(a, b) {
        mergeSums(a.s, b.s, col);
        a.n += b.n;
        return a;
      },
      finish(state) {
        if (state.n === 0) return null;
        const total = sumResult(state.s);
        return Number(total) / state.n;
      },
    },
    'mean',
    col,
  );
}

function extreme(column: string, name: string, sign: 1 | -1): Aggregate<unknown, unknown> {
  const col = expectColumn(column, name);
  const pick = (a: unknown, b: unknown): unknown => {
    if (b === null || b === undefined) return a;
    if (a === null || a === undefined) return b;
    return sign * compareValues(b, a) > 0 ? b : a;
  };
  return builtin(
    {
      // null, not undefined: a group with no value yet has a state partialGroups can hand on
      // (mergeGroups took undefined for a row without the column, and failed on an all-null group)
      init: () => null,
      add: (s, row) => pick(s, get(row, col)),
      merge: (a, b) => pick(a, b),
      finish: (s) => (s === undefined ? null : s),
    },
    sign > 0 ? 'max' : 'min',
    col,
  );
}

/** `min(column)`: the smallest non-null value (numbers numerically, NaN above all; strings by code point, as UTF-8 bytes). */
export function min(column: string): Aggregate<unknown, unknown> {
  return extreme(column, 'min', -1);
}

/** `max(column)`: the largest non-null value (NaN is the largest number, as in DuckDB). */
export function max(column: string): Aggregate<unknown, unknown> {
  return extreme(column, 'max', 1);
}

/** `first(column)`: the value of the group's first row in input order (null included). */
export function first(column: string): Aggregate<{ set: boolean; v: unknown }, unknown> {
  const col = expectColumn(column, 'first');
  return builtin(
    {
      init: () => ({ set: false, v: null }),
      add(s, row) {
        if (!s.set) {
          s.set = true;
          s.v = get(row, col) ?? null;
        }
        return s;
      },
      merge: (a, b) => (a.set ? a : b),
      finish: (s) => s.v,
    },
    'first',
    col,
  );
}

/** `last(column)`: the value of the group's last row in input order (null included). */
export function last(column: string): Aggregate<{ set: boolean; v: unknown }, unknown> {
  const col = expectColumn(column, 'last');
  return builtin(
    {
      init: () => ({ set: false, v: null }),
      add(s, row) {
        s.set = true;
        s.v = get(row, col) ?? null;
        return s;
      },
      merge: (a, b) => (b.set ? b : a),
      finish: (s) => s.v,
    },
    'last',
    col,
  );
}

/** `countDistinct(column)`: the number of distinct non-null values, exactly (a set of canonical encodings per group). */
export function countDistinct(column: string): Aggregate<Set<string>, number> {
  const col = expectColumn(column, 'countDistinct');
  return builtin(
    {
      init: () => new Set<string>(),
      add(s, row, meter) {
        const value = get(row, col);
        if (value === null || value === undefined) return s;
        const key = encodeValue(value, false);
        if (!s.has(key)) {
          s.add(key);
          meter.bytes += 40 + 2 * key.length;
        }
        return s;
      },
      merge(a, b, meter) {
        for (const key of b) {
          if (!a.has(key)) {
            a.add(key);
            meter.bytes += 40 + 2 * key.length;
          }
        }
        return a;
      },
      finish: (s) => s.size,
    },
    'other',
    col,
  );
}

/** Options of {@link collect}. */
export interface CollectAggregateOptions {
  /** Most values kept per group (default 1000); later values are dropped. */
  limit?: number;
}

/** `collect(column, { limit })`: the group's values (null included) in input order, at most `limit` of them. */
export function collect(column: string, options: CollectAggregateOptions = {}): Aggregate<unknown[], unknown[]> {
  const col = expectColumn(column, 'collect');
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`Expected the options of \`collect()\` to be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options))
    if (key !== 'limit') throw new ValidationError(`Unknown option \`${key}\` of \`collect()\``);
  const limit = options.limit ?? 1000;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new ValidationError(
      `Expected \`limit\` of \`collect()\` to be a positive integer, got ${describeValue(limit)}`,
    );
  return builtin(
    {
      init: () => [],
      add(s, row, meter) {
        if (s.length < limit) {
          const value = get(row, col) ?? null;
          s.push(value);
          meter.bytes += 8 + estimateValueBytes(value, 0);
        }
        return s;
      },
      merge(a, b, meter) {
        for (const value of b) {
          if (a.length >= limit) break;
          a.push(value);
          meter.bytes += 8 + estimateValueBytes(value, 0);
        }
        return a;
      },
      finish: (s) => s,
    },
    'other',
    col,
  );
}

/** Checks that `value` is an {@link Aggregate}; `path` names it in the message. */
export function expectAggregate(value: unknown, path: string): Aggregate {
  if (typeof value !== 'object' || value === null)
    throw new ValidationError(
      `Expected \`${path}\` to be an aggregate ({ init, add, merge, finish }), got ${describeValue(value)}`,
    );
  for (const fn of ['init', 'add', 'merge', 'finish'] as const) {
    if (typeof (value as Record<string, unknown>)[fn] !== 'function')
      throw new ValidationError(
        `Expected \`${path}.${fn}\` to be a function, got ${describeValue((value as Record<string, unknown>)[fn])}`,
      );
  }
  return value as Aggregate;
}

/** User aggregates wrapped by {@link reportingAggregate} (not wrapped twice). */
const reporting = new WeakSet<Aggregate>();

/**
 * `aggregate` (a user's) with what its functions throw as a StageError naming the output column
 * and the function, as a throwing `map` is: an `add` that threw came out as the bare Error, with no
 * code and nothing to say which aggregate. Errors spillway raised pass as they are.
 */
function reportingAggregate(aggregate: Aggregate, name: string): Aggregate {
  const fail = (step: string, error: unknown): never => {
    if (error instanceof SpillwayError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new StageError(`aggregate \`${name}\` threw in ${step}(): ${message}`, {}, { cause: error });
  };
  const wrapped: Aggregate = {
    init: () => {
      try {
        return aggregate.init();
      } catch (error) {
        return fail('init', error);
      }
    },
    add: (state, row, meter) => {
      try {
        return aggregate.add(state, row, meter);
      } catch (error) {
        return fail('add', error);
      }
    },
    merge: (earlier, later, meter) => {
      try {
        return aggregate.merge(earlier, later, meter);
      } catch (error) {
        return fail('merge', error);
      }
    },
    finish: (state) => {
      try {
        return aggregate.finish(state);
      } catch (error) {
        return fail('finish', error);
      }
    },
    ...(aggregate.stateBytes === undefined ? {} : { stateBytes: aggregate.stateBytes }),
  };
  reporting.add(wrapped);
  return wrapped;
}

/**
 * The aggregates of a groupBy (and of its two phases, partial-groups.ts), validated: output names
 * and their aggregates, in order. No output may take the name of one of `keys` (the key columns
 * come first in an output row).
 */
export function expectAggregates(aggregates: unknown, keys: readonly string[]): { names: string[]; aggs: Aggregate[] } {
  if (typeof aggregates !== 'object' || aggregates === null || Array.isArray(aggregates))
    throw new ValidationError(
      `Expected \`aggregates\` to be an object of output column -> aggregate, got ${describeValue(aggregates)}`,
    );
  const names = Object.keys(aggregates);
  const aggs = names.map((name) => {
    const aggregate = expectAggregate((aggregates as Aggregates)[name], `aggregates.${name}`);
    return isBuiltinAggregate(aggregate) || reporting.has(aggregate) ? aggregate : reportingAggregate(aggregate, name);
  });
  for (const name of names)
    if (keys.includes(name)) throw new ValidationError(`Aggregate \`${name}\` has the name of a key column`);
  return { names, aggs };
}

/** `collect` under a name that does not clash with the `collect()` sink. */
export const collectValues = collect;

/**
 * Every built-in aggregate in one object: `agg.collect('note', { limit: 100 })` (the package's
 * top-level `collect` is the sink; the aggregate is `agg.collect` or `collectValues`).
 */
export const agg = { count, sum, mean, min, max, first, last, countDistinct, collect } as const;
