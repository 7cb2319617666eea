/**
 * lz4-napi's frame and block functions, its native addon loaded on first call
 * (lib/core/lazy-require.ts), with the same names and signatures as `import { ... } from
 * 'lz4-napi'`; and {@link lz4SingleBlock}, which finds the one block of a small LZ4 frame so a
 * reader that knows the uncompressed size can decode it with the block decoder (lz4_flex's frame
 * decoder grows its output and copies it; its block decoder writes once into a buffer of the
 * exact size: about twice as fast on spill data).
 */
import { lazyRequire } from '../core/lazy-require.ts';

type Lz4 = typeof import('lz4-napi');
const lz4 = lazyRequire<Lz4>('lz4-napi');

/** lz4-napi's `compressFrameSync`. */
export const compressFrameSync: Lz4['compressFrameSync'] = (...args) => lz4().compressFrameSync(...args);
/** lz4-napi's `decompressFrameSync`. */
export const decompressFrameSync: Lz4['decompressFrameSync'] = (...args) => lz4().decompressFrameSync(...args);
/** lz4-napi's `compressFrame` (on the libuv pool). */
export const compressFrame: Lz4['compressFrame'] = (...args) => lz4().compressFrame(...args);
/** lz4-napi's `uncompressSync`: one LZ4 block preceded by its uncompressed size (u32 little-endian). */
export const uncompressSync: Lz4['uncompressSync'] = (...args) => lz4().uncompressSync(...args);

const FRAME_MAGIC = 0x184d2204;

/** Where the only block of an LZ4 frame lies: `[start, start + length)`; `stored` when it is not compressed. */
export interface Lz4Block {
  start: number;
  length: number;
  stored: boolean;
}

/**
 * The only data block of `frame` when it is one LZ4 frame holding exactly one block (what a
 * buffer up to the frame's block size compresses to), else undefined (several blocks, linked
 * blocks, skippable frames: decode those with the frame decoder). The 4 bytes before `start`
 * are the block's size word.
 */
export function lz4SingleBlock(frame: Uint8Array): Lz4Block | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.byteLength < 7 || view.getUint32(0, true) !== FRAME_MAGIC) return undefined;
  const flg = frame[4]!;
  if (flg >>> 6 !== 1) return undefined;
  const blockChecksum = (flg & 0x10) !== 0 ? 4 : 0;
  const contentChecksum = (flg & 0x04) !== 0 ? 4 : 0;
  // magic, FLG, BD, optional content size and dictionary id, header checksum
  const start = 4 + 2 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1 + 4;
  if (start + 4 > frame.byteLength) return undefined;
  const word = view.getUint32(start - 4, true);
  const length = word & 0x7fffffff;
  const endMark = start + length + blockChecksum;
  if (word === 0 || endMark + 4 + contentChecksum !== frame.byteLength) return undefined;
  if (view.getUint32(endMark, true) !== 0) return undefined;
  return { start, length, stored: word >>> 31 === 1 };
}

/** What a frame's headers say about it: block maximum size, flags, where its first block starts. */
interface FrameHeader {
  blockMax: number;
  independent: boolean;
  blockChecksum: number;
  contentChecksum: number;
  /** Offset of the first block's size word. */
  blocks: number;
}

/** Parses the LZ4 frame header at `at` (frame format spec, "General Structure of LZ4 Frame format"). */
function frameHeader(frame: Uint8Array, at: number): FrameHeader | undefined {
  if (frame.byteLength - at < 7) return undefined;
  const flg = frame[at + 4]!;
  const bd = frame[at + 5]!;
  const code = (bd >> 4) & 7;
  if (flg >>> 6 !== 1 || code < 4) return undefined;
  return {
    blockMax: 1 << (2 * code + 8), // 4: 64 KB, 5: 256 KB, 6: 1 MB, 7: 4 MB
    independent: (flg & 0x20) !== 0,
    blockChecksum: (flg & 0x10) !== 0 ? 4 : 0,
    contentChecksum: (flg & 0x04) !== 0 ? 4 : 0,
    blocks: at + 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1,
  };
}

/** One block of a frame: its data is `[start, start + length)`. */
interface FrameBlock {
  start: number;
  length: number;
  stored: boolean;
  header: FrameHeader;
}

/** Every data block of the LZ4 frames in `data` (skippable frames passed over); undefined when a header does not parse. */
function frameBlocks(data: Uint8Array): FrameBlock[] | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const blocks: FrameBlock[] = [];
  let at = 0;
  while (at < data.byteLength) {
    if (data.byteLength - at < 8) return undefined;
    const magic = view.getUint32(at, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      at += 8 + view.getUint32(at + 4, true);
      continue;
    }
    const header = magic === FRAME_MAGIC ? frameHeader(data, at) : undefined;
    if (header === undefined) return undefined;
    at = header.blocks;
    for (;;) {
      if (at + 4 > data.byteLength) return undefined;
      const word = view.getUint32(at, true);
      at += 4;
      if (word === 0) break;
      const length = word & 0x7fffffff;
      const stored = word >>> 31 === 1;
      if (length > header.blockMax || at + length + header.blockChecksum > data.byteLength) return undefined;
      blocks.push({ start: at, length, stored, header });
      at += length + header.blockChecksum;
    }
    at += header.contentChecksum;
  }
  return at === data.byteLength ? blocks : undefined;
}

function boundOf(blocks: readonly FrameBlock[]): { bound: number; blockMax: number } {
  let bound = 0;
  let blockMax = 0;
  for (const block of blocks) {
    bound += block.stored ? block.length : block.header.blockMax;
    blockMax = Math.max(blockMax, block.header.blockMax);
  }
  return { bound, blockMax };
}

/**
 * The most the LZ4 frames in `data` can decompress to, from their headers alone (a stored block
 * its size, a compressed one its frame's block maximum), and the largest block maximum; undefined
 * when a header does not parse or a block overruns `data`.
 */
export function lz4FrameBound(data: Uint8Array): { bound: number; blockMax: number } | undefined {
  const blocks = frameBlocks(data);
  return blocks === undefined ? undefined : boundOf(blocks);
}

/** Decodes one compressed block into at most `room` bytes, with `dict` (the 64 KB before it) for linked blocks. */
function decodeBlock(data: Uint8Array, block: FrameBlock, room: number, dict: Uint8Array | undefined): Uint8Array {
  const input = Buffer.allocUnsafe(4 + block.length);
  input.writeUInt32LE(room, 0);
  input.set(data.subarray(block.start, block.start + block.length), 4);
  return dict === undefined ? uncompressSync(input) : uncompressSync(input, dict);
}

/** Block by block, each block's output capped by what is left of `limit` (block checksums are not verified here). */
function decodeBlocks(data: Uint8Array, blocks: readonly FrameBlock[], limit: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let window: Uint8Array = new Uint8Array(0);
  let frame: FrameHeader | undefined;
  for (const block of blocks) {
    if (block.header !== frame) window = new Uint8Array(0); // a new frame starts with no history
    frame = block.header;
    const room = Math.min(block.header.blockMax, limit - total);
    let out: Uint8Array;
    if (block.stored) {
      if (block.length > room) throw new Error(`lz4: frame decompresses to more than ${limit} bytes`);
      out = data.slice(block.start, block.start + block.length);
    } else {
      if (room <= 0) throw new Error(`lz4: frame decompresses to more than ${limit} bytes`);
      const dict = block.header.independent || window.byteLength === 0 ? undefined : window;
      try {
        out = decodeBlock(data, block, room, dict);
      } catch (error) {
        throw new Error(`lz4: a block is corrupt or decompresses to more than ${limit} bytes`, { cause: error });
      }
    }
    parts.push(out);
    total += out.byteLength;
    if (!block.header.independent) window = Buffer.concat([window, out]).subarray(-(64 * 1024));
  }
  return Buffer.concat(parts, total);
}

/**
 * Decompresses the LZ4 frames in `data` into at most `limit` bytes, or into exactly `exact` bytes
 * when the size is known, never allocating much more: a size the frame headers cannot reach is
 * refused before any decoding; a single block with a known size (and no checksums) goes to the
 * block decoder, which allocates exactly that; frames whose headers bound them within a block of the limit go to the
 * frame decoder; others are decoded block by block, each capped by what is left.
 * @throws Error when the frames are corrupt, decode to another size than `exact`, or past `limit`
 */
export function lz4DecompressCapped(data: Uint8Array, limit: number, exact?: number): Uint8Array {
  const blocks = frameBlocks(data);
  if (blocks === undefined) throw new Error('lz4: frame header or block headers are corrupt');
  const { bound, blockMax } = boundOf(blocks);
  if (exact !== undefined && exact > limit)
    throw new Error(`lz4: ${exact} bytes declared, more than the ${limit} allowed`);
  if (exact !== undefined && exact > bound)
    throw new Error(`lz4: ${exact} bytes declared, more than its frame can hold (at most ${bound})`);
  const target = Math.min(limit, exact ?? limit);
  let out: Uint8Array;
  // the block decoder skips checksums: frames that carry them keep the frame decoder, which checks them
  const only = blocks.length === 1 ? blocks[0] : undefined;
  const plain = only !== undefined && !only.stored && only.header.blockChecksum + only.header.contentChecksum === 0;
  if (exact !== undefined && plain) out = decodeBlock(data, only!, exact, undefined);
  else if (bound <= target + blockMax)
    out = decompressFrameSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  else out = decodeBlocks(data, blocks, target);
  if (exact !== undefined && out.byteLength !== exact)
    throw new Error(`lz4: frame decompresses to ${out.byteLength} bytes, not the ${exact} bytes declared`);
  if (out.byteLength > limit) throw new Error(`lz4: frame decompresses to more than ${limit} bytes`);
  return out;
}
