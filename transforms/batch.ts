/** `batch`: re-batches rows to a fixed number of rows per batch. */
import { Batch, type Row } from '../lib/core/batch.ts';
import { BatchTransform } from '../lib/core/transform.ts';
import { expectBoolean, expectInteger, expectOptions, optionKeys } from '../lib/core/validate.ts';
import { ValidationError } from '../lib/core/errors.ts';
import { batchSizer } from '../lib/memory/batch-size.ts';

/** Options of {@link batch}. */
export interface BatchOptions {
  /** Rows per output batch (default 8192). The last batch may be smaller. */
  rows?: number;
  /**
   * Follow memory instead of a fixed size: the size adapts to the observed bytes per row and the
   * governor's headroom, damped, within [min, max]. `rows` is then the starting size.
   */
  adaptive?: boolean;
  /** Fewest rows per batch when adaptive (default 256). */
  min?: number;
  /** Most rows per batch when adaptive (default 65536). */
  max?: number;
  /** Name used in stats and errors (default `batch`). */
  name?: string;
}

/** Every option of BatchOptions, for strict validation. */
const KNOWN_BATCH_OPTIONS = optionKeys<BatchOptions>({ rows: true, adaptive: true, min: true, max: true, name: true });
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
  const opts = expectOptions(options, 'options', KNOWN_BATCH_OPTIONS);
  const initial = expectInteger(opts.rows, 'options.rows', 8192);
  const adaptive = expectBoolean(opts.adaptive, 'options.adaptive', false);
  const min = expectInteger(opts.min, 'options.min', Math.min(256, initial));
  const max = expectInteger(opts.max, 'options.max', Math.max(65536, initial), min);
  if (adaptive && (initial < min || initial > max))
    throw new ValidationError(
      `Expected \`options.rows\` (${initial}) to lie within options.min (${min}) and options.max (${max})`,
    );
  const name = opts.name ?? 'batch';
  let sizer: ReturnType<typeof batchSizer> | undefined;
  let size = initial;
  let pending: Row[] = [];
  let first: Batch | undefined;
  let index = 0;
  let rowStart = 0;
  const emit = (push: (b: Batch) => void, rows: Row[]): void => {
    const source = first?.position.source ?? name;
    const out = new Batch(rows, { source, index: index++, rowStart });
    rowStart += rows.length;
    if (sizer) {
      sizer.observe(out.numRows, out.bytes);
      size = sizer.next();
    }
    push(out);
  };
  return new BatchTransform({
    name,
    transform(input, push, context, stats) {
      if (first === undefined && adaptive) {
        sizer = batchSizer('auto', 'options.rows', { initial, min, max }, context.governor);
        size = sizer.next();
      }
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
    flush(push, _context, stats) {
      if (pending.length > 0) emit(push, pending);
      pending = [];
      if (sizer) sizer.record(stats.details);
      else stats.details.batchSize = size;
    },
  });
}
