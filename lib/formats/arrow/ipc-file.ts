/**
 * The Arrow IPC file format read on demand: the footer with positional reads, every block's
 * message header verified before apache-arrow reads it (blocks inside the file, the right
 * message types, bodies within their blocks, no future version), then one record batch at a
 * time through apache-arrow's file reader over the FileHandle, each decoded inside a scope that
 * tells the codecs what its buffers may hold.
 */
import type { FileHandle } from 'node:fs/promises';
import { logger } from '../../core/log.ts';
import { RecordBatchReader, type AsyncRecordBatchFileReader, type RecordBatch, type Schema } from 'apache-arrow';
import { renameRepeatedColumns } from './repeated-names.ts';
import { FormatError, IoError } from '../../core/errors.ts';
import { checkRecordBatch } from './batch-check.ts';
import { withDecodeScope } from './buffer-decode.ts';
import { MAGIC_BYTES, wrapArrowError, type ArrowFileHandle } from './ipc-handle.ts';
import {
  MessageHeaderType,
  parseFooter,
  parseMessage,
  readPrefix,
  type FooterBlock,
  type FooterInfo as Footer,
  type MessageInfo,
} from './ipc-metadata.ts';
import { readExactly, readLayout, refuse } from './ipc-scan.ts';

const debug = logger('arrow');

/** Throws when a dictionary or record batch block of `footer` lies outside `[8, footerStart)`. */
export function checkFooterBlocks(footer: Footer, footerStart: number, file: string): void {
  for (const [i, block] of [...footer.dictionaries, ...footer.recordBatches].entries()) {
    if (block.offset < 8 || block.offset + block.metaDataLength + block.bodyLength > footerStart) {
      throw new FormatError(`Arrow file block ${i} (offset ${block.offset}) lies outside the data`, { file });
    }
  }
}

/** Reads and checks the footer of a file-format file of `size` bytes: magic, length, version, block bounds. */
async function readFooter(path: string, handle: FileHandle, size: number): Promise<Footer> {
  if (size < 8 + 10) throw new FormatError(`Arrow file too short (${size} bytes)`, { file: path });
  const tail = await readExactly(handle, size - 10, 10);
  if (!MAGIC_BYTES.equals(tail.subarray(4)))
    throw new FormatError('Arrow file has no trailing ARROW1 magic (truncated?)', { file: path });
  const footerLength = tail.readInt32LE(0);
  const footerStart = size - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8)
    throw new FormatError(`Arrow file footer length ${footerLength} is invalid`, { file: path });
  const footer = parseFooter(await readExactly(handle, footerStart, footerLength));
  refuse(footer, path);
  checkFooterBlocks(footer, footerStart, path);
  return footer;
}

/** A block's message header, its metadata checked to lie within the block. */
async function blockMessage(
  handle: FileHandle,
  block: FooterBlock,
  what: string,
  context: { file: string; batch?: number },
): Promise<MessageInfo> {
  const meta = await readExactly(handle, block.offset, block.metaDataLength);
  const { prefix, metadataLength } = readPrefix(meta);
  if (prefix + metadataLength > block.metaDataLength)
    throw new FormatError(`${what} metadata overruns its block`, context);
  return parseMessage(meta.subarray(prefix, prefix + metadataLength));
}

/** Dictionary batches are read by apache-arrow at open: their headers are verified first. */
async function checkDictionaries(path: string, handle: FileHandle, footer: Footer): Promise<void> {
  for (const [i, block] of footer.dictionaries.entries()) {
    const info = await blockMessage(handle, block, `Dictionary batch ${i}`, { file: path });
    if (info.headerType !== MessageHeaderType.DictionaryBatch)
      throw new FormatError(`Footer dictionary block ${i} is not a dictionary batch`, { file: path });
    if (info.bodyLength > block.bodyLength)
      throw new FormatError(`Dictionary batch ${i} body overruns its block`, { file: path });
  }
}

/** Rows of each record batch and whether it is compressed, from their verified headers. */
async function readBatchHeaders(
  path: string,
  handle: FileHandle,
  footer: Footer,
): Promise<{ batchRows: number[]; compressed: boolean[] }> {
  const batchRows: number[] = [];
  // which batches are compressed: only their decode needs the buffer layout (read again then)
  const compressed: boolean[] = [];
  for (const [i, block] of footer.recordBatches.entries()) {
    const info = await blockMessage(handle, block, `Record batch ${i}`, { file: path, batch: i });
    refuse({ version: info.version, bigEndian: false }, path);
    if (info.headerType !== MessageHeaderType.RecordBatch)
      throw new FormatError(`Footer block ${i} is not a record batch`, { file: path, batch: i });
    if (info.bodyLength > block.bodyLength)
      throw new FormatError(`Record batch ${i} body overruns its block`, { file: path, batch: i });
    batchRows.push(info.length);
    compressed.push(info.compressed);
  }
  return { batchRows, compressed };
}

/** What reading one batch of an open file needs. */
interface OpenFile {
  path: string;
  handle: FileHandle;
  reader: AsyncRecordBatchFileReader;
  footer: Footer;
  schema: Schema;
  v4: boolean;
  batchRows: readonly number[];
  compressed: readonly boolean[];
}

/** Reads, decodes and checks record batch `index` (its rows against its header's). */
async function decodeBatch(file: OpenFile, index: number): Promise<RecordBatch> {
  const { path, handle, reader, schema, v4 } = file;
  let batch: RecordBatch | null;
  try {
    const layout = file.compressed[index] ? await readLayout(handle, file.footer.recordBatches[index]!) : undefined;
    batch = await withDecodeScope({ file: path, batch: index, layout, fields: schema.fields, v4 }, () =>
      reader.readRecordBatch(index),
    );
    if (batch !== null) checkRecordBatch(batch);
  } catch (error) {
    throw wrapArrowError(error, path, 'record batch', index);
  }
  if (batch === null) throw new FormatError(`Record batch ${index} could not be read`, { file: path, batch: index });
  if (batch.numRows !== file.batchRows[index])
    throw new FormatError(
      `Record batch ${index} decoded ${batch.numRows} rows, its header says ${file.batchRows[index]}`,
      {
        file: path,
        batch: index,
      },
    );
  return batch;
}

/** The handle over an open file: one batch read at a time (the reader seeks a shared position). */
function fileHandle(file: OpenFile): ArrowFileHandle {
  const { path, batchRows } = file;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  const readBatch = (index: number): Promise<RecordBatch> => {
    if (!Number.isInteger(index) || index < 0 || index >= batchRows.length) {
      return Promise.reject(new RangeError(`Batch index ${index} is outside 0..${batchRows.length - 1} of ${path}`));
    }
    const result = queue.then(() => {
      if (closed) throw new IoError('Arrow file is closed', { file: path, batch: index });
      return decodeBatch(file, index);
    });
    queue = result.catch(() => {});
    return result;
  };
  return {
    path,
    format: 'file',
    schema: file.schema,
    numBatches: batchRows.length,
    numRows: batchRows.reduce((a, b) => a + b, 0),
    batchRows,
    readBatch,
    async *batches() {
      for (let i = 0; i < batchRows.length; i++) yield await readBatch(i);
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      await file.reader.cancel().catch(() => {});
      await file.handle.close().catch(() => {});
    },
  };
}

/**
 * Opens a file-format Arrow file of `size` bytes on `handle`: footer and every block header
 * verified, dictionaries read (by apache-arrow, at open), record batches read on demand.
 * @throws FormatError or UnsupportedError naming `path`; the caller closes `handle` then
 */
export async function openFileFormat(path: string, handle: FileHandle, size: number): Promise<ArrowFileHandle> {
  const footer = await readFooter(path, handle, size);
  await checkDictionaries(path, handle, footer);
  const { batchRows, compressed } = await readBatchHeaders(path, handle, footer);
  const reader = (await RecordBatchReader.from(handle)) as unknown as AsyncRecordBatchFileReader;
  if (!reader.isFile()) throw new FormatError('Arrow file was not recognised as file format', { file: path });
  await withDecodeScope({ file: path, batch: undefined }, () => reader.open({ autoDestroy: false }));
  // read on open: renamed now, before a batch is built under it
  renameRepeatedColumns(reader);
  const schema = reader.schema;
  const v4 = (schema.metadataVersion as number) < 4;
  debug(
    'opened %s: %d batches, %d rows',
    path,
    batchRows.length,
    batchRows.reduce((a, b) => a + b, 0),
  );
  return fileHandle({ path, handle, reader, footer, schema, v4, batchRows, compressed });
}
