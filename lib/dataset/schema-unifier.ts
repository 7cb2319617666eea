/** Arrow's schema widening: {@link Unifier.conform} needs it loaded for Arrow batches (multi-file.ts loads it per file). */
export const unifierArrow = lazyImport(() => import('../formats/arrow/convert.ts'));

/**
 * Schema unification across the files of a dataset source (multi-file.ts): one schema for all
 * files, widened as batches arrive, or a SchemaMismatchError naming both files.
 */
import type { Schema } from 'apache-arrow';
import { valueFamily } from '../formats/values.ts';
import { Batch, type Row } from '../core/batch.ts';
import { SchemaMismatchError, UnsupportedError } from '../core/errors.ts';
import { lazyImport } from '../core/lazy-import.ts';

/**
 * Schema unification across files: Arrow batches are widened with `unifySchemas` and cast;
 * row batches are checked by value kind (numbers and bigints are one kind) and get the columns
 * earlier files had as null. A change that cannot widen is a SchemaMismatchError naming the file
 * that set the column's type and the file that changed it.
 */
export class Unifier {
  /** Planned from every file's footer when they differ (dataset-plan.ts), else the first Arrow batch's. */
  #schema: Schema | undefined;
  readonly #fieldFile = new Map<string, string>();
  readonly #kinds = new Map<string, { kind: string; file: string }>();
  #columns: string[] = [];
  readonly #columnSet = new Set<string>();
  readonly #stage: string;

  /** @param planned the schema planned from every file's footer, when they differ (dataset-plan.ts) */
  constructor(stage: string, planned?: Schema) {
    this.#stage = stage;
    this.#schema = planned;
  }

  /** `batch` of `file` in the schema of the files so far (widened or cast; missing row columns as null). */
  conform(batch: Batch<Row>, file: string): Batch<Row> {
    if (batch.hasArrow && !batch.hasRows) return this.#conformArrow(batch, file);
    return this.#conformRows(batch, file);
  }

  #conformArrow(batch: Batch<Row>, file: string): Batch<Row> {
    const rb = batch.arrow;
    this.#schema = widenAcrossFiles(this.#schema, rb.schema, file, this.#fieldFile, this.#stage);
    const cast = unifierArrow.loaded!.castRecordBatch(rb, this.#schema);
    return cast === rb ? batch : (Batch.fromArrow(cast, batch.position) as Batch<Row>);
  }

  #conformRows(batch: Batch<Row>, file: string): Batch<Row> {
    const rows = batch.rows as Record<string, unknown>[];
    if (rows.length === 0 || Array.isArray(rows[0])) return batch;
    const present = new Set<string>();
    for (const name of Object.keys(rows[0]!)) {
      present.add(name);
      if (!this.#columnSet.has(name)) {
        this.#columnSet.add(name);
        this.#columns.push(name);
      }
      let kind: string | undefined;
      for (let i = 0; i < rows.length && kind === undefined; i++)
        kind = rows[i]![name] == null ? undefined : valueFamily(rows[i]![name]);
      if (kind === undefined) continue;
      const seen = this.#kinds.get(name);
      if (seen === undefined) this.#kinds.set(name, { kind, file });
      else if (seen.kind !== kind) {
        throw new SchemaMismatchError(
          `Column "${name}" holds ${seen.kind} values in ${seen.file} and ${kind} values in ${file}`,
          { stage: this.#stage, file },
        );
      }
    }
    const missing = this.#columns.filter((c) => !present.has(c));
    if (missing.length > 0) for (const row of rows) for (const c of missing) if (!(c in row)) row[c] = null;
    return batch;
  }
}

/**
 * `current` widened to hold `next`, the schema of `file` (`next` itself when there is no
 * `current`); `fieldFile` records the file that first had each column. Needs {@link unifierArrow}
 * loaded. Throws SchemaMismatchError when a column cannot widen, naming the column, the file that
 * first had it and `file`.
 */
export function widenAcrossFiles(
  current: Schema | undefined,
  next: Schema,
  file: string,
  fieldFile: Map<string, string>,
  stage: string,
): Schema {
  let unified = next;
  if (current !== undefined) {
    try {
      unified = unifierArrow.loaded!.unifySchemas(current, next);
    } catch (error) {
      if (!(error instanceof UnsupportedError)) throw error;
      const column = /Column "([^"]*)"/.exec(error.message)?.[1];
      const first = (column && fieldFile.get(column)) ?? 'an earlier file';
      throw new SchemaMismatchError(
        `${error.message}: ${first} and ${file} do not agree`,
        { stage, file },
        { cause: error },
      );
    }
  }
  for (const f of unified.fields) if (!fieldFile.has(f.name)) fieldFile.set(f.name, file);
  return unified;
}
