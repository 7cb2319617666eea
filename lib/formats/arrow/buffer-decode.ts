/**
 * Capped decompression of Arrow IPC body buffers (zstd and LZ4 frames). apache-arrow hands its
 * registered codec only the compressed bytes of a buffer, so a zstd frame without a content size
 * decompressed without limit (issue 19: 8 KB of RLE blocks became 256 MB), and an LZ4 buffer's
 * declared length was never checked. spillway's readers run each batch's decode
 * inside a context (AsyncLocalStorage) that says which file, batch and buffers it reads; the
 * codec then decompresses each buffer into at most what the file declares for it (the 8-byte
 * length prefix before the frame) and what its column needs (from the field nodes), and refuses
 * more with a FormatError naming the file, the batch and the column.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Field } from 'apache-arrow';
import { FormatError } from '../../core/errors.ts';
import { zstdDecompressCapped, zstdDecompressInto } from '../zstd.ts';
import { lz4DecompressCapped } from '../lz4.ts';
import { bufferSlots, type BufferSlot } from './ipc-buffers.ts';
import type { BatchLayout } from './ipc-metadata.ts';

/** Largest single buffer decompressed (apache-arrow's offsets are int32 for most types anyway). */
export const MAX_BUFFER_BYTES = 1 << 30;

/** Slack over what a column needs: writers may pad a buffer to 64 bytes. */
const PADDING = 64;

/** What spillway's reader says about the batch being decoded. */
export interface DecodeScope {
  readonly file: string;
  /** Record batch index; undefined for dictionary batches. */
  readonly batch: number | undefined;
  /** The batch's body buffers and their columns, when its metadata was read. */
  readonly layout?: BatchLayout;
  readonly fields?: readonly Field[];
  readonly v4?: boolean;
}

interface ScopeState extends DecodeScope {
  slots: readonly BufferSlot[] | undefined;
  /** Where the body starts in the memory apache-arrow decodes from, once a buffer was located. */
  bodyStart?: number;
  /** The last offset of the offsets buffer just decoded, with its buffer index. */
  lastOffset?: { index: number; value: number };
}

const scopes = new AsyncLocalStorage<ScopeState>();

/** Runs `read` (one batch's decode) with `scope` known to the codecs. */
export function withDecodeScope<T>(scope: DecodeScope, read: () => T): T {
  const slots = scope.layout && scope.fields ? bufferSlots(scope.fields, scope.layout.nodes, scope.v4) : undefined;
  return scopes.run({ ...scope, slots }, read);
}

/** True when every compressed buffer in [from, to) would have been decoded first: none is, they are raw (-1). */
function skippedRaw(
  memory: ArrayBufferLike,
  start: number,
  buffers: BatchLayout['buffers'],
  from: number,
  to: number,
): boolean {
  for (let j = from; j < to; j++) {
    const { offset, length } = buffers[j]!;
    if (length === 0) continue;
    if (length < 8 || start + offset + 8 > memory.byteLength) return false;
    if (new DataView(memory, start + offset, 8).getBigInt64(0, true) !== -1n) return false;
  }
  return true;
}

/**
 * Which body buffer `bytes` is (apache-arrow hands the frame as a view of the body, its prefix
 * just before it): found once by length, with the body's start it implies checked against the
 * raw buffers skipped on the way; then by offset from that start.
 */
function locate(state: ScopeState, bytes: Uint8Array): number | undefined {
  const buffers = state.layout?.buffers ?? [];
  const at = bytes.byteOffset - 8;
  if (state.bodyStart !== undefined) {
    const k = buffers.findIndex((b) => b.offset === at - state.bodyStart! && b.length === bytes.byteLength + 8);
    return k < 0 ? undefined : k;
  }
  for (let k = 0; k < buffers.length; k++) {
    const start = at - buffers[k]!.offset;
    if (buffers[k]!.length !== bytes.byteLength + 8 || start < 0) continue;
    if (!skippedRaw(bytes.buffer, start, buffers, 0, k)) continue;
    state.bodyStart = start;
    return k;
  }
  return undefined;
}

/** The uncompressed length the file declares in the 8 bytes before the frame, if it is one. */
function declaredLength(bytes: Uint8Array): number | undefined {
  if (bytes.byteOffset < 8) return undefined;
  const value = new DataView(bytes.buffer, bytes.byteOffset - 8, 8).getBigInt64(0, true);
  // apache-arrow's own writer (through 21) stores the compressed length there: no information
  if (value < 0n || value === BigInt(bytes.byteLength) || value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(value);
}

/** offsets[n] of a decoded offsets buffer that needs `needs` bytes of `width`-byte offsets. */
function lastOffsetOf(out: Uint8Array, needs: number, width: number): number | undefined {
  if (needs < width || out.byteLength < needs) return undefined;
  const view = new DataView(out.buffer, out.byteOffset + needs - width, width);
  return width === 8 ? Number(view.getBigInt64(0, true)) : view.getInt32(0, true);
}

/** What the buffer may hold: what its column needs (plus padding), else the ceiling. */
function capOf(state: ScopeState, index: number | undefined, slot: BufferSlot | undefined): number {
  let needs = slot?.needs;
  if (needs === undefined && slot?.kind === 'data' && state.lastOffset?.index === (index ?? 0) - 1)
    needs = state.lastOffset.value;
  if (needs === undefined || needs < 0) return MAX_BUFFER_BYTES;
  return Math.min(MAX_BUFFER_BYTES, Math.ceil(needs / PADDING) * PADDING + PADDING);
}

function describe(state: ScopeState): string {
  return state.batch === undefined ? 'a dictionary batch' : `record batch ${state.batch}`;
}

/** How one codec decompresses a buffer: into at most `cap` bytes, or into exactly `declared`. */
interface CappedCodec {
  capped(bytes: Uint8Array, cap: number): Uint8Array;
  exact(bytes: Uint8Array, declared: number, cap: number): Uint8Array;
}

const zstdCapped: CappedCodec = {
  capped: zstdDecompressCapped,
  exact: (bytes, declared) => zstdDecompressInto(bytes, declared),
};

const lz4Capped: CappedCodec = {
  capped: (bytes, cap) => lz4DecompressCapped(bytes, cap),
  exact: (bytes, declared, cap) => lz4DecompressCapped(bytes, cap, declared),
};

/**
 * Decompresses one compressed Arrow body buffer with `codec`, capped (see the file comment): a
 * declared length above what the column holds is refused before anything is allocated.
 */
function decodeBuffer(bytes: Uint8Array, codec: CappedCodec): Uint8Array {
  const state = scopes.getStore();
  if (state === undefined) return codec.capped(bytes, MAX_BUFFER_BYTES);
  const index = locate(state, bytes);
  const slot = index === undefined ? undefined : state.slots?.[index];
  const column = slot ? `column \`${slot.column}\`` : 'a column';
  const cap = capOf(state, index, slot);
  const declared = declaredLength(bytes);
  let out: Uint8Array;
  try {
    if (declared !== undefined && declared > cap)
      throw new Error(`its buffer declares ${declared} bytes where the column holds at most ${cap}`);
    out = declared === undefined ? codec.capped(bytes, cap) : codec.exact(bytes, declared, cap);
  } catch (error) {
    throw new FormatError(
      `Corrupt Arrow ${describe(state)}: ${column}: ${(error as Error).message}`,
      { file: state.file, batch: state.batch },
      { cause: error },
    );
  }
  if (slot?.kind === 'offsets' && index !== undefined && slot.needs !== undefined && slot.width !== undefined) {
    const value = lastOffsetOf(out, slot.needs, slot.width);
    if (value !== undefined) state.lastOffset = { index, value };
  }
  return out;
}

/**
 * Decompresses one zstd-compressed Arrow body buffer, capped (see the file comment). Outside a
 * spillway reader's scope (a caller's own apache-arrow read) only the 1 GiB ceiling applies.
 * @throws FormatError in a scope, a plain Error outside one
 */
export function decodeZstdBuffer(bytes: Uint8Array): Uint8Array {
  return decodeBuffer(bytes, zstdCapped);
}

/**
 * Decompresses one LZ4-frame Arrow body buffer, capped like {@link decodeZstdBuffer}: the 8-byte
 * length the file declares is checked against the column and the frame's own headers before the
 * decoder allocates anything.
 * @throws FormatError in a scope, a plain Error outside one
 */
export function decodeLz4Buffer(bytes: Uint8Array): Uint8Array {
  return decodeBuffer(bytes, lz4Capped);
}
