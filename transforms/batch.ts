/** `batch`: re-batches rows to a fixed number of rows per batch. */
import { Batch, type Row } from '../lib/batch.ts';
import { BatchTransform } from '../lib/transform.ts';
import { expectInteger, expectOptions } from '../lib/validate.ts';

/** Options of {@link batch}. */
export interface BatchOptions {
  /** Rows per output batch (default 8192). The last batch may be smaller. */
  rows?: number;
  /** Name used in stats and errors (default `batch`). */
  name?: string;
}

/**
 * Regroups rows into batches of `rows` rows: larger batches amortise per-batch costs (worker
 * round trips, file writes), smaller ones bound memory per step.
 *
 * @example
 * ```ts
 * pipeline(fromCsv('a.csv'), batch({ rows: 50_000 }), parallel(...), toCsv('b.csv'))
 * ```
 */
export function batch(options?: BatchOptions): BatchTransform {
  const opts = expectOptions(options);
  const size = expectInteger(opts.rows, 'options.rows', 8192);
  const name = opts.name ?? 'batch';
  let pending: Row[] = [];
  let first: Batch | undefined;
  let index = 0;
  let rowStart = 0;
  const emit = (push: (b: Batch) => void, rows: Row[]): void => {
    const source = first?.position.source ?? name;
    push(new Batch(rows, { source, index: index++, rowStart }));
    rowStart += rows.length;
  };
  return new BatchTransform({
    name,
    transform(input, push) {
      first ??= input;
      const rows = input.rows;
      let offset = 0;
      // a batch that already has the right size passes through without copying
      if (pending.length === 0 && rows.length === size) {
        emit(push, rows);
        return;
      }
      while (offset < rows.length) {
        const take = Math.min(size - pending.length, rows.length - offset);
        for (let i = 0; i < take; i++) pending.push(rows[offset + i] as Row);
        offset += take;
        if (pending.length === size) {
          emit(push, pending);
          pending = [];
        }
      }
    },
    flush(push) {
      if (pending.length > 0) emit(push, pending);
      pending = [];
    },
  });
}
