/**
 * The rows of one partition held in memory until it may open a file (partition-files.ts). They
 * arrive as many small batches (a 10,000-row input batch split 500 ways gives parts of about 20
 * rows), and a small Arrow batch costs several kilobytes of JS objects beyond its data: 40,000
 * such parts of a 1M-row input held 370 MB of heap for 71 MB of data. So every
 * {@link COMPACT_PARTS} parts are gathered into one batch, and every {@link COMPACT_PARTS} of
 * those into one again: each row is copied about twice, and a partition holds few batches.
 */
import { Batch } from '../core/batch.ts';
import { UnsupportedError } from '../core/errors.ts';
import type { RecordBatch, Schema } from 'apache-arrow';
import { lazyImport } from '../core/lazy-import.ts';

// apache-arrow loads only once a run meets Arrow (issue 17's light import)
const gatherModule = lazyImport(() => import('../operators/gather.ts'));

/** Batches gathered into one at a time. */
export const COMPACT_PARTS = 8;

/** Rows of a partition with no open file, in arrival order; see the module comment. */
export class HeldRows {
  /** The held batches, in order. */
  readonly batches: Batch[] = [];
  /** Their bytes (Batch.bytes). */
  bytes = 0;
  /** Trailing batches not gathered yet. */
  #loose = 0;
  /** False once a gather was refused (a type with no gather code): the batches stay as they came. */
  #compacts = true;

  /** Holds `part` after the ones before it. */
  async add(part: Batch): Promise<void> {
    this.batches.push(part);
    this.bytes += part.bytes;
    if (++this.#loose < COMPACT_PARTS || !this.#compacts) return;
    await this.#compact(this.batches.length - this.#loose);
    this.#loose = 0;
    if (this.batches.length >= COMPACT_PARTS) await this.#compact(0);
  }

  /** Replaces the batches from `from` on by one batch of their rows, when they are alike. */
  async #compact(from: number): Promise<void> {
    const parts = this.batches.slice(from);
    const merged = await mergeBatches(parts);
    if (merged === undefined) {
      this.#compacts = false;
      return;
    }
    this.batches.splice(from, parts.length, merged);
    for (const part of parts) this.bytes -= part.bytes;
    this.bytes += merged.bytes;
  }
}

/** One batch of `parts`' rows in order: rows joined, or Arrow gathered; undefined when they differ in form or schema. */
async function mergeBatches(parts: readonly Batch[]): Promise<Batch | undefined> {
  const first = parts[0]!;
  if (parts.every((p) => p.hasRows && !p.hasArrow))
    return new Batch(
      parts.flatMap((p) => p.rows),
      first.position,
    );
  if (!parts.every((p) => p.hasArrow && !p.hasRows)) return undefined;
  const sources = parts.map((p) => p.arrow);
  const schema = sources[0]!.schema;
  if (!sources.every((rb) => sameFields(rb.schema, schema))) return undefined;
  const length = sources.reduce((n, rb) => n + rb.numRows, 0);
  const from = new Int32Array(length);
  const rows = new Int32Array(length);
  let k = 0;
  sources.forEach((rb: RecordBatch, s) => {
    for (let i = 0; i < rb.numRows; i++, k++) {
      from[k] = s;
      rows[k] = i;
    }
  });
  const { gatherRows } = await gatherModule.load();
  try {
    return Batch.fromArrow(gatherRows(schema, sources, { from, rows, length }), first.position);
  } catch (error) {
    if (error instanceof UnsupportedError) return undefined;
    throw error;
  }
}

/** Same column names, types and nullability, in order. */
function sameFields(a: Schema, b: Schema): boolean {
  if (a === b) return true;
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => {
    const g = b.fields[i]!;
    return f.name === g.name && f.nullable === g.nullable && String(f.type) === String(g.type);
  });
}
