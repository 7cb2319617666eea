/**
 * The head of an Arrow byte stream (stdin, a Readable) is checked before apache-arrow reads it
 * (issue 19): a first message declaring an absurd metadata length is a FormatError naming the
 * stream as soon as its 8-byte prefix arrives, instead of bytes waited for and held (and joined
 * again at every chunk); valid streams and file-format inputs cut into tiny chunks still read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferSchema, rowsToRecordBatch, recordBatchToRows } from '../../../../lib/formats/arrow/convert.ts';
import { MAX_SCHEMA_MESSAGE_BYTES, readArrowStream } from '../../../../lib/formats/arrow/ipc-reader.ts';
import { ErrorCodes, SpillwayError } from '../../../../lib/core/errors.ts';
import type { Row } from '../../../../lib/core/batch.ts';
import { tableToIPC, Table } from 'apache-arrow';
import { MessageHeaderType, parseMessage, readPrefix } from '../../../../lib/formats/arrow/ipc-metadata.ts';

const ROWS: Row[] = Array.from({ length: 300 }, (_, i) => ({ n: i, s: `row ${i}` }));

function ipc(format: 'file' | 'stream'): Uint8Array {
  const schema = inferSchema(ROWS);
  return tableToIPC(new Table([rowsToRecordBatch(ROWS, { schema })]), format);
}

/** `bytes` in chunks of `size`, counting what the reader pulled. */
function chunked(bytes: Uint8Array, size: number): { source: AsyncIterable<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += size) {
      const chunk = bytes.subarray(at, at + size);
      pulled += chunk.length;
      yield chunk;
    }
  }
  return { source: gen(), pulled: () => pulled };
}

async function readAll(source: AsyncIterable<Uint8Array>, file: string): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of readArrowStream(source, { file })) rows.push(...recordBatchToRows(batch));
  return rows;
}

test('a first message declaring 1.5 GB of metadata is refused once its prefix arrives, without pulling the rest', async () => {
  const total = 64 * 1024 * 1024;
  const head = Buffer.alloc(16);
  head.writeInt32LE(-1, 0);
  head.writeInt32LE(1536 * 1024 * 1024, 4);
  let pulled = 0;
  async function* hostile(): AsyncGenerator<Uint8Array> {
    pulled += head.length;
    yield head;
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    for (let sent = head.length; sent < total; sent += chunk.length) {
      pulled += chunk.length;
      yield chunk;
    }
  }
  await assert.rejects(readAll(hostile(), 'stdin'), (error: unknown) => {
    assert.ok(error instanceof SpillwayError, String(error));
    assert.equal(error.code, ErrorCodes.FORMAT);
    assert.equal(error.context.file, 'stdin');
    assert.match(error.message, new RegExp(`declares ${1536 * 1024 * 1024} bytes of metadata`));
    return true;
  });
  assert.ok(pulled <= 2 * 1024 * 1024, `pulled ${pulled} of ${total} bytes before refusing`);
  assert.ok(MAX_SCHEMA_MESSAGE_BYTES < 1536 * 1024 * 1024);
});

test('a valid stream and a file-format input, cut into 3-byte chunks, read back whole', async () => {
  for (const format of ['stream', 'file'] as const) {
    const bytes = ipc(format);
    const { source, pulled } = chunked(bytes, 3);
    assert.deepEqual(await readAll(source, `tiny-${format}`), ROWS);
    assert.equal(pulled(), bytes.length);
  }
});

test('a stream that ends inside its first message is a FormatError naming it', async () => {
  const bytes = ipc('stream');
  const { source } = chunked(bytes.subarray(0, 40), 7);
  await assert.rejects(readAll(source, 'cut'), (error: unknown) => {
    assert.ok(error instanceof SpillwayError, String(error));
    assert.equal(error.code, ErrorCodes.FORMAT);
    assert.equal(error.context.file, 'cut');
    return true;
  });
});

test('a record batch declaring a 1.5 GB body in a small stream is a FormatError naming it, with nothing near that allocated', async () => {
  const bytes = Buffer.from(ipc('stream'));
  // the record batch message (after the schema): its bodyLength is an int64 in its metadata
  const { metadataLength, prefix } = readPrefix(bytes);
  const at = prefix + metadataLength;
  const next = readPrefix(bytes.subarray(at));
  const meta = bytes.subarray(at + next.prefix, at + next.prefix + next.metadataLength);
  const info = parseMessage(meta);
  assert.equal(info.headerType, MessageHeaderType.RecordBatch);
  let field = -1;
  for (let i = 0; i + 8 <= meta.length; i += 4) if (meta.readBigInt64LE(i) === BigInt(info.bodyLength)) field = i;
  assert.ok(field >= 0, 'bodyLength found in the metadata');
  const declared = 1536 * 1024 * 1024;
  meta.writeBigInt64LE(BigInt(declared), field);
  const before = process.memoryUsage();
  await assert.rejects(readAll(chunked(bytes, 1024).source, 'big-body'), (error: unknown) => {
    assert.ok(error instanceof SpillwayError, String(error));
    assert.equal(error.code, ErrorCodes.FORMAT);
    assert.equal(error.context.file, 'big-body');
    return true;
  });
  const after = process.memoryUsage();
  assert.ok(after.arrayBuffers - before.arrayBuffers < declared / 32, 'array buffers stay small');
  assert.ok(after.rss - before.rss < declared / 8, `RSS grew by ${after.rss - before.rss} bytes`);
});
