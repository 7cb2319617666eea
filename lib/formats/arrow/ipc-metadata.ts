/**
 * Just enough of the Arrow IPC metadata (flatbuffers) to check a file before apache-arrow decodes
 * it: message version, header type, schema endianness, record batch lengths and the file footer's
 * blocks. apache-arrow 21 accepts big-endian data (and decodes it wrongly) and future metadata
 * versions without complaint, and reads out-of-range blocks as zeros; these checks refuse them.
 * Every read is bounds-checked and throws a plain Error that callers wrap with the file name.
 */

import { verifyRecordBatch, verifySchema } from './ipc-verify.ts';
import { Table, check, safe } from './flatbuffer.ts';

export { Table, check } from './flatbuffer.ts';

/** Arrow IPC file magic, at both ends of a file-format file. */
export const ARROW_MAGIC = 'ARROW1';
/** The newest metadata version apache-arrow 21 understands (V5). */
export const MAX_METADATA_VERSION = 4;
/** Message header types. */
export const MessageHeaderType = { Schema: 1, DictionaryBatch: 2, RecordBatch: 3 } as const;

/** A block of the file footer: where one message sits. */
export interface FooterBlock {
  readonly offset: number;
  readonly metaDataLength: number;
  readonly bodyLength: number;
}

/** What the footer of an IPC file says. */
export interface FooterInfo {
  readonly version: number;
  readonly bigEndian: boolean;
  readonly dictionaries: FooterBlock[];
  readonly recordBatches: FooterBlock[];
}

/** The parts of one IPC message header spillway checks. */
export interface MessageInfo {
  readonly version: number;
  readonly headerType: number;
  readonly bodyLength: number;
  /** Schema messages only. */
  readonly bigEndian: boolean;
  /** RecordBatch messages only: its number of rows. */
  readonly length: number;
  /** RecordBatch messages only: its body buffers are compressed. */
  readonly compressed: boolean;
}

function root(bytes: Uint8Array): Table {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  check(view, 0, 4);
  return new Table(view, view.getUint32(0, true));
}

function blocks(table: Table, i: number): FooterBlock[] {
  const at = table.indirect(i);
  if (!at) return [];
  const view = table.view;
  check(view, at, 4);
  const n = view.getUint32(at, true);
  check(view, at + 4, n * 24);
  const out: FooterBlock[] = [];
  for (let k = 0; k < n; k++) {
    const b = at + 4 + k * 24;
    const metaDataLength = view.getInt32(b + 8, true);
    if (metaDataLength <= 0) throw new Error(`footer block ${k} has metadata length ${metaDataLength}`);
    out.push({
      offset: safe(view.getBigInt64(b, true)),
      metaDataLength,
      bodyLength: safe(view.getBigInt64(b + 16, true)),
    });
  }
  return out;
}

/** Parses the flatbuffer of an IPC file footer. */
export function parseFooter(bytes: Uint8Array): FooterInfo {
  const footer = root(bytes);
  const schemaAt = footer.indirect(1);
  if (!schemaAt) throw new Error('footer has no schema');
  const schema = new Table(footer.view, schemaAt);
  verifySchema(schema);
  return {
    version: footer.int16(0, 0),
    bigEndian: schema.int16(0, 0) === 1,
    dictionaries: blocks(footer, 2),
    recordBatches: blocks(footer, 3),
  };
}

/** Parses the flatbuffer of one message (without its length prefix). */
export function parseMessage(bytes: Uint8Array): MessageInfo {
  const message = root(bytes);
  const version = message.int16(0, 0);
  const headerType = message.uint8(1, 0);
  const headerAt = message.indirect(2);
  const bodyLength = message.int64(3, 0);
  let bigEndian = false;
  let length = 0;
  let compressed = false;
  if (headerAt) {
    const header = new Table(message.view, headerAt);
    if (headerType === MessageHeaderType.Schema) {
      bigEndian = header.int16(0, 0) === 1;
      verifySchema(header);
    }
    if (headerType === MessageHeaderType.RecordBatch) {
      length = header.int64(0, 0);
      compressed = header.indirect(3) !== 0;
      verifyRecordBatch(header, bodyLength);
    }
    if (headerType === MessageHeaderType.DictionaryBatch) {
      const data = header.indirect(1);
      if (data) verifyRecordBatch(new Table(message.view, data), bodyLength);
    }
  } else if (headerType !== 0) throw new Error('message has no header');
  return { version, headerType, bodyLength, bigEndian, length, compressed };
}

/** Where a batch's buffers sit in its body and how long each column (field node) is. */
export interface BatchLayout {
  /** Field nodes in depth-first order: rows and nulls. */
  readonly nodes: readonly { length: number; nullCount: number }[];
  /** Body buffers in order: offset and length in the body (compressed: 8-byte prefix included). */
  readonly buffers: readonly { offset: number; length: number }[];
}

function int64Vector(table: Table, i: number, pairs: number): number[] {
  const at = table.indirect(i);
  if (!at) return [];
  check(table.view, at, 4);
  const n = table.view.getUint32(at, true);
  check(table.view, at + 4, n * 8 * pairs);
  const out: number[] = [];
  for (let k = 0; k < n * pairs; k++) out.push(safe(table.view.getBigInt64(at + 4 + 8 * k, true)));
  return out;
}

/**
 * The node and buffer vectors of a RecordBatch or DictionaryBatch message (without its length
 * prefix), or undefined for other messages. Call after {@link parseMessage} has verified it.
 */
export function parseBatchLayout(bytes: Uint8Array): BatchLayout | undefined {
  const message = root(bytes);
  const headerType = message.uint8(1, 0);
  const headerAt = message.indirect(2);
  if (!headerAt) return undefined;
  let batch = new Table(message.view, headerAt);
  if (headerType === MessageHeaderType.DictionaryBatch) {
    const data = batch.indirect(1);
    if (!data) return undefined;
    batch = new Table(message.view, data);
  } else if (headerType !== MessageHeaderType.RecordBatch) return undefined;
  const nodes = int64Vector(batch, 1, 2);
  const buffers = int64Vector(batch, 2, 2);
  return {
    nodes: Array.from({ length: nodes.length / 2 }, (_, k) => ({
      length: nodes[2 * k]!,
      nullCount: nodes[2 * k + 1]!,
    })),
    buffers: Array.from({ length: buffers.length / 2 }, (_, k) => ({
      offset: buffers[2 * k]!,
      length: buffers[2 * k + 1]!,
    })),
  };
}

/**
 * Reads the length prefix of an encapsulated message at `bytes[0..8)`: `0xFFFFFFFF <int32>` since
 * Arrow 0.15, or a bare `<int32>` before. Returns the metadata length (0 at end of stream) and
 * the prefix size.
 */
export function readPrefix(bytes: Uint8Array): { metadataLength: number; prefix: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new Error('truncated message prefix');
  const first = view.getInt32(0, true);
  if (first !== -1) {
    if (first < 0) throw new Error(`invalid message length ${first}`);
    return { metadataLength: first, prefix: 4 };
  }
  // a continuation marker without its length: the stream was cut inside a message's prefix
  if (bytes.byteLength < 8) throw new Error('truncated message prefix');
  const length = view.getInt32(4, true);
  if (length < 0) throw new Error(`invalid message length ${length}`);
  return { metadataLength: length, prefix: 8 };
}

/** Checks a message header: metadata version and endianness. Returns a reason to refuse, or null. */
export function refuseReason(info: {
  version: number;
  bigEndian: boolean;
}): { unsupported: boolean; reason: string } | null {
  if (info.version > MAX_METADATA_VERSION)
    return { unsupported: true, reason: `metadata version V${info.version + 1} is newer than the supported V5` };
  if (info.bigEndian)
    return { unsupported: true, reason: 'the data is big-endian, which apache-arrow decodes incorrectly' };
  return null;
}
