/**
 * Column names of a CSV file as a list: rows are objects, so two columns with one name (or an
 * empty name) would share a key and lose values. Names are made unique as DuckDB makes them, and
 * the header can be checked against the names a caller expects.
 */
import { CsvParseError } from '../../../core/errors.ts';

/**
 * A header cell as DuckDB names its column: surrounding spaces removed (quoted or not; tabs and
 * other whitespace are kept, as DuckDB keeps them), so ` name ` names the column `name`.
 */
export function trimName(raw: string): string {
  let start = 0;
  let end = raw.length;
  while (start < end && raw.charCodeAt(start) === 32) start++;
  while (end > start && raw.charCodeAt(end - 1) === 32) end--;
  return start === 0 && end === raw.length ? raw : raw.slice(start, end);
}

/**
 * Unique names, DuckDB's rule: surrounding spaces are removed ({@link trimName}); an empty name
 * becomes `column<i>` (`i` its 0-based position); a name already taken gets `_1`, `_2`, ... (the
 * first suffix not taken), so `a,a,,a_1` gives `a, a_1, column2, a_1_1` and `a, a ` gives `a, a_1`.
 * Names compare case-insensitively, as DuckDB's and spillway's Parquet reader compare them
 * (`id,ID,Id` gives `id, ID_1, Id_2`).
 */
export function uniqueNames(header: readonly string[]): string[] {
  const taken = new Set<string>();
  const next = new Map<string, number>();
  return header.map((raw, i) => {
    const trimmed = trimName(raw);
    const base = trimmed === '' ? `column${i}` : trimmed;
    const key = base.toLowerCase();
    let name = base;
    let k = next.get(key) ?? 1;
    while (taken.has(name.toLowerCase())) name = `${base}_${k++}`;
    next.set(key, k);
    taken.add(name.toLowerCase());
    return name;
  });
}

/** Names for a file without header, as DuckDB's: `column0`, `column1`, ... (zero-padded to the widest index). */
export function defaultNames(count: number): string[] {
  const width = String(Math.max(0, count - 1)).length;
  return Array.from({ length: count }, (_, i) => `column${String(i).padStart(width, '0')}`);
}

/** Renamed columns as `original -> new` pairs, for stats. */
export function renamed(header: readonly string[], names: readonly string[]): string[] {
  return header.flatMap((raw, i) => (raw === names[i] ? [] : [`${JSON.stringify(raw)} -> ${names[i]}`]));
}

/**
 * A header hook: checks the header against `expected` (when given: the header as written, or with
 * its names' surrounding spaces removed, must equal it), then makes its names unique.
 */
export function headerHook(
  expected: readonly string[] | undefined,
  stage: string,
  where: string,
  seen: (header: string[], names: string[]) => void,
): (header: string[]) => string[] {
  return (header) => {
    if (expected !== undefined) {
      const same =
        header.length === expected.length && header.every((h, i) => h === expected[i] || trimName(h) === expected[i]);
      if (!same)
        throw new CsvParseError(`header [${header.join(',')}] differs from the expected [${expected.join(',')}]`, {
          stage,
          file: where,
          line: 1,
        });
    }
    const names = uniqueNames(header);
    seen(header, names);
    return names;
  };
}
