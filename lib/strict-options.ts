/**
 * Strict options: a misspelled option (`batchsize` for `batchSize`) used to be accepted silently
 * and the stage ran with its default. Factories call {@link rejectUnknownOptions} with the keys
 * they know; an unknown key is a ValidationError naming it and the closest known key.
 */
import { ValidationError } from './errors.ts';

/**
 * Throws a ValidationError for the first key of `options` that is not in `knownKeys` (keys whose
 * value is `undefined` are ignored), suggesting the closest known key when one is near enough.
 *
 * @param options the caller's options object
 * @param knownKeys every key the factory accepts
 * @param where the option path prefix for the message, e.g. `fromCsv options`
 */
export function rejectUnknownOptions(options: object, knownKeys: Iterable<string>, where: string): void {
  const known = knownKeys instanceof Set ? (knownKeys as Set<string>) : new Set(knownKeys);
  for (const key of Object.keys(options)) {
    if (known.has(key) || (options as Record<string, unknown>)[key] === undefined) continue;
    const near = closestKey(key, known);
    const hint = near === undefined ? '' : `; did you mean \`${near}\`?`;
    throw new ValidationError(`Unknown option \`${key}\` in ${where}${hint}`);
  }
}

/** The known key closest to `key` (case-insensitive, underscores ignored, then edit distance), if close enough. */
export function closestKey(key: string, known: Iterable<string>): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/_/g, '');
  const folded = fold(key);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = candidate === key ? 0 : fold(candidate) === folded ? 0.5 : editDistance(folded, fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** Levenshtein distance, two rows of the table. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
