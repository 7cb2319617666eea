/**
 * Turns what a user lists as stages (spillway stages, Node streams, per-row functions and, first,
 * an iterable of rows) into the streams that run: `pipeline()`'s whole run, ending in a sink, and
 * a join's right input given as a chain, ending in a transform (see source-chain.ts).
 */
import { Readable, Writable, Duplex } from 'node:stream';
import { fun } from 'stream-chain/fun.js';
import { none } from 'stream-chain/defs.js';
import { BatchTransform } from './transform.ts';
import { rowStage } from './row-stage.ts';
import { LooseRows } from './loose-rows.ts';
import { ValidationError } from './errors.ts';
import { isThenable } from './thenable.ts';
import { isStage, STAGE } from './stage.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import type { Row } from './batch.ts';
import type { RowFunction } from './row-function.ts';

/** A per-row function or (async) generator function placed directly in a pipeline. */
export type PipelineFunction = (row: never, index: number) => unknown;

/** True for a Node stream (every spillway stage is one). */
export function isStream(value: unknown): value is Readable | Writable {
  return value instanceof Readable || value instanceof Writable || value instanceof Duplex;
}

/** True for an iterable or async iterable (of rows, as a first stage). */
export function isIterable(value: unknown): value is Iterable<Row> | AsyncIterable<Row> {
  return typeof value === 'object' && value !== null && (Symbol.iterator in value || Symbol.asyncIterator in value);
}

const GENERATOR = Object.getPrototypeOf(function* () {}) as object;
const ASYNC_GENERATOR = Object.getPrototypeOf(async function* () {}) as object;

function isGeneratorFunction(fn: unknown): boolean {
  const proto = Object.getPrototypeOf(fn) as object;
  return proto === GENERATOR || proto === ASYNC_GENERATOR;
}

/** stream-chain passes `undefined` on as a value; in a pipeline it drops the row, as `none` does. */
function dropUndefined(fn: PipelineFunction): (value: unknown) => unknown {
  if (isGeneratorFunction(fn)) return fn as (value: unknown) => unknown;
  const call = fn as (value: unknown) => unknown;
  return (value) => {
    const result = call(value);
    if (result === undefined) return none;
    if (isThenable(result)) return result.then((settled) => (settled === undefined ? none : settled));
    return result;
  };
}

/**
 * The streams for `stages`: a source first (an iterable or a generator function becomes
 * `fromIterable`), consecutive functions fused into one row stage, a foreign transform's output
 * counted as batches, stage names made unique (`map#2`). What ends the list is the caller's to
 * check (a pipeline adds a drain, a chain read as a source needs a Readable). `what` names the
 * caller in errors.
 */
export function buildStreams(stages: readonly unknown[], what = 'pipeline()'): (Readable | Writable)[] {
  const streams: (Readable | Writable)[] = [];
  let functions: PipelineFunction[] = [];
  const flushFunctions = (): void => {
    if (functions.length === 0) return;
    const only = functions[0];
    // one plain function runs directly; several, or a generator, compose through stream-chain
    const fn =
      functions.length === 1 && only && !isGeneratorFunction(only)
        ? only
        : (fun(...functions.map(dropUndefined)) as unknown as RowFunction);
    streams.push(
      rowStage('map', fn as RowFunction, undefined, functions.length === 1 ? only?.name || 'function' : 'functions'),
    );
    functions = [];
  };
  stages.forEach((stage, i) => {
    if (i === 0 && !isStream(stage)) {
      if (isIterable(stage)) streams.push(fromIterable(stage));
      else if (typeof stage === 'function' && isGeneratorFunction(stage))
        streams.push(fromIterable((stage as () => Iterable<Row>)()));
      else
        throw new ValidationError(
          `${what}: the first stage must be a source (a Readable, fromCsv(...), an iterable of rows), got ${typeof stage}`,
        );
      return;
    }
    if (typeof stage === 'function') {
      functions.push(stage as PipelineFunction);
      return;
    }
    flushFunctions();
    if (!isStream(stage))
      throw new ValidationError(
        `${what}: stage ${i} must be a stream, a spillway stage or a function, got ${stage === null ? 'null' : typeof stage}`,
      );
    if (i > 0 && !(stage instanceof Writable))
      throw new ValidationError(`${what}: stage ${i} is a Readable only; only the first stage may be a source`);
    if (!isStage(stage)) checkForeign(stage, i, i === stages.length - 1, what);
    streams.push(stage);
    // a foreign stream's output is normalised to batches (single rows grouped) and counted
    if (!isStage(stage) && stage instanceof Readable) streams.push(new LooseRows(), normaliser(stage));
  });
  flushFunctions();
  uniqueNames(streams);
  return streams;
}

/**
 * Refuses a foreign stream that cannot carry batches where it stands: a byte stream (not in object
 * mode) read from, whose Buffers became rows (`{"type":"Buffer","data":[...]}` in a JSONL file), or
 * written to (a raw Node type error); a Writable that is not also a Readable before the last place.
 */
function checkForeign(stage: Readable | Writable, i: number, last: boolean, what: string): void {
  const readsBytes = stage instanceof Readable && !stage.readableObjectMode;
  if (readsBytes && !(stage instanceof Writable))
    throw new ValidationError(
      `${what}: stage ${i + 1} is a byte stream (a Readable not in object mode): its chunks are bytes, not rows; read it through a source, such as fromCsv(stream), fromJsonl(stream) or fromArrow(stream)`,
    );
  if (stage instanceof Writable && i > 0 && !stage.writableObjectMode)
    throw new ValidationError(
      `${what}: stage ${i + 1} takes bytes (a Writable not in object mode), and stages pass batches of rows; write bytes through a sink, such as toCsv(stream), toJsonl(stream) or toArrow(stream)`,
    );
  if (!last && !(stage instanceof Readable))
    throw new ValidationError(
      `${what}: stage ${i + 1} is a Writable only: only the last stage may be a sink, and stage ${i + 2} comes after it`,
    );
}

/** Names repeated stages `name#2`, `name#3`... so stats tell them apart. */
function uniqueNames(streams: readonly (Readable | Writable)[]): void {
  const names = new Map<string, number>();
  for (const stream of streams) {
    if (!isStage(stream)) continue;
    const stats = stream[STAGE].stats;
    const count = (names.get(stats.name) ?? 0) + 1;
    names.set(stats.name, count);
    if (count > 1) stats.name = `${stats.name}#${count}`;
  }
}

/** Counts and wraps what a foreign stream emits into batches. */
function normaliser(after: Readable | Writable): BatchTransform {
  const name = `${after.constructor.name || 'stream'}`;
  return new BatchTransform({ name, transform: (batch, push) => push(batch) });
}
