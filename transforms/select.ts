/** `select`: keeps some columns of every row, in a given order (SQL's `SELECT a, b`). */
import type { Batch, Row } from '../lib/core/batch.ts';
import { SchemaMismatchError } from '../lib/core/errors.ts';
import { BatchTransform } from '../lib/core/transform.ts';
import { expectKeyColumns } from '../lib/operators/key-columns.ts';

/**
 * Keeps columns `columns` of every row, in that order. A row or batch that lacks one of them is
 * an error naming the column and the columns it has.
 *
 * Over Arrow batches it keeps the column data as it is (no copy, no row objects), and it tells
 * the source before it that these are the only columns read: `fromCsv` then leaves the others'
 * cells unbuilt and `fromParquet` unread ([projection pushdown](../docs/pipeline.md)), as
 * DuckDB's readers skip the columns a query does not use.
 *
 * @example
 * ```ts
 * // SELECT DISTINCT symbol, venue FROM trades.csv
 * await pipeline(fromCsv('trades.csv'), select(['symbol', 'venue']), distinct(), toParquet('pairs.parquet'));
 * ```
 */
export function select(columns: string | readonly string[]): BatchTransform {
  const names = expectKeyColumns(columns, 'columns');
  return new BatchTransform({
    name: 'select',
    capabilities: { accepts: ['rows', 'arrow'], keepsForm: true, reads: names },
    transform(batch, push) {
      push(batch.hasArrow && !batch.hasRows ? selectArrow(batch, names) : selectRows(batch, names));
    },
  });
}

function missing(column: string, has: readonly string[], batch: Batch): SchemaMismatchError {
  return new SchemaMismatchError(
    `select: no column ${JSON.stringify(column)} in the data (it has ${has.join(', ') || 'no columns'})`,
    { stage: 'select', file: batch.position.source, batch: batch.position.index },
  );
}

function selectArrow(batch: Batch, names: readonly string[]): Batch {
  const has = batch.columns ?? [];
  for (const name of names) if (!has.includes(name)) throw missing(name, has, batch);
  return batch.projectArrow(names);
}

function selectRows(batch: Batch, names: readonly string[]): Batch {
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
    for (const name of names) {
      if (!(name in row)) throw missing(name, Object.keys(row), batch);
      kept[name] = row[name];
    }
    out[i] = kept;
  }
  return batch.withRows(out);
}
