/**
 * A CommonJS package loaded on first use rather than at import, so that `import 'spillway'` does
 * not load native addons (lz4, zstd, snappy) or helpers a run may never need (issue 17 item 8).
 * `require` of a CommonJS package returns the same exports object an `import` of it does, so a
 * value from either is the same instance.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Returns a function that loads `name` on its first call and returns the same exports after. */
export function lazyRequire<M>(name: string): () => M {
  let loaded: M | undefined;
  return () => (loaded ??= require(name) as M);
}
