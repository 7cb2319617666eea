/**
 * lz4-napi's frame functions, its native addon loaded on first call (lib/core/lazy-require.ts).
 * Same names and signatures as `import { ... } from 'lz4-napi'`.
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
/** lz4-napi's `decompressFrame` (on the libuv pool). */
export const decompressFrame: Lz4['decompressFrame'] = (...args) => lz4().decompressFrame(...args);
