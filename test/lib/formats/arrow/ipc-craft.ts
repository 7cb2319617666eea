/**
 * Locating body buffers in Arrow IPC files written by the tests, to craft hostile variants
 * (a mutated length prefix, a replaced frame) of a real file, and the refusal they must meet.
 */
import assert from 'node:assert/strict';
import type { Field } from 'apache-arrow';
import { ErrorCodes, SpillwayError } from '../../../../lib/core/errors.ts';
import { openArrowFile } from '../../../../lib/formats/arrow/ipc-reader.ts';
import {
  MessageHeaderType,
  parseBatchLayout,
  parseFooter,
  parseMessage,
  readPrefix,
  type BatchLayout,
} from '../../../../lib/formats/arrow/ipc-metadata.ts';
import { bufferSlots } from '../../../../lib/formats/arrow/ipc-buffers.ts';

/** The first record batch's layout and where its body starts, in a file or stream-format file. */
export function firstBatch(bytes: Buffer, format: 'file' | 'stream'): { layout: BatchLayout; body: number } {
  if (format === 'file') {
    const footerLength = bytes.readInt32LE(bytes.length - 10);
    const footer = parseFooter(bytes.subarray(bytes.length - 10 - footerLength, bytes.length - 10));
    const block = footer.recordBatches[0]!;
    const meta = bytes.subarray(block.offset, block.offset + block.metaDataLength);
    const { prefix, metadataLength } = readPrefix(meta);
    return {
      layout: parseBatchLayout(meta.subarray(prefix, prefix + metadataLength))!,
      body: block.offset + block.metaDataLength,
    };
  }
  for (let at = 0; ; ) {
    const { prefix, metadataLength } = readPrefix(bytes.subarray(at));
    const meta = bytes.subarray(at + prefix, at + prefix + metadataLength);
    const info = parseMessage(meta);
    if (info.headerType === MessageHeaderType.RecordBatch)
      return { layout: parseBatchLayout(meta)!, body: at + prefix + metadataLength };
    at += prefix + metadataLength + info.bodyLength;
  }
}

/** Where column `column`'s values buffer sits in the file: [prefix start, buffer end), and what it needs. */
export function valuesBuffer(
  bytes: Buffer,
  format: 'file' | 'stream',
  fields: readonly Field[],
  column = 'n',
): { start: number; end: number; needs: number } {
  const { layout, body } = firstBatch(bytes, format);
  const slots = bufferSlots(fields, layout.nodes);
  const k = slots.findIndex((s) => s.column === column && s.kind === 'values');
  const buffer = layout.buffers[k]!;
  const start = body + buffer.offset;
  return { start, end: start + buffer.length, needs: slots[k]!.needs! };
}

/** Reading batch 0 of `file` fails with a FormatError naming the file, batch 0 and column `n` (and `message`). */
export async function assertBatchRefused(file: string, message?: RegExp): Promise<void> {
  const handle = await openArrowFile(file);
  try {
    await assert.rejects(handle.readBatch(0), (error: unknown) => {
      assert.ok(error instanceof SpillwayError, String(error));
      assert.equal(error.code, ErrorCodes.FORMAT);
      assert.equal(error.context.file, file);
      assert.equal(error.context.batch, 0);
      assert.match(error.message, /column `n`/);
      if (message) assert.match(error.message, message);
      return true;
    });
  } finally {
    await handle.close();
  }
}
