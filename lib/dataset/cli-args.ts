/**
 * What the CLI needs to know about a dataset argument before reading it: the format of a
 * directory or glob (the extension its files share), told synchronously so argument parsing
 * stays synchronous.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isGlob, splitGlob } from './expand.ts';

/** Formats by file extension, longest first. */
const EXTENSIONS: readonly [string, string][] = [
  ['.csv.gz', 'csv'],
  ['.csv', 'csv'],
  ['.parquet', 'parquet'],
  ['.pq', 'parquet'],
  ['.arrows', 'arrow'],
  ['.arrow', 'arrow'],
  ['.ipc', 'arrow'],
  ['.feather', 'arrow'],
  ['.jsonl.gz', 'jsonl'],
  ['.jsonl.zst', 'jsonl'],
  ['.jsonl', 'jsonl'],
  ['.ndjson', 'jsonl'],
];

/** The format a file name's extension names, if any. */
export function formatOfName(name: string): string | undefined {
  const lower = name.toLowerCase();
  return EXTENSIONS.find(([ext]) => lower.endsWith(ext))?.[1];
}

/**
 * The format of a dataset argument: by its extension (a file or a glob ending in `*.parquet`),
 * else, for a directory, the format of the first visible file found under it (depth-first,
 * sorted). Undefined when it cannot be told.
 */
export function datasetFormatOf(input: string): string | undefined {
  const byName = formatOfName(input);
  if (byName !== undefined) return byName;
  const dir = isGlob(input) ? splitGlob(input).base || '.' : input;
  const find = (d: string, depth: number): string | undefined => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return undefined;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
      if (e.isFile()) {
        const f = formatOfName(e.name);
        if (f) return f;
      } else if (e.isDirectory() && depth < 16) {
        const f = find(join(d, e.name), depth + 1);
        if (f) return f;
      }
    }
    return undefined;
  };
  try {
    if (!statSync(dir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return find(dir, 0);
}
