/** `select`: keeps some columns of every row, in a given order, renamed if asked (SQL's `SELECT a, b AS c`). */
import { Batch, type Row, type SniffedTypes } from '../lib/core/batch.ts';
import { SchemaMismatchError, ValidationError, describeValue } from '../lib/core/errors.ts';
import { BatchTransform } from '../lib/core/transform.ts';
import { expectKeyColumns } from '../lib/operators/key-columns.ts';

/** Output name -> input column, in output order: `{ id: 'id', p2: 'price' }` is `SELECT id, price AS p2`. */
export type SelectRenames = Readonly<Record<string, string>>;

/**
 * Keeps columns `columns` of every row, in that order: a name, a list of names, or an object of
 * output name -> input column (`{ id: 'id', p2: 'price' }`, SQL's `SELECT id, price AS p2`; an
 * input column may be named twice). A row or batch that lacks one of them is an error naming the
 * column and the columns it has.
 *
 * Over Arrow batches it keeps the column data as it is (no copy, no row objects; a renamed
 * column is the same data under another name), and it tells the source before it that these are
 * the only columns read: `fromCsv` then leaves the others' cells unbuilt and `fromParquet` unread
 * ([projection pushdown](../docs/pipeline.md)), as DuckDB's readers skip the columns a query does
 * not use.
 *
 * @example
 * ```ts
 * // SELECT DISTINCT symbol, venue FROM trades.csv
 * await pipeline(fromCsv('trades.csv'), select(['symbol', 'venue']), distinct(), toParquet('pairs.parquet'));
 * // SELECT id, price AS p2 FROM history.csv
 * await pipeline(fromCsv('history.csv', { cast: true }), select({ id: 'id', p2: 'price' }), toParquet('p2.parquet'));
 * ```
 */
export function select(columns: string | readonly string[] | SelectRenames): BatchTransform {
  const { inputs, outputs } = resolveColumns(columns);
  const renamed = outputs.some((name, k) => name !== inputs[k]);
  const as = renamed ? outputs : undefined;
  return new BatchTransform({
    name: 'select',
    capabilities: { accepts: ['rows', 'arrow'], keepsForm: true, reads: [...new Set(inputs)] },
    transform(batch, push) {
      push(batch.hasArrow && !batch.hasRows ? selectArrow(batch, inputs, as) : selectRows(batch, inputs, outputs));
    },
  });
}

/** The input columns read and the output names given them, in output order. */
function resolveColumns(columns: unknown): { inputs: string[]; outputs: string[] } {
  if (typeof columns !== 'object' || columns === null || Array.isArray(columns)) {
    const names = expectKeyColumns(columns, 'columns');
    return { inputs: names, outputs: names };
  }
  const entries = Object.entries(columns as Record<string, unknown>);
  if (entries.length === 0)
    throw new ValidationError('Expected `columns` to name at least one column (output name -> input column)');
  for (const [output, input] of entries) {
    if (output === '') throw new ValidationError('Expected the output names of `columns` to be non-empty');
    if (typeof input !== 'string' || input === '')
      throw new ValidationError(
        `Expected \`columns.${output}\` to be the name of an input column, got ${describeValue(input)}`,
      );
  }
  return { inputs: entries.map(([, input]) => input as string), outputs: entries.map(([output]) => output) };
}

function missing(column: string, has: readonly string[], batch: Batch): SchemaMismatchError {
  return new SchemaMismatchError(
    `select: no column ${JSON.stringify(column)} in the data (it has ${has.join(', ') || 'no columns'})`,
    { stage: 'select', file: batch.position.source, batch: batch.position.index },
  );
}

function selectArrow(batch: Batch, names: readonly string[], as: readonly string[] | undefined): Batch {
  const has = batch.columns ?? [];
  for (const name of names) if (!has.includes(name)) throw missing(name, has, batch);
  return batch.projectArrow(names, as);
}

function selectRows(batch: Batch, names: readonly string[], outputs: readonly string[]): Batch {
  const rows = batch.rows;
  const out = new Array<Row>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string, unknown>;
    if (Array.isArray(row))
      throw new SchemaMismatchError('select: rows are arrays; it selects columns of rows keyed by name', {
        stage: 'select',
        file: batch.position.source,
        batch: batch.position.index,
      });
    const kept: Record<string, unknown> = {};
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      if (!(name in row)) throw missing(name, Object.keys(row), batch);
      const output = outputs[k]!;
      // an own property even when named __proto__ (an assignment would set the prototype)
      if (output === '__proto__')
        Object.defineProperty(kept, output, { value: row[name], enumerable: true, writable: true, configurable: true });
      else kept[output] = row[name];
    }
    out[i] = kept;
  }
  // the kept columns keep what the source knew of their types (a sniffed CSV's BIGINT, DATE): as
  // new rows they were typed from their values, and a BIGINT column was written DOUBLE
  const known = batch.sniffed;
  let sniffed: Record<string, SniffedTypes[string]> | undefined;
  if (known !== undefined)
    for (let k = 0; k < names.length; k++)
      if (Object.hasOwn(known, names[k]!)) (sniffed ??= Object.create(null))[outputs[k]!] = known[names[k]!]!;
  return new Batch(out, batch.position, undefined, outputs, sniffed);
}
