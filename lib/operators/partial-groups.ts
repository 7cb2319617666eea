/**
 * Two-phase aggregation, as DataFusion's partial and final aggregates: a `parallel()` worker
 * groups each batch it is given into one row per group holding each aggregate's partial state
 * ({@link partialGroups}), and a groupBy on the main thread merges those states by key
 * ({@link mergeStates}: each aggregate's `add` is its `merge`). The work that grows with the rows
 * (reading values, `add`) runs on the workers; the main thread merges a row per group per batch.
 * The states cross threads as the rows of any batch function do (a structured clone when
 * spillway's record codec cannot carry them: Sets, Maps, nested objects), so they must be plain
 * data, as spilled states already must.
 */
import type { Schema } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import { SchemaMismatchError, UnsupportedError, ValidationError, describeValue } from '../core/errors.ts';
import { ROWS_SCHEMA } from '../formats/arrow/metadata-keys.ts';
import { aggregateSpec, expectAggregates, type Aggregate, type Aggregates, type MemoryMeter } from './aggregates.ts';
import { columnGetter } from './key-encoding.ts';
import { expectKeyColumns } from './key-columns.ts';
import { KeyTrie } from './key-trie.ts';

/**
 * A batch function for `parallel(module, { kind: 'batch' })`: groups the rows of each batch by
 * `keys` and returns one row per group, in the order groups first appear: the key columns (the
 * values of the group's first row), then one column per aggregate holding its partial state.
 * Feed its output to {@link mergeStates} (the `mergeGroups` stage) with the same aggregates.
 * Keys are equal as in groupBy: nulls are one group, NaN is one key, -0 is 0.
 *
 * @example
 * ```ts
 * // totals.ts, run on the workers
 * import { agg, partialGroups } from 'spillway';
 * export const aggregates = { n: agg.count(), volume: agg.sum('qty') };
 * export default partialGroups('symbol', aggregates);
 * ```
 */
export function partialGroups(
  keys: string | readonly string[],
  aggregates: Aggregates,
): (rows: readonly Row[]) => Row[] {
  const keyNames = expectKeyColumns(keys, 'keys');
  const { names, aggs } = expectAggregates(aggregates, keyNames);
  const getters = keyNames.map(columnGetter);
  return (rows) => {
    if (!Array.isArray(rows))
      throw new ValidationError(
        `partialGroups runs on a batch of rows (parallel's \`kind: 'batch'\`), got ${describeValue(rows)}`,
      );
    refuseDecimalOrder(rows, aggs);
    const trie = new KeyTrie<number>(keyNames.length);
    const out: Row[] = [];
    const states: unknown[][] = [];
    const meter: MemoryMeter = { bytes: 0 };
    for (const row of rows) {
      let g = trie.find(row, getters);
      if (g === undefined) {
        g = out.length;
        trie.insert(g);
        const group: Record<string, unknown> = {};
        for (let k = 0; k < keyNames.length; k++) group[keyNames[k]!] = getters[k]!(row) ?? null;
        out.push(group);
        states.push(aggs.map((a) => a.init()));
      }
      const held = states[g]!;
      for (let a = 0; a < aggs.length; a++) held[a] = aggs[a]!.add(held[a], row, meter);
    }
    for (let g = 0; g < out.length; g++) {
      const group = out[g] as Record<string, unknown>;
      for (let a = 0; a < names.length; a++) group[names[a]!] = states[g]![a];
    }
    return out;
  };
}

/** Arrow type id of Decimal (apache-arrow's `Type.Decimal`; not imported: the worker may never load apache-arrow). */
const DECIMAL_TYPE_ID = 7;

/**
 * Refuses a min or max of a DECIMAL column: rows hold a decimal as its exact text, and the states
 * merged on the main thread are rows too, so both phases would compare it as text (9.50 above
 * 24.00), where groupBy compares the Arrow column's values. The rows tell what they were made
 * from when a parallel() worker decoded them from Arrow ({@link ROWS_SCHEMA}).
 */
function refuseDecimalOrder(rows: readonly Row[], aggs: readonly Aggregate[]): void {
  const schema = (rows as { [ROWS_SCHEMA]?: Schema })[ROWS_SCHEMA];
  if (schema === undefined) return;
  for (const aggregate of aggs) {
    const spec = aggregateSpec(aggregate);
    if ((spec?.kind !== 'min' && spec?.kind !== 'max') || spec.column === undefined) continue;
    const field = schema.fields.find((f) => f.name === spec.column);
    if (field?.typeId === DECIMAL_TYPE_ID)
      throw new UnsupportedError(
        `partialGroups cannot take the ${spec.kind} of DECIMAL column "${spec.column}": across workers its values are compared as text (9.50 above 24.00). Use groupBy, or cast the column to a number first`,
        {},
      );
  }
}

/**
 * The aggregates that merge the partial states {@link partialGroups} made with `aggregates`:
 * each reads the state in its own output column and merges it (`merge(init(), state)` must be
 * the state, as it is for every built-in aggregate), and finishes as the aggregate does. A row
 * without the column (or `undefined` in it) is a SchemaMismatchError naming the column.
 */
export function mergeStates(aggregates: Aggregates): Aggregates {
  const { names, aggs } = expectAggregates(aggregates, []);
  const merged: Aggregates = {};
  names.forEach((name, a) => {
    const aggregate = aggs[a]!;
    merged[name] = {
      init: () => aggregate.init(),
      add: (state, row, meter) => {
        const partial = (row as Record<string, unknown>)[name];
        if (partial === undefined)
          throw new SchemaMismatchError(
            `mergeGroups: a row has no partial state in column \`${name}\` (expected rows from partialGroups with the same aggregates), got ${describeValue(row)}`,
            { stage: 'groupBy' },
          );
        return aggregate.merge(state, partial, meter);
      },
      merge: (earlier, later, meter) => aggregate.merge(earlier, later, meter),
      finish: (state) => aggregate.finish(state),
      stateBytes: aggregate.stateBytes,
    };
  });
  return merged;
}
