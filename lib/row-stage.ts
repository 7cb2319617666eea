/**
 * The machinery behind `map`, `filter`, `flatMap` and plain functions placed in a pipeline: a
 * batch transform that applies a per-row function (see lib/row-function.ts).
 */
import { BatchTransform } from './transform.ts';
import { applyRowFunction, type RowFunction, type RowMode } from './row-function.ts';
import { expectFunction, expectInteger, expectOptions } from './validate.ts';

/** Options of the per-row transforms. */
export interface RowOptions {
  /** For async functions: how many calls may be in flight at once (default 1). Order is kept. */
  concurrency?: number;
  /** Name used in stats and errors. */
  name?: string;
}

/** Builds a per-row transform; used by map, filter and flatMap. */
export function rowStage(mode: RowMode, fn: RowFunction, options: RowOptions | undefined, defaultName: string): BatchTransform {
  expectFunction(fn, 'fn');
  const opts = expectOptions(options);
  const concurrency = expectInteger(opts.concurrency, 'options.concurrency', 1);
  const name = opts.name ?? defaultName;
  return new BatchTransform({
    name,
    transform(batch, push, context) {
      const rows = applyRowFunction(batch, fn, mode, concurrency, name, context);
      if (Array.isArray(rows)) push(batch.withRows(rows));
      else return rows.then((done) => push(batch.withRows(done)));
    },
  });
}
