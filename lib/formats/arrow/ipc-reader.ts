/**
 * Reading Arrow IPC without loading it whole. File format: the footer is read with positional
 * reads and each record batch is read on demand (apache-arrow's reader over a FileHandle seeks
 * and reads only that block; dictionaries are read once at open). Stream format: message by
 * message. Before apache-arrow sees the data, spillway checks what apache-arrow 21 silently gets
 * wrong: big-endian data, future metadata versions, blocks outside the file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { RecordBatchReader, type RecordBatch, type Schema } from 'apache-arrow';
import { renameRepeatedColumns, withUniqueNames } from './repeated-names.ts';
import { FormatError, IoError, UnsupportedError } from '../../core/errors.ts';
import { registerArrowCodecs } from './codecs.ts';
import { isRemoteUrl, redactUrl } from '../../dataset/remote/url.ts';
import { openRemoteHandle } from '../../dataset/remote/open.ts';
import { checkRecordBatch } from './batch-check.ts';
import { MessageHeaderType, parseFooter, parseMessage, readPrefix, type BatchLayout } from './ipc-metadata.ts';
import { withDecodeScope } from './buffer-decode.ts';
import { readExactly, refuse, scanStream } from './ipc-scan.ts';
import { MAGIC_BYTES, wrapArrowError, type ArrowFileHandle, type ArrowFormat } from './ipc-handle.ts';
import { checkFooterBlocks, openFileFormat } from './ipc-file.ts';

export type { ArrowFileHandle, ArrowFormat } from './ipc-handle.ts';

/** Tells the IPC format from the first bytes: `file` (ARROW1 magic), `stream`, or null. */
export function detectArrowFormat(head: Uint8Array): ArrowFormat | null {
  if (head.byteLength >= 6 && MAGIC_BYTES.equals(Buffer.from(head.buffer, head.byteOffset, 6))) return 'file';
  if (head.byteLength < 8) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const first = view.getInt32(0, true);
  if (first === -1) return view.getInt32(4, true) >= 0 ? 'stream' : null;
  return first > 0 ? 'stream' : null; // pre-0.15 framing: a bare metadata length
}

/**
 * Opens an Arrow IPC file (file or stream format, told by its magic bytes) for reading batch
 * by batch. Throws {@link IoError} when it cannot be opened, {@link FormatError} when it is not
 * valid Arrow IPC, {@link UnsupportedError} for big-endian or future-version files.
 */
export async function openArrowFile(path: string): Promise<ArrowFileHandle> {
  registerArrowCodecs();
  let handle: FileHandle;
  // https:// and s3:// URLs: ranged requests (lib/dataset/remote/), shown without their query
  const url = path;
  const remote = isRemoteUrl(url);
  if (remote) path = redactUrl(url);
  try {
    handle = remote ? await openRemoteHandle(url) : await open(path, 'r');
  } catch (error) {
    throw new IoError(`Cannot open Arrow file: ${(error as Error).message}`, { file: path }, { cause: error });
  }
  try {
    const { size } = await handle.stat();
    const head = await readExactly(handle, 0, Math.min(8, size));
    const format = detectArrowFormat(head);
    if (format === null)
      throw new FormatError('Not an Arrow IPC file or stream (no ARROW1 magic, no message prefix)', { file: path });
    if (remote && format !== 'file')
      throw new UnsupportedError(
        'An Arrow IPC stream cannot be read from remote storage (only the file format, whose footer allows ranged reads)',
        { file: path },
      );
    return format === 'file' ? await openFileFormat(path, handle, size) : await openStreamFormat(path, handle, size);
  } catch (error) {
    await handle.close().catch(() => {});
    throw wrapArrowError(error, path, 'file');
  }
}

async function openStreamFormat(path: string, handle: FileHandle, size: number): Promise<ArrowFileHandle> {
  const { batchRows, layouts } = await scanStream(path, handle, size);
  await handle.close();
  let schema: Schema | undefined;
  const active = new Set<AsyncIterator<RecordBatch>>();
  const iterate = (): AsyncIterableIterator<RecordBatch> => {
    const it = readArrowStream(createReadStream(path), {
      file: path,
      expectedRows: batchRows,
      ...(layouts ? { layouts } : {}),
    });
    active.add(it);
    return it;
  };
  // the schema comes from the first message; read it through apache-arrow for its exact form
  {
    const reader = await RecordBatchReader.from(createReadStream(path));
    try {
      await reader.open({ autoDestroy: false });
      schema = withUniqueNames(reader.schema);
    } catch (error) {
      throw wrapArrowError(error, path, 'stream');
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  return {
    path,
    format: 'stream',
    schema,
    numBatches: batchRows.length,
    numRows: batchRows.reduce((a, b) => a + b, 0),
    batchRows,
    async readBatch(index) {
      if (!Number.isInteger(index) || index < 0 || index >= batchRows.length)
        throw new RangeError(`Batch index ${index} is outside 0..${batchRows.length - 1} of ${path}`);
      const it = iterate();
      try {
        let i = 0;
        for (;;) {
          const next = await it.next();
          if (next.done) throw new FormatError(`Record batch ${index} is missing`, { file: path, batch: index });
          if (i++ === index) return next.value;
        }
      } finally {
        active.delete(it);
        await it.return?.();
      }
    },
    async *batches() {
      const it = iterate();
      try {
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          yield next.value;
        }
      } finally {
        active.delete(it);
        await it.return?.();
      }
    },
    async close() {
      for (const it of active) await it.return?.();
      active.clear();
    },
  };
}

/** Options of {@link readArrowStream}. */
export interface ReadArrowStreamOptions {
  /** Name for error messages (a path, or `stdin`). */
  file?: string;
  /** @internal rows each batch must have (from a header scan). */
  expectedRows?: readonly number[];
  /** @internal each batch's buffer layout (from a header scan of a stream without dictionaries). */
  layouts?: readonly (BatchLayout | undefined)[];
}

/** Checks the footer of a whole file-format buffer (endianness, version, bounds). */
function checkFileFooter(all: Buffer, file: string): void {
  const size = all.byteLength;
  if (size < 18 || !MAGIC_BYTES.equals(all.subarray(size - 6)))
    throw new FormatError('Arrow file has no trailing ARROW1 magic (truncated?)', { file });
  const footerLength = all.readInt32LE(size - 10);
  const footerStart = size - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8)
    throw new FormatError(`Arrow file footer length ${footerLength} is invalid`, { file });
  const footer = parseFooter(all.subarray(footerStart, footerStart + footerLength));
  refuse(footer, file);
  checkFooterBlocks(footer, footerStart, file);
}

/**
 * Largest schema message accepted at the head of a stream (a million-column schema takes about
 * 100 MB): a larger declared length is a corrupt prefix, not bytes to wait for and hold.
 */
export const MAX_SCHEMA_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * Bytes the head of a stream must reach before its first message can be checked: 8 to tell the
 * format, the whole first message for a stream, Infinity for a file-format input (checked at its
 * end, its footer being there).
 */
function headNeeds(head: Buffer, file: string): number {
  if (head.byteLength < 8) return 8;
  if (detectArrowFormat(head) === 'file') return Number.POSITIVE_INFINITY;
  const { metadataLength, prefix } = readPrefix(head);
  if (metadataLength > MAX_SCHEMA_MESSAGE_BYTES)
    throw new FormatError(
      `Arrow stream's first message declares ${metadataLength} bytes of metadata (at most ${MAX_SCHEMA_MESSAGE_BYTES} accepted)`,
      { file },
    );
  return prefix + metadataLength;
}

/** Checks the whole first message of a stream: a schema, little-endian, a known version. */
function checkFirstMessage(all: Buffer, file: string): void {
  const { metadataLength, prefix } = readPrefix(all);
  const info = parseMessage(all.subarray(prefix, prefix + metadataLength));
  refuse(info, file);
  if (info.headerType !== MessageHeaderType.Schema)
    throw new FormatError('Arrow stream does not start with a schema', { file });
}

/**
 * Peeks the first message of a byte stream, refuses big-endian or future-version data, then
 * hands every byte on unchanged. Chunks are joined only once the first message is complete (or,
 * for a file-format input, at its end), so holding them costs their size once.
 */
async function* checkedBytes(source: AsyncIterable<Uint8Array>, file: string): AsyncGenerator<Uint8Array> {
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let needs = 8;
  let checked = false;
  for await (const chunk of source) {
    if (checked) {
      yield chunk;
      continue;
    }
    held.push(chunk);
    heldBytes += chunk.byteLength;
    while (!checked && heldBytes >= needs) {
      const head = Buffer.concat(held, heldBytes);
      held.splice(0, held.length, head);
      const next = headNeeds(head, file);
      if (next > needs) needs = next;
      else checked = true;
    }
    if (!checked) continue;
    checkFirstMessage(held[0] as Buffer, file);
    yield held[0]!;
    held.length = 0;
  }
  if (!checked && heldBytes > 0) {
    const all = Buffer.concat(held, heldBytes);
    if (detectArrowFormat(all) !== 'file')
      throw new FormatError(`Arrow stream ends after ${heldBytes} bytes, inside its first message`, { file });
    checkFileFooter(all, file);
    yield all;
  }
}

/**
 * Reads an Arrow IPC stream (e.g. a Node Readable) message by message, yielding RecordBatches in
 * order. A file-format input also works but apache-arrow then buffers it whole: open files with
 * {@link openArrowFile}. Errors are {@link FormatError} or {@link UnsupportedError} naming
 * `options.file`.
 */
export async function* readArrowStream(
  source: Readable | AsyncIterable<Uint8Array>,
  options: ReadArrowStreamOptions = {},
): AsyncGenerator<RecordBatch> {
  registerArrowCodecs();
  const file = options.file ?? 'stream';
  let index = 0;
  let reader: Awaited<ReturnType<typeof RecordBatchReader.from>> | undefined;
  try {
    reader = await RecordBatchReader.from(checkedBytes(source as AsyncIterable<Uint8Array>, file));
    renameRepeatedColumns(reader);
    // the schema (read on open) tells each buffer's column before the first batch decodes
    if (options.layouts && !reader.schema) await withDecodeScope({ file, batch: undefined }, () => reader!.open());
    const it = (reader as AsyncIterable<RecordBatch>)[Symbol.asyncIterator]();
    for (;;) {
      // each batch decodes inside a scope naming it, so its codec knows what it may expand to
      const layout = options.layouts?.[index];
      const scope = {
        file,
        batch: index,
        ...(layout && reader.schema ? { layout, fields: reader.schema.fields } : {}),
      };
      const next = await withDecodeScope(scope, () => it.next());
      if (next.done) break;
      const batch = next.value;
      checkRecordBatch(batch);
      const expected = options.expectedRows?.[index];
      if (expected !== undefined && expected !== batch.numRows)
        throw new FormatError(`Record batch ${index} decoded ${batch.numRows} rows, its header says ${expected}`, {
          file,
          batch: index,
        });
      index++;
      yield batch;
    }
  } catch (error) {
    throw wrapArrowError(error, file, 'stream', index);
  } finally {
    try {
      await reader?.cancel(); // a file-format reader is synchronous and returns nothing
    } catch {
      // already failing or done: the first error wins
    }
    if ('destroy' in source && typeof source.destroy === 'function') source.destroy();
  }
}
