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
