/** `mapBatch`: a function over a whole batch of rows at once. */
import type { Row } from '../lib/core/batch.ts';
import { BatchTransform } from '../lib/core/transform.ts';
import { StageError } from '../lib/core/errors.ts';
import { expectFunction, expectOptions, optionKeys } from '../lib/core/validate.ts';

/** Options of {@link mapBatch}. */
export interface MapBatchOptions {
  /** Name used in stats and errors (default `mapBatch`). */
  name?: string;
}

/** Every option of MapBatchOptions, for strict validation. */
const KNOWN_MAP_BATCH_OPTIONS = optionKeys<MapBatchOptions>({ name: true });
/**
 * Calls `fn` once per batch with the batch's rows; it returns the output rows (sync or async).
 * Use it for work that is cheaper per batch than per row (vectorised maths, bulk lookups).
 *
 * @example
 * ```ts
 * mapBatch(async (rows) => enrich(rows, await lookup(rows.map((r) => r.id))))
 * ```
 */
export function mapBatch<I = Record<string, unknown>, O = Row>(
  fn: (rows: I[]) => O[] | Promise<O[]>,
  options?: MapBatchOptions,
): BatchTransform {
  expectFunction(fn, 'fn');
  const name = expectOptions(options, 'options', KNOWN_MAP_BATCH_OPTIONS).name ?? 'mapBatch';
  return new BatchTransform({
    name,
    capabilities: { identity: String(fn) },
    async transform(batch, push) {
      let out: O[];
      try {
        out = await fn(batch.rows as I[]);
      } catch (error) {
        throw new StageError(
          `${name} threw: ${error instanceof Error ? error.message : String(error)}`,
          { stage: name, file: batch.position.source, batch: batch.position.index },
          { cause: error },
        );
      }
      if (!Array.isArray(out)) {
        throw new StageError(`${name} must return an array of rows, got ${typeof out}`, {
          stage: name,
          file: batch.position.source,
          batch: batch.position.index,
        });
      }
      push(batch.withRows(out as Row[]));
    },
  });
}
