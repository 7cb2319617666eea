/**
 * Reading the metadata of an Arrow IPC file without its bodies: exact positional reads, a
 * stream-format file's message headers (rows and buffer layout of each batch), one batch's buffer
 * layout, and the refusal of what apache-arrow 21 decodes wrongly (big-endian, future versions).
 */
import type { FileHandle } from 'node:fs/promises';
import { FormatError, UnsupportedError } from '../../core/errors.ts';
import {
  MessageHeaderType,
  parseBatchLayout,
  parseMessage,
  readPrefix,
  refuseReason,
  type BatchLayout,
  type FooterBlock,
} from './ipc-metadata.ts';

/** Throws an {@link UnsupportedError} for big-endian data or a metadata version newer than V5. */
export function refuse(info: { version: number; bigEndian: boolean }, path: string): void {
  const why = refuseReason(info);
  if (why) throw new UnsupportedError(`Cannot read Arrow IPC: ${why.reason}`, { file: path });
}

/** Reads exactly `length` bytes at `position`; a plain Error at the end of the file. */
export async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
  return buffer;
}

/** The buffer layout of the batch in `block` (its metadata is read again: one small read). */
export async function readLayout(handle: FileHandle, block: FooterBlock): Promise<BatchLayout | undefined> {
  const meta = await readExactly(handle, block.offset, block.metaDataLength);
  const { prefix, metadataLength } = readPrefix(meta);
  return parseBatchLayout(meta.subarray(prefix, prefix + metadataLength));
}

/** Walks the messages of a stream-format file reading only their headers (bodies are skipped). */
export async function scanStream(
  path: string,
  handle: FileHandle,
  size: number,
): Promise<{ batchRows: number[]; layouts: (BatchLayout | undefined)[] | undefined }> {
  const batchRows: number[] = [];
  const layouts: (BatchLayout | undefined)[] = [];
  let dictionaries = false;
  let position = 0;
  let first = true;
  while (position < size) {
    const prefixBytes = await readExactly(handle, position, Math.min(8, size - position));
    let metadataLength: number;
    let prefix: number;
    try {
      ({ metadataLength, prefix } = readPrefix(prefixBytes));
    } catch (error) {
      throw new FormatError(
        `Arrow stream is cut short: it ends inside the length prefix of a message at byte ${position} (${(error as Error).message})`,
        { file: path, byteOffset: position },
        { cause: error },
      );
    }
    if (metadataLength === 0) break; // end-of-stream marker
    if (position + prefix + metadataLength > size)
      throw new FormatError(`Message at byte ${position} overruns the file`, { file: path, byteOffset: position });
    const meta = await readExactly(handle, position + prefix, metadataLength);
    const info = parseMessage(meta);
    refuse(info, path);
    if (first && info.headerType !== MessageHeaderType.Schema)
      throw new FormatError('Arrow stream does not start with a schema', { file: path });
    first = false;
    if (info.headerType === MessageHeaderType.RecordBatch) {
      batchRows.push(info.length);
      layouts.push(parseBatchLayout(meta));
    }
    if (info.headerType === MessageHeaderType.DictionaryBatch) dictionaries = true;
    // metadata is padded to 8 bytes by the writer; prefix + metadataLength already includes it
    position += prefix + metadataLength + info.bodyLength;
    if (position > size)
      throw new FormatError(`Message body at byte ${position - info.bodyLength} overruns the file`, {
        file: path,
        byteOffset: position,
      });
  }
  if (first) throw new FormatError('Arrow stream holds no schema', { file: path });
  // dictionary batches are decoded inside the same read as the record batch after them: their
  // buffers cannot be told from the batch's, so such streams are capped by the ceiling only
  return { batchRows, layouts: dictionaries ? undefined : layouts };
}
