/**
 * The fuzz suite's child process: reads the cases the parent sends (one IPC message holding a
 * list), each through the reader it names, and reports for each a `start` (so the parent can
 * time it) then a `done` with the outcome: rows and a digest of the values, or the error's
 * class, code and message. Its peak memory per case is sampled, so an allocation the reader
 * trusted from a header shows even when V8's heap limit does not see it (ArrayBuffers).
 * Anything that escapes (an uncaught exception, an unhandled rejection) is reported as a crash.
 */
import { createHash } from 'node:crypto';
import {
  fromArrow,
  fromCsv,
  fromJsonl,
  fromParquet,
  inspectArrow,
  inspectCsv,
  inspectParquet,
  mapBatch,
  openSpill,
  pipeline,
} from '../../index.ts';
import type { BatchSource } from '../../lib/entry/extend.ts';
import { MIDDLE_IDS, type ReaderName } from './targets.ts';

export type { ReaderName };

/** A case as the parent sends it. */
export interface ChildCase {
  readonly id: number;
  readonly reader: ReaderName;
  readonly path: string;
}

/** What a child reports for one case. */
export type ChildOutcome =
  | { readonly kind: 'rows'; readonly rows: number; readonly digest: string }
  | {
      readonly kind: 'error';
      readonly name: string;
      readonly code: string | undefined;
      readonly message: string;
      readonly spillway: boolean;
      readonly file: string | undefined;
    };

/** Messages from the child. */
export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'start'; readonly id: number }
  | {
      readonly type: 'done';
      readonly id: number;
      readonly outcome: ChildOutcome;
      readonly peakRss: number;
      readonly peakBuffers: number;
      readonly ms: number;
    }
  | { readonly type: 'crash'; readonly id: number | undefined; readonly message: string };

function stable(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Uint8Array)
    return `bytes:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Map) return [...value.entries()];
  return value;
}

async function digestSource(source: BatchSource): Promise<ChildOutcome> {
  const hash = createHash('sha1');
  let rows = 0;
  await pipeline(
    source,
    mapBatch((batch: unknown[]) => {
      for (const row of batch) hash.update(JSON.stringify(row, stable) ?? 'undefined');
      rows += batch.length;
      return [];
    }),
    { governor: false },
  );
  return { kind: 'rows', rows, digest: hash.digest('hex') };
}

/** An inspection as one "row": its digest, the file's own path left out (a mutated copy has another). */
async function digestInspection(path: string, inspect: (path: string) => Promise<unknown>): Promise<ChildOutcome> {
  const info = await inspect(path);
  const text = JSON.stringify(info, (key, value) => (value === path ? '<file>' : stable(key, value)));
  return { kind: 'rows', rows: 1, digest: createHash('sha1').update(text).digest('hex') };
}

async function readSpill(dir: string): Promise<ChildOutcome> {
  const spilled = await openSpill(dir);
  const hash = createHash('sha1');
  let rows = 0;
  try {
    for await (const row of spilled.rows()) {
      hash.update(JSON.stringify(row, stable) ?? 'undefined');
      rows++;
    }
  } finally {
    await spilled.dispose({ remove: false });
  }
  return { kind: 'rows', rows, digest: hash.digest('hex') };
}

function run(c: ChildCase): Promise<ChildOutcome> {
  switch (c.reader) {
    case 'parquet-rows':
      return digestSource(fromParquet(c.path));
    case 'parquet-arrow':
      return digestSource(fromParquet(c.path, { output: 'arrow' }));
    case 'parquet-where':
      return digestSource(fromParquet(c.path, { where: MIDDLE_IDS }));
    case 'parquet-inspect':
      return digestInspection(c.path, inspectParquet);
    case 'arrow':
      return digestSource(fromArrow(c.path));
    case 'arrow-inspect':
      return digestInspection(c.path, inspectArrow);
    case 'csv-fast':
      return digestSource(fromCsv(c.path, { parser: 'fast' }));
    case 'csv-parse':
      return digestSource(fromCsv(c.path, { parser: 'csv-parse' }));
    case 'csv-arrow':
      return digestSource(fromCsv(c.path, { output: 'arrow' }));
    case 'csv-inspect':
      return digestInspection(c.path, inspectCsv);
    case 'jsonl':
      return digestSource(fromJsonl(c.path));
    case 'spill':
      return readSpill(c.path);
  }
}

function describeError(error: unknown): ChildOutcome {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; context?: { file?: unknown; dir?: unknown } };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const file =
    typeof e?.context?.file === 'string'
      ? e.context.file
      : typeof e?.context?.dir === 'string'
        ? e.context.dir
        : undefined;
  return {
    kind: 'error',
    name: typeof e?.name === 'string' ? e.name : typeof error,
    code,
    message: typeof e?.message === 'string' ? e.message : String(error),
    spillway: code !== undefined && code.startsWith('ERR_SPILLWAY_'),
    file,
  };
}

let current: number | undefined;
const send = (message: ChildMessage): void => {
  process.send!(message);
};
const crash = (error: unknown): void => {
  send({
    type: 'crash',
    id: current,
    message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  process.exit(70);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

let peakRss = 0;
let peakBuffers = 0;
const sample = (): void => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakBuffers = Math.max(peakBuffers, m.arrayBuffers + m.external);
};
const sampler = setInterval(sample, 20);

process.on('message', (message: { cases: ChildCase[] }) => {
  void (async () => {
    for (const c of message.cases) {
      current = c.id;
      peakRss = 0;
      peakBuffers = 0;
      send({ type: 'start', id: c.id });
      const started = performance.now();
      let outcome: ChildOutcome;
      try {
        outcome = await run(c);
      } catch (error) {
        outcome = describeError(error);
      }
      sample();
      send({ type: 'done', id: c.id, outcome, peakRss, peakBuffers, ms: performance.now() - started });
    }
    current = undefined;
    clearInterval(sampler);
    process.disconnect();
  })();
});
send({ type: 'ready' });
