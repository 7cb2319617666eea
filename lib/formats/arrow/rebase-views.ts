/**
 * A workaround for apache-arrow (21) writing sliced string and binary view columns. A slice of a
 * BinaryView/Utf8View column keeps its views already cut at the slice (the getters index them
 * from 0) and keeps the slice's offset for the validity bitmap alone; the IPC assembler then cuts
 * the views again at that offset, and writes a batch no reader can read ("BinaryView data buffer
 * is too short"). Batches are sliced whenever a source re-batches (`fromArrow` with `batchSize`,
 * `limit`), so every batch the IPC writer takes goes through {@link rebaseViews} first: a view
 * column with an offset is rebuilt at offset 0, its bitmap cut to match.
 */
import { Data, DataType, RecordBatch } from 'apache-arrow';
import { truncateBitmap } from 'apache-arrow/util/bit';

/** True when `data` or a child holds a view column with an offset. */
function needsRebase(data: Data): boolean {
  if ((DataType.isBinaryView(data.type) || DataType.isUtf8View(data.type)) && data.offset > 0) return true;
  return data.children.some(needsRebase);
}

function rebase(data: Data): Data {
  if (!needsRebase(data)) return data;
  if (DataType.isBinaryView(data.type) || DataType.isUtf8View(data.type)) {
    const { length, nullCount } = data;
    const bitmap = nullCount > 0 ? truncateBitmap(data.offset, length, data.nullBitmap) : undefined;
    return new Data(data.type, 0, length, nullCount, [undefined, data.values, bitmap], [], undefined, [
      ...data.variadicBuffers,
    ]);
  }
  const buffers = [data.valueOffsets, data.values, data.nullBitmap, data.typeIds];
  return new Data(
    data.type,
    data.offset,
    data.length,
    data.nullCount,
    buffers as never,
    data.children.map(rebase),
    data.dictionary,
    [...data.variadicBuffers],
  );
}

/** `batch` itself, or (when it holds a sliced view column) a copy that apache-arrow writes right. */
export function rebaseViews(batch: RecordBatch): RecordBatch {
  return needsRebase(batch.data) ? new RecordBatch(batch.schema, rebase(batch.data) as never) : batch;
}
