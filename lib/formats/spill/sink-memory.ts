/**
 * What the spill sink holds in memory and how it counts it: row batches held in their Arrow form
 * (counted by the ArrayBuffers they keep, builder slack included).
 */
import type { Data, RecordBatch } from 'apache-arrow';
import { Batch } from '../../core/batch.ts';
import { recordBatchBytes } from '../arrow/convert.ts';

/** A batch the sink holds in memory: where it came from, and the bytes it really holds. */
export interface Held {
  batch: Batch;
  origin: 'r' | 'a';
  bytes: number;
}

/**
 * A row batch is held in its Arrow form, rows dropped: converted as it arrives, its rows die
 * young (a scavenge frees them) instead of reaching V8's old generation while they wait under the
 * budget. It is counted by the ArrayBuffers it holds, not their used length: Arrow's builders
 * leave up to 4x slack in a string column's buffer. Measured on 32 MB over ten times its size in
 * rows of ~150 bytes: see docs/governor.md. Rows Arrow cannot hold stay rows (the error, if any,
 * comes when they are spilled, as before). An Arrow batch is held as it came.
 */
export function hold(batch: Batch): Held {
  if (batch.hasArrow || batch.numRows === 0) return { batch, origin: batch.hasArrow ? 'a' : 'r', bytes: batch.bytes };
  let arrow: RecordBatch;
  try {
    arrow = batch.arrow;
  } catch {
    return { batch, origin: 'r', bytes: batch.bytes };
  }
  return {
    batch: Batch.fromArrow(arrow, batch.position),
    origin: 'r',
    bytes: Math.max(heldBytes(arrow), recordBatchBytes(arrow)),
  };
}

/** Bytes of the distinct ArrayBuffers under `batch`'s columns (a builder's slack included). */
function heldBytes(batch: RecordBatch): number {
  const seen = new Set<ArrayBufferLike>();
  let bytes = 0;
  const visit = (data: Data): void => {
    for (const view of [data.values, data.valueOffsets, data.nullBitmap, data.typeIds] as (
      | ArrayBufferView
      | undefined
    )[]) {
      if (view === undefined || seen.has(view.buffer)) continue;
      seen.add(view.buffer);
      bytes += view.buffer.byteLength;
    }
    for (const child of data.children) visit(child);
  };
  for (const child of batch.data.children) visit(child);
  return bytes;
}
