/**
 * Dataset inputs: what a file source was pointed at (a path, an array of paths, a glob such as
 * `data/**\/*.parquet`, or a directory) turned into one sorted list of files. Node 20 has no
 * `fs.glob`, and the matcher we need is small (segments, `*`, `?`, `**`, `[...]`, `{a,b}`), so
 * it lives here rather than in a dependency. The order is documented and stable: paths sorted with
 * digit runs compared as numbers (path-order.ts), so the same dataset always yields its rows in the
 * same order, and a writer's `part-2` before its `part-10`.
 */
import { readdir, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { IoError, ValidationError, describeValue } from '../core/errors.ts';
import { comparePaths } from './path-order.ts';
import { expectNoHttpGlob, isHttpUrl, isRemoteUrl, isS3Url, parseS3Url } from './remote/url.ts';
import type { DatasetFile } from './dataset-file.ts';

export type { DatasetFile } from './dataset-file.ts';

/** What a file source accepts as its input: one path, a glob, a directory, or an array of those. */
export type DatasetInput = string | readonly string[];

/** True when `pattern` uses glob syntax (`*`, `?`, `[`, `{`). */
export function isGlob(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/**
 * True when `input` names more than one file or needs expanding (an array, a glob, an existing
 * directory, or a remote URL, which the dataset layer opens). A plain local path to a file (or
 * to nothing yet) is not a dataset: the single-file source reads it and reports its own errors.
 */
export function isDatasetInput(input: unknown): boolean {
  if (Array.isArray(input) || isRemoteUrl(input)) return true;
  if (typeof input !== 'string') return false;
  if (isGlob(input)) return true;
  try {
    return statSync(input).isDirectory();
  } catch {
    return false;
  }
}

/** Throws a ValidationError unless `input` is a non-empty path or a non-empty array of them. */
export function expectDatasetInput(input: unknown, path = 'path'): DatasetInput {
  if (typeof input === 'string' && input.length > 0) {
    if (isS3Url(input)) parseS3Url(input);
    if (isHttpUrl(input)) expectNoHttpGlob(input);
    return input;
  }
  if (Array.isArray(input) && input.length > 0 && input.every((p) => typeof p === 'string' && p.length > 0)) {
    for (const p of input as string[]) {
      if (isS3Url(p)) parseS3Url(p);
      if (isHttpUrl(p)) expectNoHttpGlob(p);
    }
    return input as readonly string[];
  }
  throw new ValidationError(
    `Expected \`${path}\` to be a path, a glob, a directory or a non-empty array of them, got ${describeValue(input)}`,
  );
}

/** The documented order of a dataset's files (path-order.ts). */
function byPath(a: DatasetFile, b: DatasetFile): number {
  return comparePaths(a.path, b.path);
}

/** Hidden and marker entries that dataset writers leave beside data (`.tmp`, `_SUCCESS`, `_temporary`). */
function isHidden(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

/** All files under `dir`, recursively, skipping hidden and marker entries. */
async function walk(dir: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new IoError(`Cannot list directory: ${(error as Error).message}`, { dir }, { cause: error });
  }
  for (const entry of entries) {
    if (isHidden(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else if (entry.isFile() || entry.isSymbolicLink()) out.push(full);
  }
}

/** Turns one glob segment into a regular expression source (no `/` inside). */
function segmentSource(segment: string): string {
  let out = '';
  let braces = 0;
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '\\' && i + 1 < segment.length) {
      out += escapeChar(segment[++i]!);
    } else if (ch === '*') {
      out += '[^/]*';
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '{') {
      braces++;
      out += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (ch === ',' && braces > 0) {
      out += '|';
    } else {
      out += escapeChar(ch);
    }
  }
  if (braces > 0) throw new ValidationError(`Glob has an unclosed \`{\`: ${describeValue(segment)}`);
  return out;
}

function escapeChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * Compiles a glob (relative to its fixed prefix, `/`-separated) into a RegExp over relative
 * paths. `**` as a whole segment matches zero or more directories; `*` and `?` never match `/`
 * nor a leading `.` (hidden files are left out, as shells do).
 */
export function globToRegExp(pattern: string): RegExp {
  const segments = pattern.split('/');
  let source = '';
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    const last = s === segments.length - 1;
    if (segment === '**') {
      source += last ? '(?:(?!\\.)[^/]*(?:/(?!\\.)[^/]*)*)?' : '(?:(?!\\.)[^/]*/)*';
      continue;
    }
    const hiddenGuard = segment.startsWith('.') ? '' : '(?!\\.)';
    source += hiddenGuard + segmentSource(segment) + (last ? '' : '/');
  }
  return new RegExp(`^${source}$`);
}

/** Splits a glob into its fixed directory prefix and the pattern below it. */
export function splitGlob(pattern: string): { base: string; rest: string } {
  const normal = sep === '\\' ? pattern.replace(/\\/g, '/') : pattern;
  const segments = normal.split('/');
  let fixed = 0;
  while (fixed < segments.length - 1 && !isGlob(segments[fixed]!)) fixed++;
  const base = segments.slice(0, fixed).join('/');
  return { base: base === '' && normal.startsWith('/') ? '/' : base, rest: segments.slice(fixed).join('/') };
}

async function expandOne(input: string): Promise<DatasetFile[]> {
  // an HTTP URL is one file (no listing over HTTP; `?` is a query, not a glob)
  if (isHttpUrl(input)) {
    expectNoHttpGlob(input);
    return [{ path: input, root: '' }];
  }
  if (isS3Url(input)) {
    // the S3 client loads when an s3:// input is listed, not with `import 'spillway'`
    const { expandS3 } = await import('./remote/s3-list.ts');
    return expandS3(input, { isGlob, split: splitGlob, compile: globToRegExp });
  }
  if (isGlob(input)) {
    const { base, rest } = splitGlob(input);
    const root = base === '' ? '.' : base;
    const matcher = globToRegExp(rest);
    const found: string[] = [];
    try {
      await walkForGlob(root, '', matcher, rest.includes('**') ? Infinity : rest.split('/').length, found);
    } catch (error) {
      if ((error as IoError).cause && ((error as IoError).cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return found.map((rel) => ({ path: base === '' ? rel : join(base, rel), root: base }));
  }
  let info;
  try {
    info = await stat(input);
  } catch (error) {
    throw new IoError(`Cannot read dataset input: ${(error as Error).message}`, { file: input }, { cause: error });
  }
  if (info.isDirectory()) {
    const files: string[] = [];
    await walk(input, files);
    return files.map((path) => ({ path, root: input }));
  }
  return [{ path: input, root: '' }];
}

/** Walks `root` down to `depth` levels, keeping relative paths that `matcher` accepts. */
async function walkForGlob(root: string, rel: string, matcher: RegExp, depth: number, out: string[]): Promise<void> {
  const dir = rel === '' ? root : join(root, rel);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new IoError(`Cannot list directory: ${(error as Error).message}`, { dir }, { cause: error });
  }
  for (const entry of entries) {
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (depth > 1 && !isHidden(entry.name)) await walkForGlob(root, child, matcher, depth - 1, out);
    } else if (matcher.test(child)) {
      out.push(child);
    }
  }
}

/**
 * Expands `input` into the dataset's files, sorted by path, without duplicates. A glob that
 * matches nothing, or a directory without files, is an IoError (a silent empty read hides typos).
 * @throws IoError when a path cannot be read or nothing matches
 */
export async function expandDataset(input: DatasetInput): Promise<DatasetFile[]> {
  const inputs = typeof input === 'string' ? [input] : input;
  const seen = new Set<string>();
  const files: DatasetFile[] = [];
  for (const one of inputs) {
    for (const file of await expandOne(one)) {
      if (seen.has(file.path)) continue;
      seen.add(file.path);
      files.push(file);
    }
  }
  files.sort(byPath);
  if (files.length === 0)
    throw new IoError(`No files match ${describeValue(input)}`, {
      file: typeof input === 'string' ? input : input.join(', '),
    });
  return files;
}
