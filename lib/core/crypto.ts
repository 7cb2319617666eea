/**
 * `node:crypto`, loaded on first use: importing it costs about 1.4 MB of RSS (OpenSSL's set-up),
 * and spillway needs it only for temporary names and checkpoint hashes, during a run (issue 17
 * item 8: a light import).
 */
import { lazyRequire } from './lazy-require.ts';

/** The `node:crypto` module, loaded on the first call. */
export const nodeCrypto = lazyRequire<typeof import('node:crypto')>('node:crypto');
