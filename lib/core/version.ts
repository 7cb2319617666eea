/**
 * The package's version, read once from its package.json. The file sits a different number of
 * levels above this module in a checkout (lib/core/) and in the package (dist/lib/core/), so the
 * lookup walks up until it finds spillway's own package.json.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** spillway's version from its package.json, or `'unknown'` when none is found. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  for (let up = '../'; up.length <= 3 * 5; up += '../') {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'spillway' && typeof pkg.version === 'string') {
        cached = pkg.version;
        break;
      }
    } catch {
      // not at this level: try the next one up
    }
  }
  return cached;
}
