/**
 * snappy's compressors, its native addon loaded on first call (lib/core/lazy-require.ts).
 * Same names and signatures as `import { compress, compressSync } from 'snappy'`.
 */
import { lazyRequire } from '../core/lazy-require.ts';

type Snappy = typeof import('snappy');
const snappy = lazyRequire<Snappy>('snappy');

/** snappy's `compress` (on the libuv pool). */
export const compress: Snappy['compress'] = (...args) => snappy().compress(...args);
/** snappy's `compressSync`. */
export const compressSync: Snappy['compressSync'] = (...args) => snappy().compressSync(...args);
