/**
 * bullmq and ioredis are optional peer dependencies: spillway installs without them, and only the
 * distributed backend needs them. They load here, on first use, and their absence is a coded
 * error that says what to install rather than Node's bare ERR_MODULE_NOT_FOUND.
 */
import { UnsupportedError } from '../../core/errors.ts';

const PEERS = ['bullmq', 'ioredis'] as const;

/** The message a missing peer dependency gives (tests match on it). */
export const MISSING_PEER_MESSAGE =
  'The distributed backend needs the optional peer dependencies bullmq and ioredis: npm install bullmq ioredis';

function isMissing(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND') return false;
  const message = typeof e.message === 'string' ? e.message : '';
  // either peer: bullmq itself imports ioredis. A module missing inside a package (a broken
  // install) is not the same as the package missing, and keeps Node's error.
  return PEERS.some((name) => message.includes(`'${name}'`) || message.includes(`"${name}"`));
}

/** Loads a peer with `load` (a literal `import()`, so its types are known), or throws the coded error. */
async function loadPeer<M>(load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (error) {
    if (isMissing(error)) throw new UnsupportedError(MISSING_PEER_MESSAGE, {}, { cause: error });
    throw error;
  }
}

/** The bullmq module, or an {@link UnsupportedError} asking to `npm install bullmq ioredis`. */
export function loadBullmq(): Promise<typeof import('bullmq')> {
  return loadPeer(() => import('bullmq'));
}

/** The ioredis module, or an {@link UnsupportedError} asking to `npm install bullmq ioredis`. */
export function loadIoredis(): Promise<Pick<typeof import('ioredis'), 'Redis'>> {
  return loadPeer(() => import('ioredis'));
}
