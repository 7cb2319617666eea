/**
 * Partitioned output: `toParquet(dir, { partitionBy: ['date', 'symbol'] })` (and toCsv, toArrow)
 * writes a hive tree (`dir/date=2026-11-30/symbol=ABC/part-0.parquet`) that DuckDB, Polars and
 * Spark read with hive partitioning. Each partition's rows go to the format's ordinary
 * single-file sink, so every file is written and committed exactly as a single-file write is.
 * What this adds: routing rows to partitions, a bound on open files (the least recently used
 * writer is closed and the partition continues in `part-1`, ...), a bound on buffered bytes
 * (the writer holding the most is closed first, also when the memory governor asks to spill),
 * and an atomic commit of the whole tree: files are written under a temporary directory beside
 * the target, renamed over it on success, removed on failure or abort.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { Batch, type Row } from '../core/batch.ts';
import { BatchSink } from '../core/sink.ts';
import { STAGE, type StageContext } from '../core/stage.ts';
import { IoError, ValidationError, describeValue } from '../core/errors.ts';
import { expectInteger, expectOneOf, parseBytes } from '../core/validate.ts';
import { isBatchSelectable, selectRows } from '../formats/arrow/select.ts';
import { RowViewer, isViewable } from '../core/row-view.ts';
import { HIVE_NULL } from './hive.ts';

/** Options every file sink accepts for partitioned output. */
export interface PartitionOptions {
  /** Columns whose values name the directories (`key=value`), in this order. Their values are not written into the files. */
  partitionBy?: readonly string[];
  /** Most files open at once (default 64); the least recently used is closed when another is needed. */
  maxOpenFiles?: number;
  /** Most bytes (estimated from the batches) held by open writers before the largest is closed (default '256MB'). */
  maxBufferedBytes?: number | string;
  /**
   * File name in each partition directory: `{i}` is the file's number in its partition (0, 1, ...),
   * `{uuid}` a per-run id (default `part-{i}.<ext>`; with `existing: 'append'`, `part-{uuid}-{i}.<ext>`).
   */
  fileName?: string;
  /**
   * When the target directory exists: `'error'` (default), `'overwrite'` (the new tree replaces it
   * whole), or `'append'` (new files are added beside the old ones).
   */
  existing?: 'error' | 'overwrite' | 'append';
}

/** The partition-only option names, stripped before the single-file sink sees its options. */
export const PARTITION_OPTION_KEYS = [
  'partitionBy',
  'maxOpenFiles',
  'maxBufferedBytes',
  'fileName',
  'existing',
] as const;

/** Output of a partitioned write. */
export interface PartitionedResult {
  /** The directory written. */
  path: string;
  rows: number;
  /** Bytes of the files written. */
  bytes: number;
  /** Files written, relative to `path`, sorted. */
  files: string[];
  /** Distinct partitions written. */
  partitions: number;
  /** Times a writer was closed early (open-file or memory bound) and its partition went on in a new file. */
  rotations: number;
}

/** What a format provides: its single-file sink and its file extension. */
export interface PartitionFormat {
  name: string;
  extension: string;
  openFile(path: string): BatchSink<unknown>;
}

interface Settings {
  partitionBy: string[];
  maxOpenFiles: number;
  maxBufferedBytes: number;
  fileName: string;
  existing: 'error' | 'overwrite' | 'append';
}

/** True when `options` asks for a partitioned write. */
export function isPartitionedRequest(options: unknown): boolean {
  return (
    options !== null && typeof options === 'object' && (options as Record<string, unknown>).partitionBy !== undefined
  );
}

/** Validates the partition options (synchronously) and splits them from the format's own. */
export function splitPartitionOptions<O extends object>(
  options: O | undefined,
  extension: string,
): { settings: Settings; rest: Omit<O, (typeof PARTITION_OPTION_KEYS)[number]> } {
  const { partitionBy, maxOpenFiles, maxBufferedBytes, fileName, existing, ...rest } = (options ?? {}) as O &
    PartitionOptions;
  if (
    !Array.isArray(partitionBy) ||
    partitionBy.length === 0 ||
    partitionBy.some((c) => typeof c !== 'string' || c.length === 0) ||
    new Set(partitionBy).size !== partitionBy.length
  ) {
    throw new ValidationError(
      `Expected \`options.partitionBy\` to be a non-empty array of distinct column names, got ${describeValue(partitionBy)}`,
    );
  }
  const mode = expectOneOf(existing, 'options.existing', ['error', 'overwrite', 'append'] as const, 'error');
  const pattern = fileName ?? (mode === 'append' ? `part-{uuid}-{i}.${extension}` : `part-{i}.${extension}`);
  if (
    typeof pattern !== 'string' ||
    !pattern.includes('{i}') ||
    /[/\\]/.test(pattern) ||
    pattern.startsWith('.') ||
    pattern.startsWith('_')
  ) {
    throw new ValidationError(
      `Expected \`options.fileName\` to be a file name with \`{i}\` (no directories, not hidden), got ${describeValue(fileName)}`,
    );
  }
  if (mode === 'append' && fileName !== undefined && !fileName.includes('{uuid}')) {
    throw new ValidationError(
      "`options.fileName` must contain `{uuid}` with existing: 'append' (else a second run would overwrite the first run's files)",
    );
  }
  return {
    settings: {
      partitionBy: [...partitionBy],
      maxOpenFiles: expectInteger(maxOpenFiles, 'options.maxOpenFiles', 64),
      maxBufferedBytes:
        maxBufferedBytes === undefined ? 256 * 1024 * 1024 : parseBytes(maxBufferedBytes, 'options.maxBufferedBytes'),
      fileName: pattern,
      existing: mode,
    },
    rest: rest as Omit<O, (typeof PARTITION_OPTION_KEYS)[number]>,
  };
}

/** A partition value as a directory name segment: `key=value`, URL-encoded; null as `__HIVE_DEFAULT_PARTITION__`. */
export function partitionSegment(key: string, value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = HIVE_NULL;
  else if (value instanceof Date) {
    const iso = value.toISOString();
    text = iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  } else text = String(value);
  if (text === '') text = HIVE_NULL;
  const encode = (s: string): string =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${encode(key)}=${text === HIVE_NULL ? text : encode(text)}`;
}

/** One open file of a partition. */
interface OpenWriter {
  readonly sink: BatchSink<unknown>;
  /** Bytes handed to it (estimated). */
  bytes: number;
  /** Its last write, for the LRU. */
  used: number;
}

/** Drives a BatchSink by hand: write resolves when the sink took the batch. */
function writeTo(sink: BatchSink<unknown>, batch: Batch): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.write(batch, (error) => (error ? reject(error) : resolve()));
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A sink that writes a hive tree under `dir` (see the module comment).
 * @param dir the target directory
 */
export function partitionedSink(
  dir: string,
  settings: Settings,
  format: PartitionFormat,
): BatchSink<PartitionedResult> {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new ValidationError(`Expected \`path\` to be a directory path, got ${describeValue(dir)}`);
  const name = format.name;
  const runId = randomUUID().slice(0, 8);
  const temp = join(dirname(dir), `.${basename(dir)}.tmp-${runId}`);
  const writers = new Map<string, OpenWriter>();
  const parts = new Map<string, number>();
  const files: string[] = [];
  let buffered = 0;
  let clock = 0;
  let rows = 0;
  let rotations = 0;
  let started: Promise<void> | undefined;
  let context: StageContext | undefined;

  async function start(): Promise<void> {
    if (settings.existing === 'error' && (await exists(dir)))
      throw new IoError("The target directory exists (options.existing is 'error')", { stage: name, dir });
    await mkdir(temp, { recursive: true });
  }

  function fileFor(key: string): string {
    const n = parts.get(key) ?? 0;
    parts.set(key, n + 1);
    const file = settings.fileName.replaceAll('{i}', String(n)).replaceAll('{uuid}', runId);
    return key === '' ? file : join(key, file);
  }

  async function close(key: string): Promise<void> {
    const writer = writers.get(key);
    if (!writer) return;
    writers.delete(key);
    buffered -= writer.bytes;
    writer.sink.end();
    await finished(writer.sink);
  }

  async function open(key: string): Promise<OpenWriter> {
    let writer = writers.get(key);
    if (writer) return writer;
    if (writers.size >= settings.maxOpenFiles) {
      let oldest: string | undefined;
      let at = Infinity;
      for (const [k, w] of writers) if (w.used < at) [oldest, at] = [k, w.used];
      rotations++;
      await close(oldest!);
    }
    const rel = fileFor(key);
    await mkdir(dirname(join(temp, rel)), { recursive: true });
    const sink = format.openFile(join(temp, rel));
    // its errors reach us through write callbacks and finished(); an 'error' event must not go unheard
    sink.on('error', () => undefined);
    if (context) sink[STAGE].attach(context);
    files.push(rel);
    writer = { sink, bytes: 0, used: clock };
    writers.set(key, writer);
    return writer;
  }

  /** Closes the writers holding the most bytes until the budget (or half of it, under memory pressure) holds. */
  async function relieve(): Promise<void> {
    const level = context?.governor?.level;
    const budget =
      level === 'spill' || level === 'pause' || level === 'critical'
        ? settings.maxBufferedBytes / 2
        : settings.maxBufferedBytes;
    while (buffered > budget && writers.size > 0) {
      let largest: string | undefined;
      let most = -1;
      for (const [k, w] of writers) if (w.bytes > most) [largest, most] = [k, w.bytes];
      rotations++;
      await close(largest!);
    }
  }

  /** Splits a batch into partition key -> batch without the partition columns. */
  function split(batch: Batch): Map<string, Batch> {
    const by = settings.partitionBy;
    const out = new Map<string, Batch>();
    if (batch.hasArrow && !batch.hasRows && isViewable(batch.arrow) && isBatchSelectable(batch.arrow)) {
      const rb = batch.arrow;
      for (const col of by)
        if (rb.schema.fields.every((f) => f.name !== col))
          throw new ValidationError(
            `Expected \`options.partitionBy\` to name columns of the data; ${describeValue(col)} is not one (${rb.schema.fields.map((f) => f.name).join(', ')})`,
          );
      const viewer = new RowViewer<Record<string, unknown>>(rb);
      const groups = new Map<string, number[]>();
      for (let i = 0; i < rb.numRows; i++) {
        viewer.index = i;
        const key = by.map((c) => partitionSegment(c, viewer.view[c])).join('/');
        let list = groups.get(key);
        if (!list) groups.set(key, (list = []));
        list.push(i);
      }
      const keep = rb.schema.fields
        .map((f, i) => [f.name, i] as const)
        .filter(([n]) => !by.includes(n))
        .map(([, i]) => i);
      for (const [key, indices] of groups)
        out.set(key, Batch.fromArrow(selectRows(rb, indices).selectAt(keep), batch.position));
      return out;
    }
    const groups = new Map<string, Row[]>();
    for (const row of batch.rows as Record<string, unknown>[]) {
      for (const col of by)
        if (!(col in row))
          throw new ValidationError(
            `Expected \`options.partitionBy\` to name columns of the data; ${describeValue(col)} is not in row ${JSON.stringify(Object.keys(row))}`,
          );
      const key = by.map((c) => partitionSegment(c, row[c])).join('/');
      const copy: Record<string, unknown> = {};
      for (const k in row) if (!by.includes(k)) copy[k] = row[k];
      let list = groups.get(key);
      if (!list) groups.set(key, (list = []));
      list.push(copy);
    }
    for (const [key, list] of groups) out.set(key, new Batch(list, batch.position));
    return out;
  }

  async function commit(): Promise<void> {
    if (settings.existing === 'append' && (await exists(dir))) {
      for (const rel of files) {
        await mkdir(dirname(join(dir, rel)), { recursive: true });
        await rename(join(temp, rel), join(dir, rel));
      }
      await rm(temp, { recursive: true, force: true });
      return;
    }
    if (await exists(dir)) {
      if (settings.existing === 'error')
        throw new IoError("The target directory appeared while writing (options.existing is 'error')", {
          stage: name,
          dir,
        });
      const old = join(dirname(dir), `.${basename(dir)}.old-${runId}`);
      await rename(dir, old);
      await rename(temp, dir);
      await rm(old, { recursive: true, force: true });
      return;
    }
    await rename(temp, dir);
  }

  async function abortAll(error: Error | null): Promise<void> {
    const open = [...writers.values()];
    writers.clear();
    for (const w of open) w.sink.destroy(error ?? new Error('partitioned write aborted'));
    await Promise.all(open.map((w) => finished(w.sink).catch(() => undefined)));
    await rm(temp, { recursive: true, force: true });
  }

  return new BatchSink<PartitionedResult>({
    name,
    async write(batch, ctx) {
      context = ctx;
      started ??= start();
      await started;
      for (const [key, part] of split(batch)) {
        const writer = await open(key);
        writer.used = ++clock;
        const bytes = part.bytes;
        writer.bytes += bytes;
        buffered += bytes;
        rows += part.numRows;
        await writeTo(writer.sink, part);
      }
      await relieve();
    },
    async finish(ctx) {
      context = ctx;
      started ??= start();
      await started;
      for (const key of [...writers.keys()]) await close(key);
      try {
        await commit();
      } catch (error) {
        await rm(temp, { recursive: true, force: true });
        throw error instanceof IoError
          ? error
          : new IoError(
              `Cannot commit the partitioned tree: ${(error as Error).message}`,
              { stage: name, dir },
              { cause: error },
            );
      }
      files.sort();
      let bytes = 0;
      for (const rel of files) bytes += (await stat(join(dir, rel))).size;
      return { path: dir, rows, bytes, files, partitions: new Set(files.map((f) => dirname(f))).size, rotations };
    },
    async abort(error) {
      await abortAll(error);
    },
  });
}

/** Lists the files of a written tree (sorted, relative), for tests and `inspect`. */
export async function listTree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
    const child = rel === '' ? entry.name : join(rel, entry.name);
    if (entry.isDirectory()) out.push(...(await listTree(dir, child)));
    else out.push(child);
  }
  return out.sort();
}
