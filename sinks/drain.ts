/** `drain`: discards every batch (for benchmarks and side-effect pipelines). */
import { BatchSink } from '../lib/core/sink.ts';

/** Result of {@link drain}: how much it discarded. */
export interface DrainResult {
  rows: number;
  batches: number;
}

/** Consumes and discards every batch; the output counts them. */
export function drain(): BatchSink<DrainResult> {
  const result: DrainResult = { rows: 0, batches: 0 };
  return new BatchSink<DrainResult>({
    name: 'drain',
    anyValues: true,
    // reads no rows: any form will do
    capabilities: { accepts: ['rows', 'arrow', 'view'] },
    write(batch) {
      result.rows += batch.numRows;
      result.batches++;
    },
    finish: () => result,
  });
}
