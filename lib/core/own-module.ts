/**
 * Where spillway's own thread and process entries are (the Parquet encoder thread, the CSV
 * parser threads, the pool's worker entry, the module probe). A module cannot name them relative
 * to itself: the package is bundled (lib/entry/build.mjs), so the code asking may sit in a shared
 * chunk at the top of dist/ while the entries keep their paths below it. Each entry is found
 * instead by its path from the build root, the first folder above this code that holds it: the
 * checkout when running from source (.ts), dist/ in the package, or a test build (.js).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

/** True when this code runs from the TypeScript sources (through tsx), not from a build. */
export const FROM_SOURCE: boolean = import.meta.url.endsWith('.ts');

const found = new Map<string, URL>();

/**
 * The URL of one of spillway's own modules by its path from the build root without extension,
 * e.g. `ownModule('lib/workers/pool/worker-entry')`.
 * @throws Error when no folder above this code holds it (a broken install)
 */
export function ownModule(path: string): URL {
  let url = found.get(path);
  if (url !== undefined) return url;
  const file = `${path}${FROM_SOURCE ? '.ts' : '.js'}`;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, file);
    if (existsSync(candidate)) {
      url = pathToFileURL(candidate);
      found.set(path, url);
      return url;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(
    `spillway's own module ${file} is missing above ${fileURLToPath(import.meta.url)}: reinstall spillway`,
  );
}
