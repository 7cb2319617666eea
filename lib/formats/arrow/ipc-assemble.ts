/**
 * Compressed record-batch bodies for the IPC writer: apache-arrow's VectorAssembler lays out a
 * batch's buffers, then every buffer is compressed concurrently on the libuv threadpool (LZ4
 * frames or zstd), so compression overlaps encoding and disk writes. Also the in-memory sink
 * that apache-arrow's writers encode message headers into.
 */
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { BufferRegion } from 'apache-arrow/ipc/metadata/message';
import type { RecordBatch, Vector } from 'apache-arrow';
import { compressFrame, compressFrameSync } from '../lz4.ts';
import { nativePoolsAllowed } from '../../memory/native-pools.ts';
import { zstdCompress } from '../zstd.ts';

/** What apache-arrow's VectorAssembler produces for a batch, with compressed body buffers. */
export interface Assembled {
  byteLength: number;
  nodes: unknown[];
  bufferRegions: BufferRegion[];
  buffers: ArrayBufferView[];
  variadicBufferCounts: number[];
}

const COMPRESS_LENGTH_PREFIX = 8;

/** LZ4 frame compression on lz4-napi's threads, or on this one while memory is pressed (native-pools.ts). */
export function lz4Frame(bytes: Uint8Array): Promise<Uint8Array> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return nativePoolsAllowed() ? compressFrame(buffer) : Promise.resolve(compressFrameSync(buffer));
}

/** zstd compression on the libuv threadpool (@toondepauw/node-zstd's async encoder). */
export function zstdOffThread(bytes: Uint8Array): Promise<Uint8Array> {
  return zstdCompress(bytes);
}

/** A view as bytes, without copying. */
function asBytes(view: ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Assembles `batch`'s body and LZ4-compresses every buffer concurrently on the threadpool. The
 * layout matches apache-arrow's own `_compressBodyBuffers` (8-byte length prefix, then the frame;
 * -1 and the raw bytes when compression does not shrink it; 8-byte aligned regions), except that
 * the prefix holds the uncompressed length, as the Arrow format specifies.
 */
export async function assembleCompressed(
  batch: RecordBatch,
  codec: (bytes: Uint8Array) => Promise<Uint8Array>,
): Promise<Assembled> {
  const { nodes, buffers, variadicBufferCounts } = VectorAssembler.assemble(batch) as unknown as Assembled;
  const raw = buffers.map(asBytes);
  const compressed = await Promise.all(raw.map((bytes) => (bytes.byteLength === 0 ? null : codec(bytes))));
  return laidOut(raw, compressed, nodes, variadicBufferCounts);
}

/**
 * The body of a batch the writer compresses with each buffer stored as it is (length prefix -1,
 * which the format allows buffer by buffer): for dictionary batches, which apache-arrow 21
 * compresses itself with the compressed length in the prefix, so a dictionary longer than a few
 * values was unreadable by pyarrow ("Lz4 decompression buffer too small"); spillway's reader
 * tolerated it.
 */
export function assembleStored(input: RecordBatch | Vector): Assembled {
  const { nodes, buffers, variadicBufferCounts } = VectorAssembler.assemble(input) as unknown as Assembled;
  const raw = buffers.map(asBytes);
  return laidOut(raw, raw, nodes, variadicBufferCounts);
}

/** Buffers with their 8-byte length prefixes, in 8-byte aligned regions (a packed buffer no smaller than its bytes is stored as they are). */
function laidOut(
  raw: readonly Uint8Array[],
  compressed: readonly (Uint8Array | null)[],
  nodes: unknown[],
  variadicBufferCounts: number[],
): Assembled {
  const out: ArrayBufferView[] = [];
  const bufferRegions: BufferRegion[] = [];
  let offset = 0;
  for (let i = 0; i < raw.length; i++) {
    const bytes = raw[i]!;
    const packed = compressed[i];
    if (bytes.byteLength === 0 || !packed) {
      out.push(new Uint8Array(0), new Uint8Array(0));
      bufferRegions.push(new BufferRegion(offset, 0));
      continue;
    }
    const effective = packed.byteLength < bytes.byteLength;
    const body = effective ? packed : bytes;
    const prefix = new Uint8Array(COMPRESS_LENGTH_PREFIX);
    new DataView(prefix.buffer).setBigInt64(0, effective ? BigInt(bytes.byteLength) : -1n, true);
    out.push(prefix, body);
    offset = (offset + 7) & ~7;
    bufferRegions.push(new BufferRegion(offset, COMPRESS_LENGTH_PREFIX + body.byteLength));
    offset += COMPRESS_LENGTH_PREFIX + body.byteLength;
  }
  return { byteLength: (offset + 7) & ~7, nodes, bufferRegions, buffers: out, variadicBufferCounts };
}

/** apache-arrow's assembler, as the writer calls it. */
export type AssembleFn = (batch: RecordBatch | Vector) => Assembled;

/** Bytes apache-arrow's writer emitted, collected in memory. */
export interface ByteCollector {
  closed: boolean;
  chunks: Uint8Array[];
  bytes: number;
  write(chunk: Uint8Array): void;
  close(): void;
  abort(): void;
}

/** A fresh, empty {@link ByteCollector}. */
export function collector(): ByteCollector {
  return {
    closed: false,
    chunks: [],
    bytes: 0,
    write(chunk) {
      this.chunks.push(chunk);
      this.bytes += chunk.byteLength;
    },
    close() {
      this.closed = true;
    },
    abort() {
      this.closed = true;
    },
  };
}
