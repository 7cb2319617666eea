/** `collect`: gathers the rows in memory, up to a limit. */
import type { Row } from '../lib/core/batch.ts';
import { BatchSink } from '../lib/core/sink.ts';
import { CollectLimitError } from '../lib/core/errors.ts';
import { expectInteger, expectOptions, optionKeys, parseBytes, type ByteSize } from '../lib/core/validate.ts';

/** Options of {@link collect}. */
export interface CollectOptions {
  /** Refuse past this many rows (default 10,000,000). */
  maxRows?: number;
  /** Refuse past this many (estimated) bytes (default 1 GB). */
  maxBytes?: ByteSize;
}

/** Every option of CollectOptions, for strict validation. */
const KNOWN_COLLECT_OPTIONS = optionKeys<CollectOptions>({ maxRows: true, maxBytes: true });
/**
 * Collects every row into an array: the pipeline's `output`. It refuses, with a
 * {@link CollectLimitError}, to hold more than `maxRows` rows or `maxBytes` bytes rather than
 * exhaust memory; use a file sink or `toSpill` for more.
 */
export function collect<R extends Row = Row>(options?: CollectOptions): BatchSink<R[]> {
  const opts = expectOptions(options, 'options', KNOWN_COLLECT_OPTIONS);
  const maxRows = expectInteger(opts.maxRows, 'options.maxRows', 10_000_000);
  const maxBytes = opts.maxBytes === undefined ? 1e9 : parseBytes(opts.maxBytes, 'options.maxBytes');
  const rows: R[] = [];
  let bytes = 0;
  return new BatchSink<R[]>({
    name: 'collect',
    anyValues: true,
    write(batch) {
      bytes += batch.bytes;
      if (rows.length + batch.numRows > maxRows) {
        throw new CollectLimitError(
          `collect() holds at most ${maxRows} rows (options.maxRows); use a file sink or toSpill() for more`,
          { stage: 'collect', batch: batch.position.index },
        );
      }
      if (bytes > maxBytes) {
        throw new CollectLimitError(
          `collect() holds at most ${maxBytes} bytes (options.maxBytes); use a file sink or toSpill() for more`,
          { stage: 'collect', batch: batch.position.index },
        );
      }
      for (const row of batch.rows) rows.push(row as R);
    },
    finish: () => rows,
  });
}
