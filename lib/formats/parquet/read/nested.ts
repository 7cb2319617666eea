/**
 * A nested column (list, map, struct, VARIANT) read page by page and assembled batch by batch.
 * Each leaf chunk has its own page stream and cursor (`leaf-cursor.ts`): pages are decoded into
 * compact level and value arrays (`nested-page.ts`, `levels.ts`), and `take(n)` assembles the
 * next `n` rows from them (`assemble.ts`), a row ending where a leaf's repetition level is 0. The
 * JS values of a batch are the only ones built, so memory is the batch's rows and, per leaf, the
 * compact arrays of the pages it spans (a few bytes a value), not nested arrays of whole pages:
 * DuckDB's one-page row groups of 12 million list values took 800 MB that way. A page of more
 * values than `maxNestedPageValues` is still refused, as a safety bound.
 */
import { getMaxDefinitionLevel, getMaxRepetitionLevel } from 'hyparquet/src/schema.js';
import type { DecodedArray, SchemaTree } from 'hyparquet';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { FormatError, SpillwayError } from '../../../core/errors.ts';
import { planNode, slot } from './assemble.ts';
import type { NodePlan } from './assemble.ts';
import { LeafCursor } from './leaf-cursor.ts';
import type { PageStream } from './pages.ts';

/**
 * 64-bit values as doubles when every one is a safe integer: rows then hold small integers in
 * place instead of one heap BigInt per value (a tenth of the memory and garbage).
 */
function narrow(values: DecodedArray): DecodedArray {
  if (!(values instanceof BigInt64Array || values instanceof BigUint64Array)) return values;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const n = Number(values[i]!);
    if (!Number.isSafeInteger(n)) return values;
    out[i] = n;
  }
  return out;
}

/** One leaf of a nested column: its dotted path, pages and decoder. */
export interface NestedLeaf {
  readonly path: string;
  readonly pages: PageStream;
  readonly decoder: ColumnDecoder;
}

/** Rows skipped per step when a read resumes inside a row group. */
const SKIP_STEP = 10_000;

/**
 * Reads the nested top-level column `node` (or a top-level repeated leaf) `n` rows at a time.
 * @param skip rows dropped at the start (resume inside a row group)
 * @param rows the row group's row count
 * @param narrowInt64 turn pages of safe 64-bit integers into numbers (not when bigints are asked for)
 * @param maxPageValues refuse (UnsupportedError) a page holding more values than this
 */
export function nestedCursor(
  node: SchemaTree,
  leaves: readonly NestedLeaf[],
  where: string,
  file: string,
  skip: number,
  rows: number,
  narrowInt64: boolean,
  maxPageValues: number,
  pagesStartRows = false,
): { take(n: number): Promise<DecodedArray> } {
  const cursors = leaves.map(
    (l) =>
      new LeafCursor(
        l.pages,
        {
          decoder: l.decoder,
          maxRep: getMaxRepetitionLevel(l.decoder.schemaPath),
          maxDef: getMaxDefinitionLevel(l.decoder.schemaPath),
          ...(narrowInt64 ? { shape: narrow } : {}),
        },
        { where, file, maxPageValues, pagesStartRows },
      ),
  );
  const index = new Map(leaves.map((l, i) => [l.path, i]));
  let plan: NodePlan;
  try {
    plan = planNode(node, (path) => index.get(path));
  } catch (error) {
    throw new FormatError(`Parquet ${where}: ${(error as Error).message}`, { file }, { cause: error });
  }
  let delivered = 0;
  let skipped = skip === 0;

  /** Decodes pages until every leaf holds `n` whole rows. */
  async function hold(n: number): Promise<void> {
    await Promise.all(cursors.map((c) => c.fill(n)));
    if (!cursors.every((c) => c.rowsHeld(n)))
      throw new FormatError(`Parquet ${where} holds fewer values than its row group's rows`, { file });
  }

  function assemble(n: number): unknown[] {
    const out = new Array<unknown>(n);
    try {
      for (let i = 0; i < n; i++) {
        for (const c of cursors)
          if (c.atEnd || c.rep[c.pos] !== 0) throw new Error(`row ${i} of the batch does not start at a row`);
        out[i] = slot(plan, cursors);
      }
    } catch (error) {
      if (error instanceof SpillwayError) throw error;
      throw new FormatError(
        `Cannot assemble Parquet ${where}: ${(error as Error).message}`,
        { file },
        { cause: error },
      );
    }
    for (const c of cursors) c.consumed(n);
    return out;
  }

  return {
    async take(n: number): Promise<DecodedArray> {
      if (!skipped) {
        // rows before the resume point are walked over a step at a time, not assembled
        for (let left = skip; left > 0; ) {
          const k = Math.min(left, SKIP_STEP);
          await hold(k);
          for (const c of cursors) c.skipRows(k);
          left -= k;
        }
        skipped = true;
      }
      await hold(n);
      const values = assemble(n);
      delivered += n;
      if (skip + delivered >= rows) await Promise.all(cursors.map((c) => c.finish()));
      return values;
    },
  };
}
