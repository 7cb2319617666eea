/**
 * A CommonJS package loaded on first use rather than at import, so that `import 'spillway'` does
 * not load native addons (lz4, zstd, snappy) or helpers a run may never need (issue 17 item 8).
 * `require` of a CommonJS package returns the same exports object an `import` of it does, so a
 * value from either is the same instance.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let require: NodeRequire | undefined;

/**
 * The `require` packages load through, made on first use. Run from source, a worker thread
 * imports its entry bundled into a `data:` URL (workers/pool/entry-bundle.ts), which
 * `createRequire` refuses: made at import, it failed every task of such a worker (2026-12-07,
 * once the rows-to-Arrow builder reached node:crypto through here). There, builtins resolve
 * from anywhere and packages from the working directory.
 */
function baseRequire(): NodeRequire {
  const url = import.meta.url;
  return createRequire(url.startsWith('file:') ? url : pathToFileURL(join(process.cwd(), 'noop.js')));
}

/** Returns a function that loads `name` on its first call and returns the same exports after. */
export function lazyRequire<M>(name: string): () => M {
  let loaded: M | undefined;
  return () => (loaded ??= (require ??= baseRequire())(name) as M);
}
